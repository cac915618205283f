// The typed graph on the C++ side: a mirror of the TypeScript IR (dsl/ir), built by the addon from
// the JS objects it is given, in topological order. Nodes are one std::variant of per-kind structs,
// so std::visit over a Node fails to compile until a new kind is handled (as KindTable does in TS).
// Parameters (weights) are views into JS-owned buffers that the caller keeps alive while in use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

namespace netdef::ir {

enum class DType { Float32, Float16, Int8, Int32, Int64, UInt8, Bool };

size_t bytesOf(DType t);
const char* dtypeName(DType t);  // "float32", "float16", ... as in TypeScript

// A dimension is fixed (>= 0), the symbolic batch (kBatch), or a size the data decides
// (kDataDependent: the row count of NMS's selected indices). Both are -1, as TensorRT writes every
// dimension it does not know while the network is defined.
constexpr int64_t kBatch = -1;
constexpr int64_t kDataDependent = -1;

struct TensorType {
  DType dtype;
  std::vector<int64_t> shape;
};

struct Value {
  std::string name;
  TensorType type;
};

// A weight by its Ultralytics state_dict name (or the folded weight's name), materialized by
// weights/bind.ts in the dtype of the layer that reads it.
struct Param {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  size_t bytes = 0;
};

enum class Activation { Silu, Sigmoid, Relu };
enum class ElementWiseOp { Add, Sub, Mul, Div, Max, Min };
enum class PoolingOp { Max, Average };
enum class BoxCoding { Corners, CenterSizes };  // (x1, y1, x2, y2); (x_center, y_center, width, height)

// NMS as TensorRT's INMSLayer (dsl/ir/nodes/nms.ts): boxes [B, N, kNmsBoxValues], scores [B, N, C]
// -> selected indices int32 [kDataDependent, kNmsIndexFields] (batch, class, box), count int32 [].
constexpr int64_t kNmsBoxValues = 4;
constexpr int64_t kNmsIndexFields = 3;
constexpr int64_t kNmsTopKLimit = 5000;  // NMS_TOPK_LIMIT: INMSLayer::setTopKBoxLimit's maximum

struct InputNode {};
struct OutputNode {};
struct ConstantNode { Param value; };
struct ConvolutionNode {
  int64_t outChannels;
  int64_t kernel[2], stride[2], dilation[2];
  int64_t padding[4];  // top, left, bottom, right
  int64_t groups;
  Param weight;
  std::optional<Param> bias;
  std::optional<Activation> activation;  // fused
  // An int8 convolution (the JS int8 pass): the input is int8 with scale inputScale, `weight` is
  // int8 with one float32 scale per output channel in weightScales; y = acc * inputScale * w[k] + bias.
  std::optional<float> inputScale;
  std::optional<Param> weightScales;
};
struct BatchNormNode { double eps; Param gamma, beta, mean, var; };
struct ActivationNode { Activation op; };
struct ElementWiseNode { ElementWiseOp op; };
struct ConcatNode { int64_t axis; };
struct SplitNode { int64_t axis; std::vector<int64_t> sizes; };
struct PoolingNode { PoolingOp op; int64_t kernel[2], stride[2], padding[4]; };
struct ResizeNode { std::vector<int64_t> scales; };  // nearest, integer factors per axis
struct ShuffleNode { std::optional<std::vector<int64_t>> reshape; std::optional<std::vector<int64_t>> perm; };  // reshape: kBatch for the batch symbol, -1 never (resolved in TS)
struct SoftmaxNode { int64_t axis; };
struct MatMulNode {};
struct CastNode { DType to; };
struct QuantizeNode { std::vector<float> scales; std::optional<int64_t> axis; };
struct DequantizeNode { std::vector<float> scales; std::optional<int64_t> axis; DType to; };
struct NmsNode {
  BoxCoding boxCoding;
  int32_t maxOutputBoxesPerClass;
  float iouThreshold;
  float scoreThreshold;
  int32_t topK;
};

using NodeData = std::variant<InputNode, OutputNode, ConstantNode, ConvolutionNode, BatchNormNode, ActivationNode,
                              ElementWiseNode, ConcatNode, SplitNode, PoolingNode, ResizeNode, ShuffleNode, SoftmaxNode,
                              MatMulNode, CastNode, QuantizeNode, DequantizeNode, NmsNode>;

struct Node {
  std::string kind;  // the TypeScript kind, for messages
  std::string name;  // the layer name (/model.0/conv/Conv)
  std::vector<std::string> inputs;
  std::vector<Value> outputs;
  NodeData data;
};

struct Graph {
  std::string name;
  std::vector<Node> nodes;
};

}  // namespace netdef::ir
