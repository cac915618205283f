// The replay (see replay.h): one importer per IR kind, dispatched with std::visit, so a kind added
// to ir::NodeData does not compile until it has an importer here.
#include "replay.h"

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>

#include "../common/error.h"
#include "shape_rules.h"

namespace netdef {
namespace {

ActivationType activationOf(ir::Activation a) {
  switch (a) {
    case ir::Activation::Silu: return ActivationType::Silu;
    case ir::Activation::Sigmoid: return ActivationType::Sigmoid;
    case ir::Activation::Relu: return ActivationType::Relu;
  }
  throw Error(kErrInvalidArgument, "unknown activation");
}

ElementWiseOperation elementWiseOf(ir::ElementWiseOp op) {
  switch (op) {
    case ir::ElementWiseOp::Add: return ElementWiseOperation::Sum;
    case ir::ElementWiseOp::Sub: return ElementWiseOperation::Sub;
    case ir::ElementWiseOp::Mul: return ElementWiseOperation::Prod;
    case ir::ElementWiseOp::Div: return ElementWiseOperation::Div;
    case ir::ElementWiseOp::Max: return ElementWiseOperation::Max;
    case ir::ElementWiseOp::Min: return ElementWiseOperation::Min;
  }
  throw Error(kErrInvalidArgument, "unknown element-wise operation");
}

BoxFormat boxFormatOf(ir::BoxCoding c) {
  switch (c) {
    case ir::BoxCoding::Corners: return BoxFormat::CornerPairs;
    case ir::BoxCoding::CenterSizes: return BoxFormat::CenterSizes;
  }
  throw Error(kErrInvalidArgument, "unknown box coding");
}

Weights weightsOf(const ir::Param& p) {
  return Weights{p.name, p.dtype, p.data, static_cast<int64_t>(p.bytes / ir::bytesOf(p.dtype))};
}

class Importer {
 public:
  explicit Importer(INetwork& network) : net_(network) {}

  void import(const ir::Node& node) {
    node_ = &node;
    try {
      std::visit(*this, node.data);
    } catch (const Error& e) {
      throw Error(e.code(), node.kind + " layer '" + node.name + "': " + e.what());
    } catch (const std::exception& e) {
      throw Error(kErrBackend, node.kind + " layer '" + node.name + "': " + e.what());
    }
  }

  void operator()(const ir::InputNode&) {
    const ir::Value& out = output(0);
    bind(out, net_.addInput(out.name, out.type.dtype, Dims{out.type.shape}));
  }

  void operator()(const ir::OutputNode&) {
    ITensor& x = in(0);
    net_.markOutput(x, node_->name);
    bind(output(0), &x);
  }

  void operator()(const ir::ConstantNode& n) { finish(net_.addConstant(Dims{n.value.shape}, weightsOf(n.value))); }

  void operator()(const ir::ConvolutionNode& n) {
    ConvolutionParams p{{n.kernel[0], n.kernel[1]}, {n.stride[0], n.stride[1]}, {n.dilation[0], n.dilation[1]},
                        {n.padding[0], n.padding[1]}, {n.padding[2], n.padding[3]}, n.groups};
    ILayer* conv = n.inputScale ? net_.addConvolutionInt8(in(0), *n.inputScale, n.outChannels, p, weightsOf(n.weight), weightsOf(*n.weightScales),
                                                          n.bias ? weightsOf(*n.bias) : Weights{})
                                : net_.addConvolution(in(0), n.outChannels, p, weightsOf(n.weight), n.bias ? weightsOf(*n.bias) : Weights{});
    if (!n.activation) return finish(conv);
    name(conv, node_->name);
    ILayer* act = net_.addActivation(*conv->output(0), activationOf(*n.activation));
    name(act, node_->name + "/activation");
    bindOutputs(act);
  }

  void operator()(const ir::BatchNormNode&) {
    throw Error(kErrInvalidArgument, "fold batch norms before replay (the foldBatchNorm pass)");
  }

