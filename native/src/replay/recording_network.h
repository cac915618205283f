// A network that records the calls the replay makes, one line per call, and infers each output's
// type and dims itself (shape_rules.h) so a recording shows what a real network would see. It
// refuses what a strongly typed TensorRT network would (weights of another dtype than the input,
// mismatched element-wise dtypes, shapes that do not fit). Used by recordReplay() and CI tests.
//
// Line format (names and tensor names resolved when lines() is called, after setName):
//   <call> <layer name> [in=<tensor>[,<tensor>...]] [<key>=<value> ...] -> <dtype>[<dims>][, ...]
// Tensors are named <layer name>_output_<i> (graph inputs keep their own name); dims use -1 for the
// dynamic batch; weights print as <name>:<dtype>[<shape>]. For example:
//   addInput images -> float32[-1,3,640,640]
//   addCast images/Cast_float16 in=images to=float16 -> float16[-1,3,640,640]
//   addConvolution /model.0/conv/Conv in=images/Cast_float16_output_0 out=16 k=3x3 s=2x2 d=1x1 p=1,1,1,1 g=1
//       w=model.0.conv.weight:float16[16,3,3,3] b=model.0.conv.bias:float16[16] -> float16[-1,16,320,320]
//   markOutput output0 in=/model.22/Concat_5_output_0 -> float32[-1,84,8400]
//   addNMS /model.22/nms/NonMaxSuppression in=/model.22/nms/Transpose_output_0,/model.22/nms/Transpose_1_output_0
//       box=center_sizes max_per_class=300 iou=0.7 score=0.25 top_k=5000 -> int32[-1,3], int32[]
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "network.h"

namespace netdef {

class RecordingNetwork final : public INetwork {
 public:
  RecordingNetwork();
  ~RecordingNetwork() override;

  ITensor* addInput(const std::string& name, DType type, const Dims& dims) override;
  ILayer* addConstant(const Dims& dims, const Weights& weights) override;
  ILayer* addConvolution(ITensor& input, int64_t outChannels, const ConvolutionParams& params, const Weights& kernel,
                         const Weights& bias) override;
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
  ILayer* addNMS(ITensor& boxes, ITensor& scores, const NmsParams& params) override;
  void markOutput(ITensor& tensor, const std::string& name) override;

  // The calls so far, one line each, in order.
  std::vector<std::string> lines() const;

 private:
  class Tensor;
  class Layer;
  struct Call;
  struct Output {
    DType type;
    Dims dims;
  };
  ILayer* record(const std::string& op, std::vector<ITensor*> inputs, std::string args, const std::vector<Output>& outputs);
  ILayer* record(const std::string& op, std::vector<ITensor*> inputs, std::string args, DType type, const Dims& dims) {
    return record(op, std::move(inputs), std::move(args), {Output{type, dims}});
  }

  std::vector<std::unique_ptr<Tensor>> tensors_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Call> calls_;
};

}  // namespace netdef
