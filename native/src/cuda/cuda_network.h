// CudaNetwork: the CUDA engine's INetwork. Each add* call checks its inputs, infers the output
// shapes (with the dynamic batch) and records one op into a Program; weights are copied (in the
// layer's dtype: a convolution's kernel and bias are converted to its input's dtype), so the
// caller's views need to live only during the call. take() hands the Program to the builder.
//
// Test: native/tests/engine_test.cu builds its networks through this class.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "../replay/network.h"
#include "program.h"

namespace netdef::cuda {

class CudaNetwork final : public INetwork {
 public:
  CudaNetwork();
  ~CudaNetwork() override;

  ITensor* addInput(const std::string& name, DType type, const Dims& dims) override;
  ILayer* addConstant(const Dims& dims, const Weights& weights) override;
  ILayer* addConvolution(ITensor& input, int64_t outChannels, const ConvolutionParams& params, const Weights& kernel,
                         const Weights& bias) override;
  // int8 input, int8 KCRS kernel, float32 per-output-channel kernel scales and bias; float32 output
  // (the build may fold a following Quantize into it: int8_conv_pass.h). Runs on the igemm kernel.
  ILayer* addConvolutionInt8(ITensor& input, float inputScale, int64_t outChannels, const ConvolutionParams& params, const Weights& kernel,
                             const Weights& kernelScales, const Weights& bias) override;
  ILayer* addActivation(ITensor& input, ActivationType type) override;
  ILayer* addElementWise(ITensor& a, ITensor& b, ElementWiseOperation op) override;
  ILayer* addConcatenation(const std::vector<ITensor*>& inputs, int axis) override;
  ILayer* addSlice(ITensor& input, const Dims& start, const Dims& size, const Dims& stride) override;
  ILayer* addPooling(ITensor& input, const PoolingParams& params, PoolingType type) override;
  ILayer* addResize(ITensor& input, const std::vector<float>& scales) override;
  ILayer* addShuffle(ITensor& input, const Dims& reshape, const std::vector<int>& permutation) override;
  ILayer* addSoftmax(ITensor& input, int axis) override;
  ILayer* addMatrixMultiply(ITensor& a, ITensor& b) override;
  ILayer* addCast(ITensor& input, DType to) override;
  ILayer* addQuantize(ITensor& input, ITensor& scale, int axis, DType to) override;
  ILayer* addDequantize(ITensor& input, ITensor& scale, int axis, DType to) override;
  // Not implemented: always ERR_INVALID_ARGUMENT saying to run NMS on the host or use TensorRT.
  ILayer* addNMS(ITensor& boxes, ITensor& scores, const NmsParams& params) override;
  void markOutput(ITensor& tensor, const std::string& name) override;

  // The recorded program (the network is empty afterwards). Throws when nothing is marked as output.
  Program take();

  class Tensor;
  class Layer;

 private:
  Tensor& own(ITensor& t, const char* role);
  Tensor* newTensor(const std::string& name, DType type, std::vector<int64_t> dims);
  ILayer* record(OpAttrs attrs, const std::vector<Tensor*>& inputs, const std::vector<std::vector<int64_t>>& outputShapes,
                 DType outputType);
  int32_t addWeights(const Weights& w, DType as, int64_t expectedCount, const std::string& what);
  std::string nextLabel(const char* kind) const;

  Program program_;
  std::vector<std::unique_ptr<Tensor>> tensors_;
  std::vector<std::unique_ptr<Layer>> layers_;
};

}  // namespace netdef::cuda
