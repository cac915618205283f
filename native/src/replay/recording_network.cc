// The recording network (see recording_network.h): tensors and layers are plain records owned by
// the network; each add* checks its inputs as a strongly typed network would, infers the output
// with shape_rules.h and appends one Call, rendered to text by lines().
#include "recording_network.h"

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

#include "../common/error.h"
#include "shape_rules.h"

namespace netdef {

class RecordingNetwork::Tensor final : public ITensor {
 public:
  Tensor(std::string name, DType type, Dims dims) : name_(std::move(name)), type_(type), dims_(std::move(dims)) {}
  const std::string& name() const override { return name_; }
  DType type() const override { return type_; }
  const Dims& dims() const override { return dims_; }

  std::string name_;  // the producing layer's setName renames it

 private:
  DType type_;
  Dims dims_;
};

class RecordingNetwork::Layer final : public ILayer {
 public:
  explicit Layer(std::string name) : name_(std::move(name)) {}
  void setName(const std::string& name) override {
    name_ = name;
    for (size_t i = 0; i < outputs_.size(); ++i) outputs_[i]->name_ = name + "_output_" + std::to_string(i);
  }
  ITensor* output(int index) override {
    return index >= 0 && static_cast<size_t>(index) < outputs_.size() ? outputs_[index] : nullptr;
  }
  int outputCount() const override { return static_cast<int>(outputs_.size()); }

  std::string name_;
  std::vector<Tensor*> outputs_;
};

struct RecordingNetwork::Call {
  std::string op;
  const Layer* layer = nullptr;  // null for addInput and markOutput, which name `subject`
  std::string subject;
  std::vector<const Tensor*> inputs;
  std::string args;
  std::vector<const Tensor*> outputs;
};

namespace {

[[noreturn]] void invalid(const std::string& message) { throw Error(kErrInvalidArgument, message); }

bool isFloat(DType t) { return t == DType::Float32 || t == DType::Float16; }

std::string ints(const int64_t* v, size_t n, const char* sep = ",") {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += (i ? sep : "") + std::to_string(v[i]);
  return s;
}

std::string ints(const std::vector<int64_t>& v) { return ints(v.data(), v.size()); }

std::string weightsText(const Weights& w, const Dims& shape) {
  if (w.count != fixedVolume(shape) || (w.count > 0 && !w.values)) {
    invalid("weights '" + w.name + "' hold " + std::to_string(w.count) + " values, " + formatDims(shape) + " needs " +
            std::to_string(fixedVolume(shape)));
  }
  return (w.name.empty() ? std::string("(unnamed)") : w.name) + ":" + formatType(w.type, shape);
}

// The shortest decimal text that reads back as the same float (0.7f prints as "0.7").
std::string shortest(float v) {
  char text[32];
  for (int digits = 1; digits <= std::numeric_limits<float>::max_digits10; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, static_cast<double>(v));
    if (std::strtof(text, nullptr) == v) break;
  }
  return text;
}

const char* activationName(ActivationType t) {
  switch (t) {
    case ActivationType::Sigmoid: return "sigmoid";
    case ActivationType::Relu: return "relu";
    case ActivationType::Silu: return "silu";
  }
  return "?";
}

const char* elementWiseName(ElementWiseOperation op) {
  switch (op) {
    case ElementWiseOperation::Sum: return "sum";
    case ElementWiseOperation::Sub: return "sub";
    case ElementWiseOperation::Prod: return "prod";
    case ElementWiseOperation::Div: return "div";
    case ElementWiseOperation::Max: return "max";
    case ElementWiseOperation::Min: return "min";
  }
  return "?";
}

// "out=16 k=3x3 s=2x2 d=1x1 p=1,1,1,1 g=1": a convolution's geometry as the recording prints it.
std::string convolutionText(int64_t outChannels, const ConvolutionParams& p) {
  return "out=" + std::to_string(outChannels) + " k=" + ints(p.kernel, 2, "x") + " s=" + ints(p.stride, 2, "x") + " d=" + ints(p.dilation, 2, "x") +
         " p=" + ints(p.prePadding, 2) + "," + ints(p.postPadding, 2) + " g=" + std::to_string(p.groups);
}

}  // namespace