  void operator()(const ir::ActivationNode& n) { finish(net_.addActivation(in(0), activationOf(n.op))); }

  void operator()(const ir::ElementWiseNode& n) {
    auto [a, b] = sameRank(in(0), in(1));
    finish(net_.addElementWise(a, b, elementWiseOf(n.op)));
  }

  void operator()(const ir::ConcatNode& n) {
    std::vector<ITensor*> inputs;
    for (size_t i = 0; i < node_->inputs.size(); ++i) inputs.push_back(&in(i));
    finish(net_.addConcatenation(inputs, static_cast<int>(n.axis)));
  }

  void operator()(const ir::SplitNode& n) {
    ITensor& x = in(0);
    const std::vector<int64_t>& d = x.dims().d;
    if (n.axis < 0 || n.axis >= static_cast<int64_t>(d.size()) || d[n.axis] < 0) {
      throw Error(kErrInvalidArgument, "cannot split axis " + std::to_string(n.axis) + " of " + formatType(x.type(), x.dims()));
    }
    if (n.sizes.size() != node_->outputs.size()) throw Error(kErrInvalidArgument, "needs one output per size");
    int64_t offset = 0;
    for (size_t i = 0; i < n.sizes.size(); ++i) {
      Dims start{std::vector<int64_t>(d.size(), 0)}, size{d}, stride{std::vector<int64_t>(d.size(), 1)};
      start.d[n.axis] = offset;
      size.d[n.axis] = n.sizes[i];  // other axes keep the input's size, -1 on the batch axis
      ILayer* slice = net_.addSlice(x, start, size, stride);
      name(slice, node_->name + "/slice_" + std::to_string(i));
      bind(node_->outputs[i], slice->output(0));
      offset += n.sizes[i];
    }
  }

  void operator()(const ir::PoolingNode& n) {
    PoolingParams p{{n.kernel[0], n.kernel[1]}, {n.stride[0], n.stride[1]}, {n.padding[0], n.padding[1]}, {n.padding[2], n.padding[3]}};
    finish(net_.addPooling(in(0), p, n.op == ir::PoolingOp::Max ? PoolingType::Max : PoolingType::Average));
  }

  void operator()(const ir::ResizeNode& n) {
    finish(net_.addResize(in(0), std::vector<float>(n.scales.begin(), n.scales.end())));
  }

  void operator()(const ir::ShuffleNode& n) {
    Dims reshape{n.reshape.value_or(std::vector<int64_t>{})};
    std::vector<int> perm;
    if (n.perm) perm.assign(n.perm->begin(), n.perm->end());
    finish(net_.addShuffle(in(0), reshape, perm));
  }

  void operator()(const ir::SoftmaxNode& n) { finish(net_.addSoftmax(in(0), static_cast<int>(n.axis))); }

  void operator()(const ir::MatMulNode&) {
    auto [a, b] = sameRank(in(0), in(1));
    finish(net_.addMatrixMultiply(a, b));
  }

  void operator()(const ir::CastNode& n) { finish(net_.addCast(in(0), n.to)); }

  void operator()(const ir::QuantizeNode& n) {
    ITensor& scale = scales(n.scales, n.axis);
    finish(net_.addQuantize(in(0), scale, static_cast<int>(n.axis.value_or(0)), DType::Int8));
  }

  void operator()(const ir::DequantizeNode& n) {
    ITensor& scale = scales(n.scales, n.axis);
    finish(net_.addDequantize(in(0), scale, static_cast<int>(n.axis.value_or(0)), n.to));
  }

  void operator()(const ir::NmsNode& n) {
    NmsParams p{boxFormatOf(n.boxCoding), n.maxOutputBoxesPerClass, n.iouThreshold, n.scoreThreshold, n.topK};
    finish(net_.addNMS(in(0), in(1), p));
  }

