// CudaNetwork: see cuda_network.h.
#include "cuda_network.h"

#include <cmath>
#include <cstring>

#include "../common/error.h"
#include "ops/op_common.cuh"
#include "shape_infer.h"
#include "weight_values.h"

namespace netdef::cuda {

class CudaNetwork::Tensor final : public ITensor {
 public:
  Tensor(CudaNetwork* owner, int32_t id, std::string name, DType type, std::vector<int64_t> dims)
      : owner_(owner), id_(id), name_(std::move(name)), type_(type) {
    dims_.d = std::move(dims);
  }
  const std::string& name() const override { return name_; }
  DType type() const override { return type_; }
  const Dims& dims() const override { return dims_; }

  CudaNetwork* owner_;
  int32_t id_;
  std::string name_;
  DType type_;
  Dims dims_;
};

class CudaNetwork::Layer final : public ILayer {
 public:
  Layer(CudaNetwork* owner, int32_t op, std::vector<Tensor*> outputs) : owner_(owner), op_(op), outputs_(std::move(outputs)) {}
  void setName(const std::string& name) override {
    if (op_ >= 0) owner_->program_.ops[op_].name = name;
    for (size_t i = 0; i < outputs_.size(); ++i) {
      Tensor* t = outputs_[i];
      t->name_ = outputs_.size() == 1 ? name : name + ":" + std::to_string(i);
      owner_->program_.tensors[t->id_].name = t->name_;
    }
  }
  ITensor* output(int index) override {
    if (index < 0 || index >= outputCount()) throw Error(kErrInvalidArgument, "layer output " + std::to_string(index) + " does not exist");
    return outputs_[index];
  }
  int outputCount() const override { return static_cast<int>(outputs_.size()); }