RecordingNetwork::RecordingNetwork() = default;
RecordingNetwork::~RecordingNetwork() = default;

ILayer* RecordingNetwork::record(const std::string& op, std::vector<ITensor*> inputs, std::string args, const std::vector<Output>& outputs) {
  Call call{op, nullptr, {}, {}, std::move(args), {}};
  for (ITensor* t : inputs) {
    auto* own = dynamic_cast<Tensor*>(t);
    if (!own) invalid(op + ": the input tensor does not belong to this network");
    call.inputs.push_back(own);
  }
  auto layer = std::make_unique<Layer>("(layer " + std::to_string(layers_.size()) + ")");
  for (size_t i = 0; i < outputs.size(); ++i) {
    tensors_.push_back(std::make_unique<Tensor>(layer->name_ + "_output_" + std::to_string(i), outputs[i].type, outputs[i].dims));
    layer->outputs_.push_back(tensors_.back().get());
    call.outputs.push_back(tensors_.back().get());
  }
  call.layer = layer.get();
  layers_.push_back(std::move(layer));
  calls_.push_back(std::move(call));
  return layers_.back().get();
}

ITensor* RecordingNetwork::addInput(const std::string& name, DType type, const Dims& dims) {
  if (name.empty()) invalid("addInput: an input needs a name");
  for (int64_t d : dims.d) {
    if (d < -1) invalid("addInput '" + name + "': bad dimension " + std::to_string(d));
  }
  tensors_.push_back(std::make_unique<Tensor>(name, type, dims));
  calls_.push_back(Call{"addInput", nullptr, name, {}, "", {tensors_.back().get()}});
  return tensors_.back().get();
}

ILayer* RecordingNetwork::addConstant(const Dims& dims, const Weights& weights) {
  for (int64_t d : dims.d) {
    if (d < 0) invalid("addConstant: a constant's dimensions are fixed, found " + formatDims(dims));
  }
  return record("addConstant", {}, "w=" + weightsText(weights, dims), weights.type, dims);
}

ILayer* RecordingNetwork::addConvolution(ITensor& input, int64_t outChannels, const ConvolutionParams& p, const Weights& kernel,
                                         const Weights& bias) {
  const Dims& x = input.dims();
  if (x.d.size() != 4 || x.d[1] < 0 || !isFloat(input.type())) invalid("addConvolution: needs a float [N,C,H,W] input, found " + formatType(input.type(), x));
  if (p.groups < 1 || x.d[1] % p.groups != 0 || outChannels % p.groups != 0) invalid("addConvolution: channels do not divide into groups");
  if (kernel.type != input.type() || (bias.count > 0 && bias.type != input.type())) {
    invalid("addConvolution: weights must have the input's dtype " + std::string(ir::dtypeName(input.type())) + " (strongly typed)");
  }
  std::string args = convolutionText(outChannels, p) + " w=" + weightsText(kernel, Dims{{outChannels, x.d[1] / p.groups, p.kernel[0], p.kernel[1]}});
  if (bias.count > 0) args += " b=" + weightsText(bias, Dims{{outChannels}});
  return record("addConvolution", {&input}, args, input.type(), convolutionDims(x, outChannels, p));
}

ILayer* RecordingNetwork::addConvolutionInt8(ITensor& input, float inputScale, int64_t outChannels, const ConvolutionParams& p,
                                             const Weights& kernel, const Weights& kernelScales, const Weights& bias) {
  const Dims& x = input.dims();
  if (x.d.size() != 4 || x.d[1] < 0 || input.type() != DType::Int8) invalid("addConvolutionInt8: needs an int8 [N,C,H,W] input, found " + formatType(input.type(), x));
  if (p.groups < 1 || x.d[1] % p.groups != 0 || outChannels % p.groups != 0) invalid("addConvolutionInt8: channels do not divide into groups");
  if (!(inputScale > 0)) invalid("addConvolutionInt8: the input scale must be positive");
  if (kernel.type != DType::Int8 || kernelScales.type != DType::Float32 || kernelScales.count != outChannels || (bias.count > 0 && bias.type != DType::Float32)) {
    invalid("addConvolutionInt8: an int8 kernel, one float32 scale per output channel and a float32 bias");
  }
  std::string args = "x_scale=" + shortest(inputScale) + " " + convolutionText(outChannels, p) +
                     " w=" + weightsText(kernel, Dims{{outChannels, x.d[1] / p.groups, p.kernel[0], p.kernel[1]}}) +
                     " w_scale=" + weightsText(kernelScales, Dims{{outChannels}});
  if (bias.count > 0) args += " b=" + weightsText(bias, Dims{{outChannels}});
  return record("addConvolutionInt8", {&input}, args, DType::Float32, convolutionDims(x, outChannels, p));
}

