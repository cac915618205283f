// dequantize: y = float(q) * scale (ONNX DequantizeLinear, zero point 0), q int8, y float32 or
// float16 (the float32 product rounded to nearest even). Scales per tensor (channels == 1) or per
// channel along one axis, q viewed as [outer, channels, inner]; scales lives on the device.
//
// Test: native/tests/ops_quantize.cu (exact against a CPU loop).
#pragma once

#include "quantize.cuh"

namespace netdef::cuda::ops {

struct DequantizeParams {
  ir::DType to = ir::DType::Float32;  // of y
  const int8_t* x = nullptr;
  void* y = nullptr;
  const float* scales = nullptr;  // device memory, `channels` values
  int64_t count = 0;
  int64_t channels = 1;
  int64_t inner = 1;
};

void launchDequantize(const DequantizeParams& p, cudaStream_t stream);

}  // namespace netdef::cuda::ops
