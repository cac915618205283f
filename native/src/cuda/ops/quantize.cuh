// quantize: y = clamp(round_half_even(x / scale), -128, 127) as int8, zero point 0 (ONNX
// QuantizeLinear). x is float32 or float16 (divided in float32); the scale is per tensor
// (channels == 1) or per channel along one axis, x viewed as [outer, channels, inner] with scale
// index (i / inner) % channels. scales lives on the device; scales must be > 0.
//
// Test: native/tests/ops_quantize.cu (exact against a CPU loop using nearbyint).
#pragma once

#include "op_common.cuh"

namespace netdef::cuda::ops {

struct QuantizeParams {
  ir::DType dtype = ir::DType::Float32;  // of x
  const void* x = nullptr;
  int8_t* y = nullptr;
  const float* scales = nullptr;  // device memory, `channels` values
  int64_t count = 0;              // elements of x
  int64_t channels = 1;           // 1: per tensor; else the quantization axis' size
  int64_t inner = 1;              // per channel: product of the dimensions after the axis
};

void launchQuantize(const QuantizeParams& p, cudaStream_t stream);

// Shared by quantize and dequantize: checks the scale layout against count.
inline void requireScaleLayout(int64_t count, int64_t channels, int64_t inner, const void* scales, const char* op) {
  require(count >= 0, op, "negative count");
  require(channels >= 1, op, "channels must be >= 1");
  require(channels == 1 || (inner >= 1 && count % (channels * inner) == 0), op,
          "count is not a multiple of channels * inner");
  require(count == 0 || scales != nullptr, op, "null scales");
}

}  // namespace netdef::cuda::ops