ILayer* RecordingNetwork::addActivation(ITensor& input, ActivationType type) {
  if (!isFloat(input.type())) invalid("addActivation: needs a float input");
  return record("addActivation", {&input}, std::string("op=") + activationName(type), input.type(), input.dims());
}

ILayer* RecordingNetwork::addElementWise(ITensor& a, ITensor& b, ElementWiseOperation op) {
  if (a.type() != b.type()) invalid("addElementWise: inputs must share a dtype (strongly typed)");
  return record("addElementWise", {&a, &b}, std::string("op=") + elementWiseName(op), a.type(), broadcastDims(a.dims(), b.dims()));
}

ILayer* RecordingNetwork::addConcatenation(const std::vector<ITensor*>& inputs, int axis) {
  std::vector<const Dims*> dims;
  for (ITensor* t : inputs) {
    if (!t || t->type() != inputs.front()->type()) invalid("addConcatenation: inputs must share a dtype");
    dims.push_back(&t->dims());
  }
  Dims out = concatDims(dims, axis);
  return record("addConcatenation", inputs, "axis=" + std::to_string(axis), inputs.front()->type(), out);
}

ILayer* RecordingNetwork::addSlice(ITensor& input, const Dims& start, const Dims& size, const Dims& stride) {
  Dims out = sliceDims(input.dims(), start, size, stride);
  return record("addSlice", {&input}, "start=" + ints(start.d) + " size=" + ints(size.d) + " stride=" + ints(stride.d), input.type(), out);
}

ILayer* RecordingNetwork::addPooling(ITensor& input, const PoolingParams& p, PoolingType type) {
  const Dims& x = input.dims();
  // Max pooling commutes with int8 quantization, so it takes int8 (explicit quantization); averaging needs floats.
  const bool int8Max = input.type() == DType::Int8 && type == PoolingType::Max;
  if (x.d.size() != 4 || !(isFloat(input.type()) || int8Max)) invalid("addPooling: needs a float [N,C,H,W] input (int8 for max pooling)");
  std::string args = std::string("op=") + (type == PoolingType::Max ? "max" : "average") + " k=" + ints(p.window, 2, "x") +
                     " s=" + ints(p.stride, 2, "x") + " p=" + ints(p.prePadding, 2) + "," + ints(p.postPadding, 2);
  Dims out{{x.d[0], x.d[1], windowOutput(x.d[2], p.window[0], p.stride[0], p.prePadding[0], p.postPadding[0], 1),
            windowOutput(x.d[3], p.window[1], p.stride[1], p.prePadding[1], p.postPadding[1], 1)}};
  return record("addPooling", {&input}, args, input.type(), out);
}

ILayer* RecordingNetwork::addResize(ITensor& input, const std::vector<float>& scales) {
  Dims out = resizeDims(input.dims(), scales);
  std::vector<int64_t> whole(scales.begin(), scales.end());
  return record("addResize", {&input}, "mode=nearest scales=" + ints(whole), input.type(), out);
}

ILayer* RecordingNetwork::addShuffle(ITensor& input, const Dims& reshape, const std::vector<int>& permutation) {
  Dims out = shuffleDims(input.dims(), reshape, permutation);
  std::string args;
  if (!reshape.d.empty()) args = "reshape=" + ints(reshape.d);
  if (!permutation.empty()) args += (args.empty() ? "" : " ") + std::string("perm=") + ints(std::vector<int64_t>(permutation.begin(), permutation.end()));
  return record("addShuffle", {&input}, args, input.type(), out);
}

