// netdef::INetwork implemented with TensorRT: every call of the replay becomes the matching
// nvinfer1::INetworkDefinition call on a strongly typed network (createNetworkV2 with
// kSTRONGLY_TYPED on TensorRT 10.x; on 11.x strongly typed is the only mode and the flag is
// deprecated, so none is passed). One source for 10.x and 11.x: the version macros are checked only
// where the APIs differ (the creation flag; addNMS's overloads), and no enum value is written as a number.
//
// Mapping (layer names are set by the replay through ILayer::setName; a call that needs several
// TensorRT layers names the extra ones "<layer>/<suffix>"):
//   addConvolution  addConvolutionNd (kernel and bias Weights in the input's dtype), setStrideNd,
//                   setPrePadding/setPostPadding, setDilationNd, setNbGroups
//   addConvolutionInt8  explicit quantization: a 0-D float32 constant "<layer>/input_scale" and
//                   IDequantizeLayer "<layer>/input_dequantize" (to float32) on the int8 input; the
//                   int8 kernel as a constant "<layer>/kernel" and its per-output-channel scales
//                   "<layer>/kernel_scale", dequantized on axis 0 ("<layer>/kernel_dequantize");
//                   addConvolutionNd with empty kernel Weights and setInput(1, kernel), the float32
//                   bias as Weights. TensorRT fuses the pattern into an int8 convolution. Weights names
//                   (refit) are the kernel's, its scales' and the bias's.
//   addActivation   IActivationLayer; SiLU as x * sigmoid(x): kSIGMOID "<layer>" + kPROD "<layer>/mul"
//   addSlice        addSlice; a size of -1 (the dynamic batch) becomes a shape tensor
//                   (setInput(2, ...)): shape(x) * mask + fixed, layers "<layer>/shape",
//                   "<layer>/size_mask", "<layer>/size_masked", "<layer>/size_fixed", "<layer>/size"
//   addShuffle      setReshapeDimensions (a -1 on an axis where the input has the batch becomes 0:
//                   copy that dimension), setSecondTranspose
//   addResize       kNEAREST, setScales, setCoordinateTransformation(kASYMMETRIC), setNearestRounding(kFLOOR) (as ONNX Resize with Ultralytics' Upsample)
//   addSoftmax      setAxes(1 << axis); addConcatenation setAxis; addPooling addPoolingNd
//   addQuantize / addDequantize  the overload taking the output DataType, setAxis per channel
//   addNMS          INMSLayer (int32 indices: addNMS with DataType::kINT32 from 10.14, where the
//                   three-argument overload is deprecated; before, the three-argument one, whose
//                   indices are int32), setBoundingBoxFormat, setTopKBoxLimit; its scalar inputs are
//                   0-D constants "<layer>/max_output_boxes_per_class" (int32, input 2),
//                   "<layer>/iou_threshold" and "<layer>/score_threshold" (float32, setInput 3 and 4)
//   markOutput      the tensor renamed to the output's name, then markOutput
// Output tensors are named "<layer>_output_<i>" as the RecordingNetwork names them. Every TensorRT
// layer also gets the graph layer's name as its metadata (ILayer::setMetadata), which the engine
// inspector reports for fused layers.
//
// Weights: every Weights handed in is copied into memory this object owns (STYLE.md point 5: one
// owner for all weight memory until the engine is built) and named with setWeightsName after its
// Ultralytics state_dict name, so an engine built with kREFIT can be refitted by name. Keep this
// object alive until buildSerializedNetwork returns.
//
// Checks: each add* checks its inputs as a strongly typed network needs them (the shape rules of
// replay/shape_rules.h, shared with the RecordingNetwork) before calling TensorRT, and compares
// TensorRT's inferred output dims with those rules. A TensorRT call that returns null or false is
// netdef::Error(ERR_BACKEND) quoting TensorRT's last logged error; the replay prefixes every error
// with "<Kind> layer '<name>': ".
#pragma once

#include <NvInfer.h>

#include <memory>
#include <string>
#include <vector>

#include "../replay/network.h"
#include "trt_loader.h"

namespace netdef::trt {

nvinfer1::DataType toTrt(DType type);
DType fromTrt(nvinfer1::DataType type);  // throws ERR_BACKEND for types netdef does not have
nvinfer1::Dims toTrt(const Dims& dims);
Dims fromTrt(const nvinfer1::Dims& dims);

class TrtNetwork final : public INetwork {
 public:
  // Creates the strongly typed network from `builder`; `logger` is the one the builder was created
  // with (its last error is quoted in messages). Both must outlive this object.
  TrtNetwork(nvinfer1::IBuilder& builder, Logger& logger);
  ~TrtNetwork() override;

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

  nvinfer1::INetworkDefinition& definition() { return *network_; }
  // The network's inputs as the replay declared them (name, dtype, dims with -1 for the batch).
  struct Input {
    std::string name;
    DType type;
    Dims dims;
  };
  const std::vector<Input>& inputs() const { return inputs_; }

 private:
  class Tensor;
  class Layer;
  struct Part {
    nvinfer1::ILayer* layer;
    std::string suffix;  // "" for the layer named after the call, "/mul", "/shape", ...
  };

  Tensor& own(ITensor& tensor, const char* call);
  // Wraps the layers of one call: `parts` in order, the last one's outputs are the call's outputs
  // (checked against `expected`).
  ILayer* finish(const char* call, std::vector<Part> parts, const std::vector<Dims>& expected);
  nvinfer1::ILayer* check(nvinfer1::ILayer* layer, const char* call);
  // Copies the weights into owned memory; the result points at the copy.
  nvinfer1::Weights keep(const Weights& weights);
  nvinfer1::Weights keepBytes(nvinfer1::DataType type, const void* data, size_t bytes, int64_t count);
  void nameWeights(const nvinfer1::Weights& weights, const std::string& name, const char* call);
  nvinfer1::ITensor& shapeConstant(std::vector<Part>& parts, const std::string& suffix, const std::vector<int64_t>& values);
  // A 0-D constant (a scalar input such as NMS's thresholds), appended to `parts` as "<layer><suffix>".
  nvinfer1::ITensor& scalarConstant(std::vector<Part>& parts, const std::string& suffix, nvinfer1::DataType type, const void* value, size_t bytes);

  Logger& logger_;
  std::unique_ptr<nvinfer1::INetworkDefinition> network_;
  std::vector<std::unique_ptr<Tensor>> tensors_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<std::unique_ptr<unsigned char[]>> weightMemory_;
  std::vector<Input> inputs_;
};

}  // namespace netdef::trt
