// The convolution epilogue: y = act(y + bias[c]) + residual in place on a conv output, act in
// {none, SiLU, sigmoid, ReLU}, the residual (a tensor of y's shape, or none) added after the
// activation, float32 or float16 (computed in float32), NCHW or NHWC. 16-byte vectors: in
// NHWC a vector holds kVector consecutive channels of one pixel and adds a 16-byte bias vector
// (channels % kVector == 0); in NCHW a vector lies inside one channel's plane (pixels % kVector
// == 0); any other shape runs one element per thread. y may be a channel range of a wider tensor
// (storageChannels), and so may the residual (residualStorageChannels). Used after cuDNN's legacy convolution
// (the fused cuDNN graph tactic needs no epilogue).
//
// Test: native/tests/engine_test.cu (every conv case, NCHW and NHWC, bias with and without
// activation, is compared with a CPU reference).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "program.h"

namespace netdef::cuda {

struct ConvEpilogueParams {
  ir::DType dtype = ir::DType::Float32;
  Layout layout = Layout::kRowMajor;
  FusedActivation activation = FusedActivation::kNone;
  void* y = nullptr;
  const void* bias = nullptr;  // `channels` values of dtype, or null
  int64_t batch = 1, channels = 1, pixels = 1;  // pixels = H * W
  // Channel count of the storage y lies in (a channel-range view of a wider tensor, whose batch
  // and pixel strides use it); 0 or `channels`: y is dense.
  int64_t storageChannels = 0;
  const void* residual = nullptr;  // y's shape and dtype, or null
  int64_t residualStorageChannels = 0;
};

void launchConvEpilogue(const ConvEpilogueParams& p, cudaStream_t stream);

}  // namespace netdef::cuda
