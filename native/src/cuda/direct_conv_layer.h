// One convolution layer on the engine's direct convolution kernel (ops/direct_conv.cuh): the
// layers direct_conv_rule.h picks (few input or output channels: YOLOv8's stem and DFL convolution),
// float or int8. It reads its input in the layout and dtype the graph has it in (NCHW float32
// network input included; an int8 convolution quantizes a float input as it reads it) and writes its
// output in its own layout (NHWC in channels-last mode), with bias, activation and residual in
// the same kernel. Its one tactic (ConvTactic::Kind::kDirect) is timed like any candidate, so
// that ConvLayer can set it against cuDNN's where both could run (same layout and dtype in and out).
//
// Test: native/tests/ops_direct_conv.cu (kernel), native/tests/engine_test.cu (through the engine).
#pragma once

#include <cuda_runtime_api.h>

#include <string>

#include "conv_geometry.h"

namespace netdef::cuda {

struct ConvTactic;

class DirectConvLayer {
 public:
  // True when the rule picks this geometry (direct_conv_rule.h).
  static bool applies(const ConvGeometry& g);

  // Throws ERR_INVALID_ARGUMENT "<name>: ..." when the geometry is not one the kernel runs.
  DirectConvLayer(const std::string& name, const ConvGeometry& g);

  // Its tactic, timed at `batch` (timeIt false: untimed).
  ConvTactic tune(cudaStream_t stream, const ConvBuffers& b, int64_t batch, bool timeIt) const;
  void enqueue(cudaStream_t stream, const ConvBuffers& b, int64_t batch) const;
  // "netdef:direct_conv(nchw->nhwc, float32 in, bias+silu)".
  std::string kernelName() const;

 private:
  std::string name_;
  ConvGeometry g_;
};

}  // namespace netdef::cuda