 private:
  CudaNetwork* owner_;
  int32_t op_;  // -1 for a constant (no op)
  std::vector<Tensor*> outputs_;
};

namespace {

[[noreturn]] void invalid(const std::string& label, const std::string& message) {
  throw Error(kErrInvalidArgument, label + ": " + message);
}


constexpr int kSpatialAxes = 2;

// The convolution's output shape; a bad geometry fails naming the layer.
shapes::Shape convolutionShape(const std::string& label, const shapes::Shape& input, const ConvAttrs& a) {
  try {
    return shapes::convolution(input, a);
  } catch (const Error& e) {
    invalid(label, e.what());
  }
}

}  // namespace

CudaNetwork::CudaNetwork() = default;
CudaNetwork::~CudaNetwork() = default;

std::string CudaNetwork::nextLabel(const char* kind) const {
  return "(Unnamed Layer* " + std::to_string(program_.ops.size()) + ") [" + kind + "]";
}

CudaNetwork::Tensor& CudaNetwork::own(ITensor& t, const char* role) {
  auto* mine = dynamic_cast<Tensor*>(&t);
  if (!mine || mine->owner_ != this) throw Error(kErrInvalidArgument, std::string(role) + " tensor belongs to another network");
  return *mine;
}

CudaNetwork::Tensor* CudaNetwork::newTensor(const std::string& name, DType type, std::vector<int64_t> dims) {
  const auto id = static_cast<int32_t>(program_.tensors.size());
  TensorDef def;
  def.name = name;
  def.dtype = type;
  def.dims = dims;
  program_.tensors.push_back(def);
  tensors_.push_back(std::make_unique<Tensor>(this, id, name, type, std::move(dims)));
  return tensors_.back().get();
}

ILayer* CudaNetwork::record(OpAttrs attrs, const std::vector<Tensor*>& inputs,
                            const std::vector<std::vector<int64_t>>& outputShapes, DType outputType) {
  OpDef op;
  op.name = nextLabel(opKindName(attrs));
  op.attrs = std::move(attrs);
  for (Tensor* t : inputs) op.inputs.push_back(t->id_);
  std::vector<Tensor*> outputs;
  for (size_t i = 0; i < outputShapes.size(); ++i) {
    Tensor* t = newTensor(op.name + (outputShapes.size() > 1 ? ":" + std::to_string(i) : ""), outputType, outputShapes[i]);
    op.outputs.push_back(t->id_);
    outputs.push_back(t);
  }
  op.dtype = recordedDtype(program_, op);
  const auto index = static_cast<int32_t>(program_.ops.size());
  program_.ops.push_back(std::move(op));
  layers_.push_back(std::make_unique<Layer>(this, index, std::move(outputs)));
  return layers_.back().get();
}

int32_t CudaNetwork::addWeights(const Weights& w, DType as, int64_t expectedCount, const std::string& what) {
  if (expectedCount >= 0 && w.count != expectedCount) {
    invalid(what, "weights '" + w.name + "' have " + std::to_string(w.count) + " values, expected " + std::to_string(expectedCount));
  }
  if (w.count > 0 && !w.values) invalid(what, "weights '" + w.name + "' have no data");
  WeightDef def;
  def.name = w.name;
  def.dtype = as;
  def.bytes = convertValues(w.values, w.count, w.type, as);
  program_.weights.push_back(std::move(def));
  return static_cast<int32_t>(program_.weights.size() - 1);
}

ITensor* CudaNetwork::addInput(const std::string& name, DType type, const Dims& dims) {
  for (size_t i = 0; i < dims.d.size(); ++i) {
    if (dims.d[i] < 1 && !(i == 0 && dims.d[i] == ir::kBatch)) invalid(name, "input dimensions must be positive (-1 only for the batch)");
  }
  Tensor* t = newTensor(name, type, dims.d);
  program_.tensors[t->id_].isInput = true;
  program_.inputs.push_back(t->id_);
  return t;
}

ILayer* CudaNetwork::addConstant(const Dims& dims, const Weights& weights) {
  const std::string label = "(Constant " + weights.name + ")";
  for (int64_t d : dims.d) if (d < 1) invalid(label, "constant dimensions must be positive");
  const int32_t w = addWeights(weights, weights.type, shapes::Shape(dims.d).empty() ? 1 : elementCount(dims.d), label);
  Tensor* t = newTensor(weights.name, weights.type, dims.d);
  program_.tensors[t->id_].constant = w;
  layers_.push_back(std::make_unique<Layer>(this, -1, std::vector<Tensor*>{t}));
  return layers_.back().get();
}

ILayer* CudaNetwork::addConvolution(ITensor& input, int64_t outChannels, const ConvolutionParams& params,
                                    const Weights& kernel, const Weights& bias) {
  Tensor& x = own(input, "convolution input");
  const std::string label = nextLabel("Convolution");
  if (!isFloatDType(x.type_)) invalid(label, "convolution input must be float32 or float16");
  ConvAttrs a;
  a.outChannels = outChannels;
  a.params = params;
  const shapes::Shape out = convolutionShape(label, x.dims_.d, a);
  const int64_t perGroup = x.dims_.d[1] / params.groups;
  a.weight = addWeights(kernel, x.type_, outChannels * perGroup * params.kernel[0] * params.kernel[1], label);
  if (bias.count > 0) a.bias = addWeights(bias, x.type_, outChannels, label);
  return record(a, {&x}, {out}, x.type_);
}

ILayer* CudaNetwork::addConvolutionInt8(ITensor& input, float inputScale, int64_t outChannels, const ConvolutionParams& params,
                                        const Weights& kernel, const Weights& kernelScales, const Weights& bias) {
  Tensor& x = own(input, "convolution input");
  const std::string label = nextLabel("Convolution");
  if (x.type_ != DType::Int8) invalid(label, "an int8 convolution's input must be int8");
  if (kernel.type != DType::Int8) invalid(label, "an int8 convolution's kernel must be int8");
  if (kernelScales.type != DType::Float32) invalid(label, "an int8 convolution's kernel scales must be float32");
  if (bias.count > 0 && bias.type != DType::Float32) invalid(label, "an int8 convolution's bias must be float32");
  if (!std::isfinite(inputScale) || inputScale <= 0) invalid(label, "the input scale must be finite and > 0");
  ConvAttrs a;
  a.outChannels = outChannels;
  a.params = params;
  a.inputScale = inputScale;
  const shapes::Shape out = convolutionShape(label, x.dims_.d, a);
  const int64_t perGroup = x.dims_.d[1] / params.groups;
  a.weight = addWeights(kernel, DType::Int8, outChannels * perGroup * params.kernel[0] * params.kernel[1], label);
  a.weightScales = addWeights(kernelScales, DType::Float32, outChannels, label);
  const std::vector<uint8_t>& scales = program_.weights[a.weightScales].bytes;
  for (int64_t k = 0; k < outChannels; ++k) {
    float v = 0;
    std::memcpy(&v, &scales[k * sizeof v], sizeof v);
    if (!std::isfinite(v) || v <= 0) invalid(label, "kernel scale " + std::to_string(k) + " of '" + kernelScales.name + "' must be finite and > 0");
  }
  if (bias.count > 0) a.bias = addWeights(bias, DType::Float32, outChannels, label);
  return record(a, {&x}, {out}, DType::Float32);
}

ILayer* CudaNetwork::addActivation(ITensor& input, ActivationType type) {
  Tensor& x = own(input, "activation input");
  if (!isFloatDType(x.type_)) invalid(nextLabel("Activation"), "activation input must be float32 or float16");
  return record(ActivationAttrs{type}, {&x}, {x.dims_.d}, x.type_);
}

ILayer* CudaNetwork::addElementWise(ITensor& a, ITensor& b, ElementWiseOperation op) {
  Tensor& x = own(a, "elementwise input");
  Tensor& y = own(b, "elementwise input");
  const std::string label = nextLabel("ElementWise");
  if (x.type_ != y.type_ || !isFloatDType(x.type_)) invalid(label, "elementwise inputs must share one float dtype");
  shapes::Shape out;
  try {
    out = shapes::broadcast(x.dims_.d, y.dims_.d);
  } catch (const Error& e) {
    invalid(label, e.what());
  }
  return record(ElementWiseAttrs{op}, {&x, &y}, {out}, x.type_);
}

ILayer* CudaNetwork::addConcatenation(const std::vector<ITensor*>& inputs, int axis) {
  const std::string label = nextLabel("Concatenation");
  std::vector<Tensor*> xs;
  std::vector<shapes::Shape> dims;
  for (ITensor* t : inputs) {
    if (!t) invalid(label, "null input");
    xs.push_back(&own(*t, "concatenation input"));
    if (xs.back()->type_ != xs.front()->type_) invalid(label, "concatenation inputs must share one dtype");
    dims.push_back(xs.back()->dims_.d);
  }
  shapes::Shape out;
  ConcatAttrs attrs;
  try {
    out = shapes::concat(dims, axis);
    attrs.axis = shapes::normalizeAxis(axis, dims.at(0), "concatenation");
  } catch (const Error& e) {
    invalid(label, e.what());
  }
  return record(attrs, xs, {out}, xs.front()->type_);
}

ILayer* CudaNetwork::addSlice(ITensor& input, const Dims& start, const Dims& size, const Dims& stride) {
  Tensor& x = own(input, "slice input");
  SliceAttrs a{start.d, size.d, stride.d};
  shapes::Shape out;
  try {
    out = shapes::slice(x.dims_.d, a);
  } catch (const Error& e) {
    invalid(nextLabel("Slice"), e.what());
  }
  return record(a, {&x}, {out}, x.type_);
}

ILayer* CudaNetwork::addPooling(ITensor& input, const PoolingParams& params, PoolingType type) {
  Tensor& x = own(input, "pooling input");
  const std::string label = nextLabel("Pooling");
  // int8: max pooling only (it commutes with quantization; an average would need requantizing).
  const bool int8Max = x.type_ == DType::Int8 && type == PoolingType::Max;
  if (!isFloatDType(x.type_) && !int8Max) invalid(label, "pooling input must be float32 or float16 (int8 for max pooling)");
  PoolingAttrs a{params, type};
  shapes::Shape out;
  try {
    out = shapes::pooling(x.dims_.d, a);
  } catch (const Error& e) {
    invalid(label, e.what());
  }
  return record(a, {&x}, {out}, x.type_);
}

ILayer* CudaNetwork::addResize(ITensor& input, const std::vector<float>& scales) {
  Tensor& x = own(input, "resize input");
  ResizeAttrs a{scales};
  shapes::Shape out;
  try {
    out = shapes::resize(x.dims_.d, a);
    for (size_t i = 0; i + kSpatialAxes < out.size(); ++i) {
      if (a.scales[i] != 1) throw Error(kErrInvalidArgument, "only the last two axes may be scaled");
    }
  } catch (const Error& e) {
    invalid(nextLabel("Resize"), e.what());
  }
  return record(a, {&x}, {out}, x.type_);
}

ILayer* CudaNetwork::addShuffle(ITensor& input, const Dims& reshape, const std::vector<int>& permutation) {
  Tensor& x = own(input, "shuffle input");
  ShuffleAttrs a{reshape.d, std::vector<int32_t>(permutation.begin(), permutation.end())};
  shapes::Shape out;
  try {
    out = shapes::shuffle(x.dims_.d, a);
  } catch (const Error& e) {
    invalid(nextLabel("Shuffle"), e.what());
  }
  return record(a, {&x}, {out}, x.type_);
}

ILayer* CudaNetwork::addSoftmax(ITensor& input, int axis) {
  Tensor& x = own(input, "softmax input");
  const std::string label = nextLabel("Softmax");
  if (!isFloatDType(x.type_)) invalid(label, "softmax input must be float32 or float16");
  SoftmaxAttrs a;
  try {
    a.axis = shapes::normalizeAxis(axis, x.dims_.d, "softmax");
  } catch (const Error& e) {
    invalid(label, e.what());
  }
  return record(a, {&x}, {x.dims_.d}, x.type_);
}

ILayer* CudaNetwork::addMatrixMultiply(ITensor& a, ITensor& b) {
  Tensor& x = own(a, "matrix multiply input");
  Tensor& y = own(b, "matrix multiply input");
  const std::string label = nextLabel("MatrixMultiply");
  if (x.type_ != y.type_ || !isFloatDType(x.type_)) invalid(label, "matrix multiply inputs must share one float dtype");
  shapes::Shape out;
  try {
    out = shapes::matmul(x.dims_.d, y.dims_.d);
  } catch (const Error& e) {
    invalid(label, e.what());
  }
  return record(MatMulAttrs{}, {&x, &y}, {out}, x.type_);
}

ILayer* CudaNetwork::addCast(ITensor& input, DType to) {
  Tensor& x = own(input, "cast input");
  const bool fromBytes = x.type_ == DType::UInt8;  // an image input scaled in the graph
  if (!(isFloatDType(x.type_) || fromBytes) || !isFloatDType(to)) invalid(nextLabel("Cast"), "casts convert between float32 and float16, or from uint8 to either");
  return record(CastAttrs{to}, {&x}, {x.dims_.d}, to);
}

namespace {
// The scale of a Q/DQ pair: a float constant with one value (per tensor) or dims[axis] values.
int32_t checkScale(const Program& p, const TensorDef& x, const TensorDef& scale, int axis, const std::string& label) {
  if (scale.constant < 0) invalid(label, "the scale must be a constant");
  const int64_t n = elementCount(scale.dims);
  if (n == 1) return -1;
  int32_t a = 0;
  try {
    a = shapes::normalizeAxis(axis, x.dims, "quantization");
  } catch (const Error& e) {
    invalid(label, e.what());
  }
  if (n != x.dims[a]) invalid(label, "per-channel scale has " + std::to_string(n) + " values for axis size " + std::to_string(x.dims[a]));
  (void)p;
  return a;
}
}  // namespace

ILayer* CudaNetwork::addQuantize(ITensor& input, ITensor& scale, int axis, DType to) {
  Tensor& x = own(input, "quantize input");
  Tensor& s = own(scale, "quantize scale");
  const std::string label = nextLabel("Quantize");
  if (!isFloatDType(x.type_) || to != DType::Int8) invalid(label, "quantize converts float32/float16 to int8");
  if (s.type_ != DType::Float32) invalid(label, "the scale must be float32");
  QuantizeAttrs a;
  a.axis = checkScale(program_, program_.tensors[x.id_], program_.tensors[s.id_], axis, label);
  a.to = to;
  return record(a, {&x, &s}, {x.dims_.d}, to);
}

ILayer* CudaNetwork::addDequantize(ITensor& input, ITensor& scale, int axis, DType to) {
  Tensor& x = own(input, "dequantize input");
  Tensor& s = own(scale, "dequantize scale");
  const std::string label = nextLabel("Dequantize");
  if (x.type_ != DType::Int8 || !isFloatDType(to)) invalid(label, "dequantize converts int8 to float32/float16");
  if (s.type_ != DType::Float32) invalid(label, "the scale must be float32");
  DequantizeAttrs a;
  a.axis = checkScale(program_, program_.tensors[x.id_], program_.tensors[s.id_], axis, label);
  a.to = to;
  return record(a, {&x, &s}, {x.dims_.d}, to);
}

ILayer* CudaNetwork::addNMS(ITensor&, ITensor&, const NmsParams&) {
  throw Error(kErrInvalidArgument,
              "the CUDA engine does not implement NMS: build the graph without it and run NMS on the host (vision/nms.ts, as "
              "detect does), or use the TensorRT backend (INMSLayer)");
}

void CudaNetwork::markOutput(ITensor& tensor, const std::string& name) {
  Tensor& t = own(tensor, "output");
  if (program_.tensors[t.id_].constant >= 0) invalid(name, "a constant cannot be a network output");
  for (const OutputDef& o : program_.outputs) {
    if (o.name == name) invalid(name, "output name is used twice");
  }
  program_.outputs.push_back(OutputDef{name, t.id_});
}

Program CudaNetwork::take() {
  if (program_.outputs.empty()) throw Error(kErrInvalidArgument, "the network marks no output");
  if (program_.inputs.empty()) throw Error(kErrInvalidArgument, "the network has no input");
  Program out = std::move(program_);
  program_ = Program{};
  tensors_.clear();
  layers_.clear();
  return out;
}

}  // namespace netdef::cuda