 private:
  const ir::Value& output(size_t i) const {
    if (i >= node_->outputs.size()) throw Error(kErrInvalidArgument, "has no output " + std::to_string(i));
    return node_->outputs[i];
  }

  ITensor& in(size_t i) {
    if (i >= node_->inputs.size()) throw Error(kErrInvalidArgument, "expects at least " + std::to_string(i + 1) + " input(s)");
    auto it = tensors_.find(node_->inputs[i]);
    if (it == tensors_.end()) throw Error(kErrInvalidArgument, "input '" + node_->inputs[i] + "' is not produced by an earlier layer");
    return *it->second;
  }

  void name(ILayer* layer, const std::string& layerName) {
    if (!layer) throw Error(kErrBackend, "the network returned no layer");
    if (!names_.insert(layerName).second) throw Error(kErrInvalidArgument, "layer name '" + layerName + "' is used twice");
    layer->setName(layerName);
  }

  // Names the node's single layer after the node and binds its outputs.
  void finish(ILayer* layer) {
    name(layer, node_->name);
    bindOutputs(layer);
  }

  void bindOutputs(ILayer* layer) {
    if (static_cast<size_t>(layer->outputCount()) != node_->outputs.size()) {
      throw Error(kErrBackend, "the network's layer has " + std::to_string(layer->outputCount()) + " output(s), the graph " +
                                   std::to_string(node_->outputs.size()));
    }
    for (size_t i = 0; i < node_->outputs.size(); ++i) bind(node_->outputs[i], layer->output(static_cast<int>(i)));
  }

  void bind(const ir::Value& value, ITensor* tensor) {
    if (!tensor) throw Error(kErrBackend, "the network returned no tensor for '" + value.name + "'");
    if (tensor->type() != value.type.dtype || tensor->dims().d != value.type.shape) {
      throw Error(kErrBackend, "the network made " + formatType(tensor->type(), tensor->dims()) + " for '" + value.name +
                                   "', the graph says " + formatType(value.type.dtype, Dims{value.type.shape}));
    }
    if (!tensors_.emplace(value.name, tensor).second) throw Error(kErrInvalidArgument, "tensor '" + value.name + "' is defined twice");
  }

  // Reshapes the input of lower rank with leading 1s so both have one rank (TensorRT broadcasts
  // only between equal ranks).
  std::pair<ITensor&, ITensor&> sameRank(ITensor& a, ITensor& b) {
    size_t rank = std::max(a.dims().d.size(), b.dims().d.size());
    return {expand(a, rank, 0), expand(b, rank, 1)};
  }

  ITensor& expand(ITensor& t, size_t rank, int index) {
    const std::vector<int64_t>& d = t.dims().d;
    if (d.size() == rank) return t;
    Dims target{std::vector<int64_t>(rank - d.size(), 1)};
    target.d.insert(target.d.end(), d.begin(), d.end());
    ILayer* layer = net_.addShuffle(t, target, {});
    name(layer, node_->name + "/broadcast_" + std::to_string(index));
    return *layer->output(0);
  }

  // The scales of a Q/DQ node as a float32 constant: a scalar per tensor, a vector per channel.
  ITensor& scales(const std::vector<float>& values, const std::optional<int64_t>& axis) {
    Dims dims{axis ? std::vector<int64_t>{static_cast<int64_t>(values.size())} : std::vector<int64_t>{}};
    ILayer* layer = net_.addConstant(dims, Weights{node_->name + "/scale", DType::Float32, values.data(), static_cast<int64_t>(values.size())});
    name(layer, node_->name + "/scale");
    return *layer->output(0);
  }

  INetwork& net_;
  const ir::Node* node_ = nullptr;
  std::unordered_map<std::string, ITensor*> tensors_;
  std::unordered_set<std::string> names_;
};

}  // namespace

void replay(const ir::Graph& graph, INetwork& network) {
  Importer importer(network);
  for (const ir::Node& node : graph.nodes) importer.import(node);
}

}  // namespace netdef
