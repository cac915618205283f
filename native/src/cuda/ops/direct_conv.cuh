// direct_conv: a 2-D convolution computed directly on CUDA cores, for the layers tensor-core
// implicit GEMM serves badly: few input channels (the stem, C = 3), where a GEMM's reduction
// dimension C x R x S (27) is mostly padding, or few output channels (the DFL's 16 -> 1), where
// its other dimension is. direct_conv_rule.h says which layers run it.
//
//   y[n, k, oh, ow] = act(sum_{c, r, s} x[n, c, oh*sh - ph + r*dh, ow*sw - pw + s*dw] * w[k, c, r, s] + bias[k]) + residual[n, k, oh, ow]
//
// (cells outside x count as 0). x, y and the residual are addressed through strides in elements
// (batch, channel, row, column), so any layout or channel-range view works: the stem reads the
// NCHW network input and writes NHWC for the tensor-core convolutions after it, with no Reformat.
// For a float convolution x is float32 or float16 whatever the convolution's dtype (a float32
// input's Cast folded in); w [K, C, R, S] (KCRS), bias [K], y and the residual are in the
// convolution's dtype, float32 or float16 (int8 convolutions below). Computed in float32: float32 convolutions are exact to float32 rounding (FMA order
// aside), as cuDNN's FMA math is; SiLU and sigmoid use the fast exp and reciprocal
// (fused_activation.cuh, about 1e-6 relative).
//
// An int8 convolution (dtype Int8: int8 weights, float32 bias, per-output-channel weightScales):
//
//   acc[n, k, oh, ow] = sum_{c, r, s} q(x[...]) * w[k, c, r, s]      (an exact integer)
//   y = act(fma(acc, inputScale * weightScales[k], bias[k]))          in float32, as the igemm epilogue
//
// then y is requantized at outputScale when outDtype is int8 (IEEE division, round half to even,
// saturate), or rounded to float16, or kept (float32). q(x) is x itself for an int8 input, and for a
// float input x quantized at inputScale as the Quantize op does (a Quantize folded in,
// int8_conv_pass.h), so the network input's Quantize and Reformat run nothing. The products and
// their sum are integers below 2^24 (kDirectConvMaxPatch taps of at most 128 x 128), so the float32
// accumulation is exact whatever its order: the result is the integer reference's bit for bit.
// No residual (the engine runs such int8 convolutions on igemm).
//
// One kernel family, templated on the input, weight and output types and the activation.
//
// Work split: one thread per output pixel holds its receptive field (C x R x S <= kDirectConvMaxPatch
// values) in registers; the block stages kDirectConvChannelTile output channels' weights in shared
// memory (channel-minor, so that a thread reads the weights of kDirectConvGroup channels with two
// 16-byte loads), and each thread produces kDirectConvGroup channels at a time. Where y's channels
// are contiguous (NHWC) and aligned, a group is stored as one or two vectors of up to 16 bytes. The
// stem's field (C = 3, 3x3) and the DFL's (C = 16, 1x1) are compile-time shapes (direct_conv.cu's
// Field): their taps' offsets, bounds tests and weight addresses are constants, where other fields
// read them from per-tap tables.
//
// Test: native/tests/ops_direct_conv.cu (float32 and float16, float32 input into float16, NCHW and
// NHWC outputs, channel-range views, strides, dilation, padding, residual, every activation,
// against a CPU loop; int8 convolutions with float inputs quantized as read and int8 inputs, int8,
// float16 and float32 outputs, against the exact integer reference).
#pragma once

#include "../direct_conv_rule.h"
#include "op_common.cuh"

namespace netdef::cuda::ops {

// Output channels a block stages in shared memory at once, and that a thread computes together.
inline constexpr int64_t kDirectConvChannelTile = 64;
inline constexpr int64_t kDirectConvGroup = 8;

struct DirectConvParams {
  ir::DType inDtype = ir::DType::Float32;   // x's: float32, float16, or int8 for an int8 convolution
  ir::DType dtype = ir::DType::Float32;     // w's (and a float convolution's bias), float32, float16 or int8
  ir::DType outDtype = ir::DType::Float32;  // y's and the residual's: dtype for a float convolution
  FusedActivation activation = FusedActivation::kNone;
  const void* x = nullptr;
  const void* w = nullptr;
  const void* bias = nullptr;      // or null (float32 for an int8 convolution)
  const void* residual = nullptr;  // or null (float convolutions only)
  void* y = nullptr;
  // An int8 convolution's scales: the input's (a float input is quantized at it), the weights' per
  // output channel (K float32), and the output's when outDtype is int8.
  const float* weightScales = nullptr;
  float inputScale = 0, outputScale = 0;
  int64_t batch = 1, inChannels = 1, height = 1, width = 1;
  int64_t outChannels = 1, outHeight = 1, outWidth = 1;
  int64_t kernel[2] = {1, 1}, stride[2] = {1, 1}, dilation[2] = {1, 1};
  int64_t padding[2] = {0, 0};  // top, left (the output size says how far the bottom and right go)
  // Element strides of batch, channel, row and column.
  int64_t xStrides[4] = {}, yStrides[4] = {}, residualStrides[4] = {};
};

// ERR_INVALID_ARGUMENT for what the kernel cannot run (dtypes, C x R x S > kDirectConvMaxPatch,
// null pointers, non-positive sizes or scales, an int8 convolution's residual); ERR_BACKEND when
// the launch fails.
void launchDirectConv(const DirectConvParams& p, cudaStream_t stream);

}  // namespace netdef::cuda::ops