ILayer* RecordingNetwork::addSoftmax(ITensor& input, int axis) {
  if (!isFloat(input.type())) invalid("addSoftmax: needs a float input");
  normalizeAxis(axis, input.dims().d.size());
  return record("addSoftmax", {&input}, "axis=" + std::to_string(axis), input.type(), input.dims());
}

ILayer* RecordingNetwork::addMatrixMultiply(ITensor& a, ITensor& b) {
  if (a.type() != b.type()) invalid("addMatrixMultiply: inputs must share a dtype (strongly typed)");
  return record("addMatrixMultiply", {&a, &b}, "", a.type(), matMulDims(a.dims(), b.dims()));
}

ILayer* RecordingNetwork::addCast(ITensor& input, DType to) {
  return record("addCast", {&input}, std::string("to=") + ir::dtypeName(to), to, input.dims());
}

ILayer* RecordingNetwork::addQuantize(ITensor& input, ITensor& scale, int axis, DType to) {
  if (!isFloat(input.type()) || scale.type() != DType::Float32 || to != DType::Int8) invalid("addQuantize: float input, float32 scale, int8 output");
  if (scale.dims().d.size() == 1) normalizeAxis(axis, input.dims().d.size());
  std::string args = (scale.dims().d.empty() ? std::string() : "axis=" + std::to_string(axis) + " ") + "to=" + ir::dtypeName(to);
  return record("addQuantize", {&input, &scale}, args, to, input.dims());
}

ILayer* RecordingNetwork::addDequantize(ITensor& input, ITensor& scale, int axis, DType to) {
  if (input.type() != DType::Int8 || scale.type() != DType::Float32 || !isFloat(to)) invalid("addDequantize: int8 input, float32 scale, float output");
  if (scale.dims().d.size() == 1) normalizeAxis(axis, input.dims().d.size());
  std::string args = (scale.dims().d.empty() ? std::string() : "axis=" + std::to_string(axis) + " ") + "to=" + ir::dtypeName(to);
  return record("addDequantize", {&input, &scale}, args, to, input.dims());
}

ILayer* RecordingNetwork::addNMS(ITensor& boxes, ITensor& scores, const NmsParams& p) {
  if (!isFloat(boxes.type()) || scores.type() != boxes.type()) invalid("addNMS: boxes and scores must share a float dtype");
  std::vector<Dims> out = nmsDims(boxes.dims(), scores.dims(), p);
  std::string args = std::string("box=") + (p.format == BoxFormat::CornerPairs ? "corner_pairs" : "center_sizes") +
                     " max_per_class=" + std::to_string(p.maxOutputBoxesPerClass) + " iou=" + shortest(p.iouThreshold) +
                     " score=" + shortest(p.scoreThreshold) + " top_k=" + std::to_string(p.topKBoxLimit);
  return record("addNMS", {&boxes, &scores}, args, {Output{DType::Int32, out[0]}, Output{DType::Int32, out[1]}});
}

void RecordingNetwork::markOutput(ITensor& tensor, const std::string& name) {
  auto* own = dynamic_cast<Tensor*>(&tensor);
  if (!own) invalid("markOutput: the tensor does not belong to this network");
  calls_.push_back(Call{"markOutput", nullptr, name, {own}, "", {own}});
}

std::vector<std::string> RecordingNetwork::lines() const {
  std::vector<std::string> out;
  out.reserve(calls_.size());
  for (const Call& c : calls_) {
    std::string line = c.op + " " + (c.layer ? c.layer->name_ : c.subject);
    for (size_t i = 0; i < c.inputs.size(); ++i) line += (i ? "," : " in=") + c.inputs[i]->name();
    if (!c.args.empty()) line += " " + c.args;
    for (size_t i = 0; i < c.outputs.size(); ++i) line += (i ? ", " : " -> ") + formatType(c.outputs[i]->type(), c.outputs[i]->dims());
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace netdef
