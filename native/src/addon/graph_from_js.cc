// JS NativeGraph -> ir::Graph (see graph_from_js.h): one converter per IR kind, found by the
// node's `kind` in a table; an unknown kind is an error naming the layer.
#include "graph_from_js.h"

#include <cmath>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "../common/error.h"
#include "js_values.h"

namespace netdef::addon {
namespace {

constexpr int64_t kMaxElements = int64_t{1} << 40;
constexpr size_t kNmsInputs = 2;   // boxes, scores
constexpr size_t kNmsOutputs = 2;  // selected indices, their count

std::string shapeText(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

class Converter {
 public:
  Converter(Napi::Object params, ParamMemory memory, OwnedGraph& out) : params_(params), memory_(memory), out_(out) {}

  ir::Node node(const Napi::Value& value, uint32_t index) {
    FieldReader at(value, "graph.nodes[" + std::to_string(index) + "]");
    ir::Node n;
    n.kind = at.string("kind");
    n.name = at.string("name");
    FieldReader f(value, n.kind + " layer '" + n.name + "'");
    Napi::Array inputs = f.array("inputs");
    for (uint32_t i = 0; i < inputs.Length(); ++i) {
      Napi::Value v = inputs.Get(i);
      if (!v.IsString()) f.fail("inputs must be tensor names");
      n.inputs.push_back(v.As<Napi::String>().Utf8Value());
    }
    Napi::Array outputs = f.array("outputs");
    for (uint32_t i = 0; i < outputs.Length(); ++i) {
      FieldReader o(outputs.Get(i), f.where() + " output " + std::to_string(i));
      FieldReader t = o.child("type");
      const bool selectedRows = n.kind == "NMS" && i == 0;
      n.outputs.push_back(ir::Value{o.string("name"), ir::TensorType{parseDType(t.string("dtype"), f.where()), shape(t, "shape", selectedRows)}});
    }
    auto kind = kKinds.find(n.kind);
    if (kind == kKinds.end()) f.fail("unknown node kind '" + n.kind + "'");
    const size_t outputCount = n.kind == "NMS" ? kNmsOutputs : 1;
    if (n.kind != "Split" && n.outputs.size() != outputCount) {
      f.fail("must have " + std::to_string(outputCount) + " output(s), found " + std::to_string(n.outputs.size()));
    }
    n.data = (this->*kind->second)(f, n);
    return n;
  }

 private:
  using KindFn = ir::NodeData (Converter::*)(const FieldReader&, const ir::Node&);
  static const std::unordered_map<std::string, KindFn> kKinds;

  // `selectedRows`: the shape of NMS's selected indices, whose first dimension is a symbol of its own
  // for the data-dependent row count (selectedCountDim in TypeScript); that symbol is
  // ir::kDataDependent wherever it appears and is not the batch.
  std::vector<int64_t> shape(const FieldReader& f, const char* key, bool selectedRows = false) {
    Napi::Array dims = f.array(key);
    std::vector<int64_t> out;
    for (uint32_t i = 0; i < dims.Length(); ++i) {
      Napi::Value d = dims.Get(i);
      if (!d.IsString()) {
        out.push_back(toInteger(d, f.where() + ": dimension " + std::to_string(i), 0, INT32_MAX));
        continue;
      }
      std::string s = d.As<Napi::String>().Utf8Value();
      if (selectedRows && i == 0) dataDependent_.insert(s);
      if (dataDependent_.count(s) > 0) {
        out.push_back(ir::kDataDependent);
        continue;
      }
      if (symbol_.empty()) symbol_ = s;
      if (s != symbol_) f.fail("symbolic dimension '" + s + "' besides '" + symbol_ + "': the native backends support one (the batch)");
      out.push_back(ir::kBatch);
    }
    return out;
  }

  static int64_t axis(const FieldReader& f, const char* key, size_t rank) {
    int64_t r = static_cast<int64_t>(rank);
    int64_t a = f.integer(key, -r, r - 1);
    return a < 0 ? a + r : a;
  }

  ir::Param tensor(const FieldReader& t, const std::string& name, const std::vector<int64_t>* expected) {
    return paramFromJs(t, name, expected, memory_, out_.buffers);
  }

  // A ParamRef ({name, shape, role, init?}) resolved in graph.params, else its init.
  ir::Param param(const FieldReader& f, const char* key) {
    FieldReader ref = f.child(key);
    std::string name = ref.string("name");
    std::vector<int64_t> expected = ref.integers("shape", 0, 0);
    auto cached = params_cache_.find(name);
    if (cached != params_cache_.end() && cached->second.shape == expected) return cached->second;
    ir::Param p;
    if (params_.HasOwnProperty(name)) {
      p = tensor(FieldReader(params_.Get(name), f.where() + ": parameter '" + name + "'"), name, &expected);
    } else if (ref.has("init")) {
      p = tensor(FieldReader(ref.get("init"), f.where() + ": init of parameter '" + name + "'"), name, &expected);
    } else {
      f.fail("parameter '" + name + "' is missing (not in graph.params and no init)");
    }
    return params_cache_[name] = p;
  }

  static ir::Activation activation(const FieldReader& f, const std::string& op) {
    if (op == "silu") return ir::Activation::Silu;
    if (op == "sigmoid") return ir::Activation::Sigmoid;
    if (op == "relu") return ir::Activation::Relu;
    f.fail("unknown activation '" + op + "'");
  }

  ir::NodeData input(const FieldReader&, const ir::Node&) { return ir::InputNode{}; }
  ir::NodeData output(const FieldReader&, const ir::Node&) { return ir::OutputNode{}; }
  ir::NodeData matMul(const FieldReader&, const ir::Node&) { return ir::MatMulNode{}; }

  ir::NodeData constant(const FieldReader& f, const ir::Node& n) {
    return ir::ConstantNode{tensor(FieldReader(f.get("value"), f.where() + ": value"), n.name, nullptr)};
  }

  ir::NodeData convolution(const FieldReader& f, const ir::Node&) {
    ir::ConvolutionNode c{};
    c.outChannels = f.integer("outChannels", 1);
    auto copy = [&](const char* key, size_t count, int64_t min, int64_t* to) {
      std::vector<int64_t> v = f.integers(key, count, min);
      for (size_t i = 0; i < count; ++i) to[i] = v[i];
    };
    copy("kernel", 2, 1, c.kernel);
    copy("stride", 2, 1, c.stride);
    copy("dilation", 2, 1, c.dilation);
    copy("padding", 4, 0, c.padding);
    c.groups = f.integer("groups", 1);
    c.weight = param(f, "weight");
    if (f.has("bias")) c.bias = param(f, "bias");
    if (f.has("activation")) c.activation = activation(f, f.string("activation"));
    if (f.has("quant")) {
      FieldReader q = f.child("quant");
      double scale = q.number("inputScale");
      if (!(scale > 0) || !std::isfinite(scale)) q.fail("inputScale must be a positive finite number");
      c.inputScale = static_cast<float>(scale);
      // The per-channel scales are materialized beside the weight (weights/quantize.ts weightScaleName).
      std::string scalesName = c.weight.name + ".scale";
      if (!params_.HasOwnProperty(scalesName)) f.fail("parameter '" + scalesName + "' (the int8 weight's scales) is missing");
      std::vector<int64_t> shape{c.outChannels};
      c.weightScales = tensor(FieldReader(params_.Get(scalesName), f.where() + ": parameter '" + scalesName + "'"), scalesName, &shape);
      if (c.weight.dtype != ir::DType::Int8 || c.weightScales->dtype != ir::DType::Float32) {
        f.fail("an int8 convolution needs int8 weights and float32 scales, found " + std::string(ir::dtypeName(c.weight.dtype)) + " and " +
               ir::dtypeName(c.weightScales->dtype));
      }
    }
    return c;
  }

  ir::NodeData batchNorm(const FieldReader& f, const ir::Node&) {
    return ir::BatchNormNode{f.number("eps"), param(f, "gamma"), param(f, "beta"), param(f, "mean"), param(f, "var")};
  }

  ir::NodeData activationNode(const FieldReader& f, const ir::Node&) { return ir::ActivationNode{activation(f, f.string("op"))}; }

  ir::NodeData elementWise(const FieldReader& f, const ir::Node&) {
    static const std::unordered_map<std::string, ir::ElementWiseOp> kOps = {
        {"add", ir::ElementWiseOp::Add}, {"sub", ir::ElementWiseOp::Sub}, {"mul", ir::ElementWiseOp::Mul},
        {"div", ir::ElementWiseOp::Div}, {"max", ir::ElementWiseOp::Max}, {"min", ir::ElementWiseOp::Min}};
    std::string op = f.string("op");
    auto it = kOps.find(op);
    if (it == kOps.end()) f.fail("unknown element-wise op '" + op + "'");
    return ir::ElementWiseNode{it->second};
  }

  ir::NodeData concat(const FieldReader& f, const ir::Node& n) { return ir::ConcatNode{axis(f, "axis", n.outputs[0].type.shape.size())}; }

  ir::NodeData split(const FieldReader& f, const ir::Node& n) {
    if (n.outputs.empty()) f.fail("has no outputs");
    ir::SplitNode s{axis(f, "axis", n.outputs[0].type.shape.size()), f.integers("sizes", 0, 1)};
    if (s.sizes.size() != n.outputs.size()) f.fail("has " + std::to_string(s.sizes.size()) + " sizes for " + std::to_string(n.outputs.size()) + " outputs");
    return s;
  }

  ir::NodeData pooling(const FieldReader& f, const ir::Node&) {
    ir::PoolingNode p{};
    std::string op = f.string("op");
    if (op != "max" && op != "average") f.fail("unknown pooling op '" + op + "'");
    p.op = op == "max" ? ir::PoolingOp::Max : ir::PoolingOp::Average;
    std::vector<int64_t> k = f.integers("kernel", 2, 1), s = f.integers("stride", 2, 1), pad = f.integers("padding", 4, 0);
    for (int i = 0; i < 2; ++i) p.kernel[i] = k[i], p.stride[i] = s[i];
    for (int i = 0; i < 4; ++i) p.padding[i] = pad[i];
    return p;
  }

  ir::NodeData resize(const FieldReader& f, const ir::Node&) {
    if (f.has("mode") && f.string("mode") != "nearest") f.fail("only nearest resize is supported");
    return ir::ResizeNode{f.integers("scales", 0, 1)};
  }

  // The reshape target is the output type before the permutation: never a -1 or a symbol name.
  ir::NodeData shuffle(const FieldReader& f, const ir::Node& n) {
    const std::vector<int64_t>& out = n.outputs[0].type.shape;
    ir::ShuffleNode s;
    if (f.has("perm")) {
      s.perm = f.integers("perm", out.size(), 0);
      std::vector<bool> seen(out.size(), false);
      for (int64_t p : *s.perm) {
        if (p >= static_cast<int64_t>(out.size()) || seen[p]) f.fail("perm is not a permutation of rank " + std::to_string(out.size()));
        seen[p] = true;
      }
    }
    if (f.has("reshape")) {
      if (f.array("reshape").Length() != out.size()) f.fail("reshape rank differs from the output's");
      std::vector<int64_t> r(out);
      if (s.perm) {
        for (size_t i = 0; i < out.size(); ++i) r[(*s.perm)[i]] = out[i];
      }
      s.reshape = r;
    }
    return s;
  }

  ir::NodeData softmax(const FieldReader& f, const ir::Node& n) { return ir::SoftmaxNode{axis(f, "axis", n.outputs[0].type.shape.size())}; }

  ir::NodeData cast(const FieldReader& f, const ir::Node&) { return ir::CastNode{parseDType(f.string("to"), f.where())}; }

  std::vector<float> scales(const FieldReader& f) {
    std::vector<float> out;
    for (double s : f.numbers("scales")) {
      if (!(s > 0)) f.fail("scales must be positive");
      out.push_back(static_cast<float>(s));
    }
    return out;
  }

  std::optional<int64_t> qAxis(const FieldReader& f, const ir::Node& n) {
    if (!f.has("axis")) return std::nullopt;
    return axis(f, "axis", n.outputs[0].type.shape.size());
  }

  ir::NodeData quantize(const FieldReader& f, const ir::Node& n) {
    if (f.string("to") != "int8") f.fail("quantizes to int8 only");
    return ir::QuantizeNode{scales(f), qAxis(f, n)};
  }

  ir::NodeData dequantize(const FieldReader& f, const ir::Node& n) {
    return ir::DequantizeNode{scales(f), qAxis(f, n), parseDType(f.string("to"), f.where())};
  }

  // Boxes, scores -> selected indices int32 [kDataDependent, 3], count int32 []; the attributes in
  // the ranges dsl/ir/nodes/nms.ts checks. The inputs' shapes are the network's to check (addNMS).
  ir::NodeData nms(const FieldReader& f, const ir::Node& n) {
    static const std::unordered_map<std::string, ir::BoxCoding> kCodings = {
        {"corners", ir::BoxCoding::Corners}, {"centerSizes", ir::BoxCoding::CenterSizes}};
    const std::string coding = f.string("boxCoding");
    auto it = kCodings.find(coding);
    if (it == kCodings.end()) f.fail("unknown boxCoding '" + coding + "' (corners or centerSizes)");
    if (n.inputs.size() != kNmsInputs) f.fail("expects " + std::to_string(kNmsInputs) + " inputs (boxes, scores), found " + std::to_string(n.inputs.size()));
    const ir::TensorType& indices = n.outputs[0].type;
    const ir::TensorType& count = n.outputs[1].type;
    const std::vector<int64_t> selected{ir::kDataDependent, ir::kNmsIndexFields};
    if (indices.dtype != ir::DType::Int32 || indices.shape != selected || count.dtype != ir::DType::Int32 || !count.shape.empty()) {
      f.fail("outputs must be int32 [selected, 3] and int32 [], found " + std::string(ir::dtypeName(indices.dtype)) + shapeText(indices.shape) +
             " and " + ir::dtypeName(count.dtype) + shapeText(count.shape));
    }
    const double iou = f.number("iouThreshold");
    if (iou < 0 || iou > 1) f.fail("'iouThreshold' must be in [0, 1]");
    return ir::NmsNode{it->second, static_cast<int32_t>(f.integer("maxOutputBoxesPerClass", 1, INT32_MAX)), static_cast<float>(iou),
                       static_cast<float>(f.number("scoreThreshold")), static_cast<int32_t>(f.integer("topK", 1, ir::kNmsTopKLimit))};
  }

  Napi::Object params_;
  ParamMemory memory_;
  OwnedGraph& out_;
  std::string symbol_;
  std::unordered_set<std::string> dataDependent_;
  std::unordered_map<std::string, ir::Param> params_cache_;
};

const std::unordered_map<std::string, Converter::KindFn> Converter::kKinds = {
    {"Input", &Converter::input},           {"Output", &Converter::output},         {"Constant", &Converter::constant},
    {"Convolution", &Converter::convolution}, {"BatchNorm", &Converter::batchNorm}, {"Activation", &Converter::activationNode},
    {"ElementWise", &Converter::elementWise}, {"Concat", &Converter::concat},       {"Split", &Converter::split},
    {"Pooling", &Converter::pooling},       {"Resize", &Converter::resize},         {"Shuffle", &Converter::shuffle},
    {"Softmax", &Converter::softmax},       {"MatMul", &Converter::matMul},         {"Cast", &Converter::cast},
    {"Quantize", &Converter::quantize},     {"Dequantize", &Converter::dequantize}, {"NMS", &Converter::nms},
};

}  // namespace

// A HostTensor-shaped object ({dtype, shape, data}) as a Param named `name`.
ir::Param paramFromJs(const FieldReader& t, const std::string& name, const std::vector<int64_t>* expected, ParamMemory memory,
                      std::vector<std::vector<uint8_t>>& buffers) {
  ir::Param p;
  p.name = name;
  p.dtype = parseDType(t.string("dtype"), t.where());
  p.shape = t.integers("shape", 0, 0);
  int64_t count = 1;
  for (int64_t d : p.shape) {
    count *= d;
    if (count > kMaxElements) t.fail("is too large");
  }
  if (expected && p.shape != *expected) {
    t.fail("has shape " + shapeText(p.shape) + ", the layer expects " + shapeText(*expected));
  }
  Napi::Uint8Array data = t.bytes("data");
  p.bytes = static_cast<size_t>(count) * ir::bytesOf(p.dtype);
  if (data.ByteLength() != p.bytes) {
    t.fail("holds " + std::to_string(data.ByteLength()) + " bytes, " + ir::dtypeName(p.dtype) + shapeText(p.shape) + " needs " +
           std::to_string(p.bytes));
  }
  if (memory == ParamMemory::View) {
    p.data = data.Data();
  } else {
    buffers.emplace_back(data.Data(), data.Data() + data.ByteLength());
    p.data = buffers.back().data();
  }
  return p;
}

OwnedParams paramsFromJs(const Napi::Value& value, const std::string& where) {
  if (!value.IsObject() || value.IsArray()) throw Error(kErrInvalidArgument, where + ": parameters must be an object of tensors by name");
  Napi::Object obj = value.As<Napi::Object>();
  Napi::Array names = obj.GetPropertyNames();
  OwnedParams out;
  for (uint32_t i = 0; i < names.Length(); ++i) {
    const std::string name = names.Get(i).As<Napi::String>().Utf8Value();
    out.params.push_back(paramFromJs(FieldReader(obj.Get(name), where + ": parameter '" + name + "'"), name, nullptr, ParamMemory::Copy, out.buffers));
  }
  return out;
}

OwnedGraph graphFromJs(const Napi::Value& value, ParamMemory memory) {
  FieldReader g(value, "graph");
  OwnedGraph out;
  out.graph.name = g.string("name");
  Napi::Value params = g.get("params");
  if (!params.IsObject() || params.IsArray()) g.fail("'params' must be an object of parameters by name");
  Converter converter(params.As<Napi::Object>(), memory, out);
  Napi::Array nodes = g.array("nodes");
  out.graph.nodes.reserve(nodes.Length());
  for (uint32_t i = 0; i < nodes.Length(); ++i) out.graph.nodes.push_back(converter.node(nodes.Get(i), i));
  return out;
}

}  // namespace netdef::addon
