// activation: y = act(x + bias[c]) elementwise, act in {silu, sigmoid, relu}, the convolution
// epilogue. x and y are float32 or float16 (computed in float32, stored rounded to nearest even),
// viewed as [batch, channels, spatial] (NCHW with spatial = H*W); bias is optional (`channels`
// values of x's dtype), and y may equal x (in place). 16-byte loads and stores where the pointers
// are aligned and (with a bias) spatial is a multiple of the vector width; scalar otherwise.
//
// Test: native/tests/ops_activation.cu (CPU reference in double; fp32 1e-6, fp16 1e-3 relative).
#pragma once

#include "op_common.cuh"

namespace netdef::cuda::ops {

struct ActivationParams {
  ir::Activation op = ir::Activation::Silu;
  ir::DType dtype = ir::DType::Float32;
  const void* x = nullptr;
  void* y = nullptr;           // may equal x
  const void* bias = nullptr;  // optional: `channels` values of dtype
  int64_t batch = 1, channels = 1, spatial = 1;
};

void launchActivation(const ActivationParams& p, cudaStream_t stream);

}  // namespace netdef::cuda::ops
