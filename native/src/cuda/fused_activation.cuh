// The activation a convolution's epilogue applies (FusedActivation), on the float32 compute value:
// device code shared by the cuDNN epilogue (conv_epilogue.cu), the direct convolution
// (ops/direct_conv.cu) and the igemm epilogue (igemm/igemm_epilogue.cuh), so all compute it with
// the same float operations. (The standalone activation op, ops/activation.cu, and DetectDecode's
// scores keep expf and an IEEE division.)
//
// Test: native/tests/engine_test.cu (epilogue), native/tests/ops_direct_conv.cu.
#pragma once

#include <type_traits>

#include "program.h"

namespace netdef::cuda {

// SiLU and sigmoid go through the hardware's exp2 and reciprocal approximations (__expf,
// __fdividef): about five instructions where expf and an IEEE division take about twenty, which
// the direct convolution (16 to 80 outputs per pixel, instruction-bound) pays per output. Their
// relative error is about 1e-6 (float32 keeps 1e-5 of a reference in double; float16 rounds at
// 5e-4). Far below the range either saturates (v < -87: exp(-v) overflows to infinity, and
// __fdividef's reciprocal of infinity gives 0), SiLU is -0 and sigmoid 0, as the exact forms give.
template <FusedActivation A>
__device__ __forceinline__ float activate(float v) {
  if constexpr (A == FusedActivation::kSilu) return __fdividef(v, 1.0f + __expf(-v));
  if constexpr (A == FusedActivation::kSigmoid) return __fdividef(1.0f, 1.0f + __expf(-v));
  if constexpr (A == FusedActivation::kRelu) return fmaxf(v, 0.0f);
  return v;
}

// The same with the activation known only at run time (one branch, uniform across a launch).
__device__ __forceinline__ float activate(float v, FusedActivation a) {
  switch (a) {
    case FusedActivation::kSilu: return activate<FusedActivation::kSilu>(v);
    case FusedActivation::kSigmoid: return activate<FusedActivation::kSigmoid>(v);
    case FusedActivation::kRelu: return activate<FusedActivation::kRelu>(v);
    case FusedActivation::kNone: break;
  }
  return v;
}

// Calls fn(std::integral_constant<FusedActivation, A>{}) with A the runtime activation `a`: one
// kernel instantiation per activation.
template <typename Fn>
void withActivation(FusedActivation a, Fn&& fn) {
  switch (a) {
    case FusedActivation::kNone: return fn(std::integral_constant<FusedActivation, FusedActivation::kNone>{});
    case FusedActivation::kSilu: return fn(std::integral_constant<FusedActivation, FusedActivation::kSilu>{});
    case FusedActivation::kSigmoid: return fn(std::integral_constant<FusedActivation, FusedActivation::kSigmoid>{});
    case FusedActivation::kRelu: return fn(std::integral_constant<FusedActivation, FusedActivation::kRelu>{});
  }
}

}  // namespace netdef::cuda
