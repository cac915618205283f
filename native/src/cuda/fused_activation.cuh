// The activation a convolution's epilogue applies (FusedActivation), on the float32 compute value:
// device code shared by the cuDNN epilogue (conv_epilogue.cu) and the direct convolution
// (ops/direct_conv.cu), so both compute it with the same float operations.
//
// Test: native/tests/engine_test.cu (epilogue), native/tests/ops_direct_conv.cu.
#pragma once

#include <type_traits>

#include "program.h"

namespace netdef::cuda {

template <FusedActivation A>
__device__ __forceinline__ float activate(float v) {
  if constexpr (A == FusedActivation::kSilu) return v / (1.0f + expf(-v));
  if constexpr (A == FusedActivation::kSigmoid) return 1.0f / (1.0f + expf(-v));
  if constexpr (A == FusedActivation::kRelu) return fmaxf(v, 0.0f);
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
