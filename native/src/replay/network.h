// The network-definition interface the replay calls, shaped after TensorRT's INetworkDefinition
// (addInput, addConvolution, addActivation, addElementWise, addConcatenation, addSlice, addPooling,
// addResize, addShuffle, addSoftmax, addMatrixMultiply, addCast, addQuantize, addDequantize, addNMS,
// addConstant, markOutput, layer names). Implemented by the CUDA engine's builder, the TensorRT
// adapter, and a recording double for tests. All methods report failure by throwing
// netdef::Error (never abort); tensors and layers are owned by the network.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../ir/graph.h"

namespace netdef {

using ir::DType;

// Dimensions as TensorRT has them: -1 for the dynamic batch, and for a size the data decides (the
// rows of NMS's selected indices).
struct Dims {
  std::vector<int64_t> d;
};

// Weights handed to a layer: a view (the caller keeps the memory alive until the build ends) and
// the name refit finds them by.
struct Weights {
  std::string name;
  DType type = DType::Float32;
  const void* values = nullptr;
  int64_t count = 0;
};

class ITensor {
 public:
  virtual ~ITensor() = default;
  virtual const std::string& name() const = 0;
  virtual DType type() const = 0;
  virtual const Dims& dims() const = 0;
};

class ILayer {
 public:
  virtual ~ILayer() = default;
  virtual void setName(const std::string& name) = 0;
  virtual ITensor* output(int index) = 0;
  virtual int outputCount() const = 0;
};

enum class ActivationType { Sigmoid, Relu, Silu };
enum class ElementWiseOperation { Sum, Sub, Prod, Div, Max, Min };
enum class PoolingType { Max, Average };

struct ConvolutionParams {
  int64_t kernel[2];
  int64_t stride[2];
  int64_t dilation[2];
  int64_t prePadding[2];   // top, left
  int64_t postPadding[2];  // bottom, right
  int64_t groups;
};

enum class BoxFormat { CornerPairs, CenterSizes };  // TensorRT's BoundingBoxFormat

// INMSLayer's settings and scalar inputs (TensorRT takes the three scalars as 0-D tensors; a network
// that needs them as tensors makes the constants itself).
struct NmsParams {
  BoxFormat format;
  int32_t maxOutputBoxesPerClass;
  float iouThreshold;
  float scoreThreshold;
  int32_t topKBoxLimit;
};

struct PoolingParams {
  int64_t window[2];
  int64_t stride[2];
  int64_t prePadding[2];
  int64_t postPadding[2];
};

class INetwork {
 public:
  virtual ~INetwork() = default;
  virtual ITensor* addInput(const std::string& name, DType type, const Dims& dims) = 0;
  virtual ILayer* addConstant(const Dims& dims, const Weights& weights) = 0;
  // bias.count == 0 means no bias.
  virtual ILayer* addConvolution(ITensor& input, int64_t outChannels, const ConvolutionParams& params,
                                 const Weights& kernel, const Weights& bias) = 0;
  // An int8 convolution in TensorRT's explicit-quantization form: int8 input (scale inputScale), int8
  // kernel with one float32 scale per output channel (kernelScales), float32 bias; float32 output
  // acc * inputScale * kernelScales[k] + bias[k]. TensorRT gets Dequantize layers on the input and the
  // kernel constant feeding a float convolution, which its Q/DQ fusion runs as an int8 convolution.
  virtual ILayer* addConvolutionInt8(ITensor& input, float inputScale, int64_t outChannels, const ConvolutionParams& params,
                                     const Weights& kernel, const Weights& kernelScales, const Weights& bias) = 0;
  virtual ILayer* addActivation(ITensor& input, ActivationType type) = 0;
  virtual ILayer* addElementWise(ITensor& a, ITensor& b, ElementWiseOperation op) = 0;
  virtual ILayer* addConcatenation(const std::vector<ITensor*>& inputs, int axis) = 0;
  // start/size/stride per axis; size -1 on the batch axis keeps the input's batch.
  virtual ILayer* addSlice(ITensor& input, const Dims& start, const Dims& size, const Dims& stride) = 0;
  virtual ILayer* addPooling(ITensor& input, const PoolingParams& params, PoolingType type) = 0;
  // Nearest neighbour, one integer scale per axis.
  virtual ILayer* addResize(ITensor& input, const std::vector<float>& scales) = 0;
  // Reshape (dims, -1 on the batch axis keeps the batch; empty = none) then transpose (perm, empty = none).
  virtual ILayer* addShuffle(ITensor& input, const Dims& reshape, const std::vector<int>& permutation) = 0;
  virtual ILayer* addSoftmax(ITensor& input, int axis) = 0;
  virtual ILayer* addMatrixMultiply(ITensor& a, ITensor& b) = 0;
  virtual ILayer* addCast(ITensor& input, DType to) = 0;
  // scale: a constant's output (per-tensor: one element; per-channel: one per channel along axis).
  virtual ILayer* addQuantize(ITensor& input, ITensor& scale, int axis, DType to) = 0;
  virtual ILayer* addDequantize(ITensor& input, ITensor& scale, int axis, DType to) = 0;
  // Boxes [B, N, 4] and scores [B, N, C] of one float dtype -> output 0: selected indices int32
  // [-1, 3] (batch, class, box), output 1: their count, int32 [].
  virtual ILayer* addNMS(ITensor& boxes, ITensor& scores, const NmsParams& params) = 0;
  virtual void markOutput(ITensor& tensor, const std::string& name) = 0;
};

}  // namespace netdef
