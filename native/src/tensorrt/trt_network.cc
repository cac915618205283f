// See trt_network.h. Each add* follows one pattern: check the inputs (the shape rules shared with
// the RecordingNetwork compute the expected output), make the TensorRT layer(s), check for null,
// then finish(): wrap the layers, name their output tensors, compare TensorRT's dims with the rules.
#include "trt_network.h"

#include <cstring>
#include <utility>

#include "../common/error.h"
#include "../replay/shape_rules.h"

namespace netdef::trt {
namespace {

[[noreturn]] void invalid(const std::string& message) { throw Error(kErrInvalidArgument, message); }

// INMSLayer's optional inputs, by index (NvInfer.h, INMSLayer::setInput).
constexpr int32_t kNmsIouThresholdInput = 3;
constexpr int32_t kNmsScoreThresholdInput = 4;

bool isFloat(DType t) { return t == DType::Float32 || t == DType::Float16; }

nvinfer1::Dims dims2(const int64_t (&v)[2]) {
  nvinfer1::Dims d{};
  d.nbDims = 2;
  d.d[0] = v[0];
  d.d[1] = v[1];
  return d;
}

// A convolution's stride, padding, dilation and groups (its kernel size is given when it is added).
void setGeometry(nvinfer1::IConvolutionLayer& conv, const ConvolutionParams& p) {
  conv.setStrideNd(dims2(p.stride));
  conv.setPrePadding(dims2(p.prePadding));
  conv.setPostPadding(dims2(p.postPadding));
  conv.setDilationNd(dims2(p.dilation));
  conv.setNbGroups(p.groups);
}

nvinfer1::ActivationType activationOf(ActivationType t) {
  return t == ActivationType::Relu ? nvinfer1::ActivationType::kRELU : nvinfer1::ActivationType::kSIGMOID;
}

nvinfer1::ElementWiseOperation elementWiseOf(ElementWiseOperation op) {
  using E = nvinfer1::ElementWiseOperation;
  switch (op) {
    case ElementWiseOperation::Sum: return E::kSUM;
    case ElementWiseOperation::Sub: return E::kSUB;
    case ElementWiseOperation::Prod: return E::kPROD;
    case ElementWiseOperation::Div: return E::kDIV;
    case ElementWiseOperation::Max: return E::kMAX;
    case ElementWiseOperation::Min: return E::kMIN;
  }
  invalid("unknown element-wise operation");
}

}  // namespace

nvinfer1::DataType toTrt(DType type) {
  using T = nvinfer1::DataType;
  switch (type) {
    case DType::Float32: return T::kFLOAT;
    case DType::Float16: return T::kHALF;
    case DType::Int8: return T::kINT8;
    case DType::Int32: return T::kINT32;
    case DType::Int64: return T::kINT64;
    case DType::UInt8: return T::kUINT8;
    case DType::Bool: return T::kBOOL;
  }
  invalid("unknown dtype");
}

DType fromTrt(nvinfer1::DataType type) {
  using T = nvinfer1::DataType;
  switch (type) {
    case T::kFLOAT: return DType::Float32;
    case T::kHALF: return DType::Float16;
    case T::kINT8: return DType::Int8;
    case T::kINT32: return DType::Int32;
    case T::kINT64: return DType::Int64;
    case T::kUINT8: return DType::UInt8;
    case T::kBOOL: return DType::Bool;
    default: break;
  }
  throw Error(kErrBackend, "TensorRT made a tensor of a type netdef does not have (DataType " +
                               std::to_string(static_cast<int>(type)) + ")");
}

nvinfer1::Dims toTrt(const Dims& dims) {
  if (dims.d.size() > static_cast<size_t>(nvinfer1::Dims::MAX_DIMS)) {
    invalid("TensorRT takes at most " + std::to_string(nvinfer1::Dims::MAX_DIMS) + " dimensions, found " + formatDims(dims));
  }
  nvinfer1::Dims out{};
  out.nbDims = static_cast<int32_t>(dims.d.size());
  for (size_t i = 0; i < dims.d.size(); ++i) out.d[i] = dims.d[i];
  return out;
}

Dims fromTrt(const nvinfer1::Dims& dims) {
  if (dims.nbDims < 0) throw Error(kErrBackend, "TensorRT could not infer the tensor's rank");
  return Dims{std::vector<int64_t>(dims.d, dims.d + dims.nbDims)};
}

class TrtNetwork::Tensor final : public ITensor {
 public:
  Tensor(nvinfer1::ITensor& trt, std::string name, DType type, Dims dims)
      : trt_(trt), name_(std::move(name)), type_(type), dims_(std::move(dims)) {}
  const std::string& name() const override { return name_; }
  DType type() const override { return type_; }
  const Dims& dims() const override { return dims_; }

  nvinfer1::ITensor& trt() { return trt_; }
  void rename(const std::string& name) {
    if (output_) return;  // a network output keeps the output's name
    name_ = name;
    trt_.setName(name_.c_str());
  }
  void markOutput(const std::string& name) {
    name_ = name;
    trt_.setName(name_.c_str());
    output_ = true;
  }

 private:
  nvinfer1::ITensor& trt_;
  std::string name_;
  DType type_;
  Dims dims_;
  bool output_ = false;
};

class TrtNetwork::Layer final : public ILayer {
 public:
  Layer(std::vector<Part> parts, std::vector<Tensor*> outputs) : parts_(std::move(parts)), outputs_(std::move(outputs)) {}

  void setName(const std::string& name) override {
    for (size_t i = 0; i < parts_.size(); ++i) {
      const std::string layerName = name + parts_[i].suffix;
      parts_[i].layer->setName(layerName.c_str());
      // The graph layer it implements, whatever TensorRT fuses it into: IEngineInspector reports
      // the metadata of every layer a fused engine layer holds (engine/backends/trt-inspector.ts).
      parts_[i].layer->setMetadata(name.c_str());
      if (i + 1 < parts_.size()) {
        // An intermediate layer's outputs: never "<name>_output_<i>", which the call's outputs carry.
        const std::string base = parts_[i].suffix.empty() ? name + "/main" : layerName;
        for (int32_t j = 0; j < parts_[i].layer->getNbOutputs(); ++j) {
          parts_[i].layer->getOutput(j)->setName((base + "_output_" + std::to_string(j)).c_str());
        }
      }
    }
    for (size_t i = 0; i < outputs_.size(); ++i) outputs_[i]->rename(name + "_output_" + std::to_string(i));
  }
  ITensor* output(int index) override {
    return index >= 0 && static_cast<size_t>(index) < outputs_.size() ? outputs_[index] : nullptr;
  }
  int outputCount() const override { return static_cast<int>(outputs_.size()); }

 private:
  std::vector<Part> parts_;
  std::vector<Tensor*> outputs_;
};

TrtNetwork::TrtNetwork(nvinfer1::IBuilder& builder, Logger& logger) : logger_(logger) {
#if NV_TENSORRT_MAJOR >= 11
  // TensorRT 11: every network is strongly typed; kSTRONGLY_TYPED is deprecated and ignored.
  const nvinfer1::NetworkDefinitionCreationFlags flags = 0;
#else
  const nvinfer1::NetworkDefinitionCreationFlags flags =
      1U << static_cast<uint32_t>(nvinfer1::NetworkDefinitionCreationFlag::kSTRONGLY_TYPED);
#endif
  network_.reset(builder.createNetworkV2(flags));
  if (!network_) throw Error(kErrBackend, "createNetworkV2 (strongly typed) failed: " + logger_.lastError());
}

TrtNetwork::~TrtNetwork() = default;

TrtNetwork::Tensor& TrtNetwork::own(ITensor& tensor, const char* call) {
  auto* t = dynamic_cast<Tensor*>(&tensor);
  if (!t) invalid(std::string(call) + ": the input tensor does not belong to this network");
  return *t;
}

nvinfer1::ILayer* TrtNetwork::check(nvinfer1::ILayer* layer, const char* call) {
  if (!layer) throw Error(kErrBackend, std::string(call) + " returned no layer: " + logger_.lastError());
  return layer;
}

ILayer* TrtNetwork::finish(const char* call, std::vector<Part> parts, const std::vector<Dims>& expected) {
  nvinfer1::ILayer& last = *parts.back().layer;
  if (static_cast<size_t>(last.getNbOutputs()) != expected.size()) {
    throw Error(kErrBackend, std::string(call) + ": TensorRT made " + std::to_string(last.getNbOutputs()) + " outputs, expected " +
                                 std::to_string(expected.size()));
  }
  std::vector<Tensor*> outputs;
  for (size_t i = 0; i < expected.size(); ++i) {
    nvinfer1::ITensor* t = last.getOutput(static_cast<int32_t>(i));
    if (!t) throw Error(kErrBackend, std::string(call) + ": TensorRT made no output " + std::to_string(i) + ": " + logger_.lastError());
    // TensorRT reports -1 where a dimension is not known while building the network (a slice whose
    // size is a shape tensor); the shape rules fill those. Fixed values must agree.
    Dims got = fromTrt(t->getDimensions());
    const Dims& want = expected[i];
    bool agree = got.d.size() == want.d.size();
    for (size_t k = 0; agree && k < got.d.size(); ++k) {
      if (got.d[k] == -1) got.d[k] = want.d[k];
      else agree = want.d[k] == -1 || got.d[k] == want.d[k];
    }
    if (!agree) {
      throw Error(kErrBackend, std::string(call) + ": TensorRT inferred " + formatDims(fromTrt(t->getDimensions())) +
                                   ", netdef's shape rules say " + formatDims(want));
    }
    tensors_.push_back(std::make_unique<Tensor>(*t, t->getName() ? t->getName() : "", fromTrt(t->getType()), std::move(got)));
    outputs.push_back(tensors_.back().get());
  }
  layers_.push_back(std::make_unique<Layer>(std::move(parts), std::move(outputs)));
  return layers_.back().get();
}

nvinfer1::Weights TrtNetwork::keepBytes(nvinfer1::DataType type, const void* data, size_t bytes, int64_t count) {
  if (count == 0) return nvinfer1::Weights{type, nullptr, 0};
  auto memory = std::make_unique<unsigned char[]>(bytes);
  std::memcpy(memory.get(), data, bytes);
  weightMemory_.push_back(std::move(memory));
  return nvinfer1::Weights{type, weightMemory_.back().get(), count};
}

nvinfer1::Weights TrtNetwork::keep(const Weights& w) {
  if (w.count < 0 || (w.count > 0 && !w.values)) invalid("weights '" + w.name + "' have no values");
  return keepBytes(toTrt(w.type), w.values, static_cast<size_t>(w.count) * ir::bytesOf(w.type), w.count);
}

void TrtNetwork::nameWeights(const nvinfer1::Weights& weights, const std::string& name, const char* call) {
  if (weights.count == 0 || name.empty()) return;
  if (!network_->setWeightsName(weights, name.c_str())) {
    throw Error(kErrBackend, std::string(call) + ": setWeightsName('" + name + "') failed: " + logger_.lastError());
  }
}

nvinfer1::ITensor& TrtNetwork::scalarConstant(std::vector<Part>& parts, const std::string& suffix, nvinfer1::DataType type, const void* value,
                                              size_t bytes) {
  const int64_t one = 1;
  nvinfer1::Weights w = keepBytes(type, value, bytes, one);
  nvinfer1::ILayer* layer = check(network_->addConstant(toTrt(Dims{}), w), "addConstant");
  parts.push_back(Part{layer, suffix});
  return *layer->getOutput(0);
}

nvinfer1::ITensor& TrtNetwork::shapeConstant(std::vector<Part>& parts, const std::string& suffix, const std::vector<int64_t>& values) {
  nvinfer1::Weights w = keepBytes(nvinfer1::DataType::kINT64, values.data(), values.size() * sizeof(int64_t), static_cast<int64_t>(values.size()));
  nvinfer1::ILayer* layer = check(network_->addConstant(toTrt(Dims{{static_cast<int64_t>(values.size())}}), w), "addConstant");
  parts.push_back(Part{layer, suffix});
  return *layer->getOutput(0);
}

ITensor* TrtNetwork::addInput(const std::string& name, DType type, const Dims& dims) {
  if (name.empty()) invalid("addInput: an input needs a name");
  for (int64_t d : dims.d) {
    if (d < -1) invalid("addInput '" + name + "': bad dimension " + std::to_string(d));
  }
  nvinfer1::ITensor* t = network_->addInput(name.c_str(), toTrt(type), toTrt(dims));
  if (!t) throw Error(kErrBackend, "addInput '" + name + "' failed: " + logger_.lastError());
  tensors_.push_back(std::make_unique<Tensor>(*t, name, type, dims));
  inputs_.push_back(Input{name, type, dims});
  return tensors_.back().get();
}

ILayer* TrtNetwork::addConstant(const Dims& dims, const Weights& weights) {
  for (int64_t d : dims.d) {
    if (d < 0) invalid("addConstant: a constant's dimensions are fixed, found " + formatDims(dims));
  }
  if (weights.count != fixedVolume(dims)) {
    invalid("addConstant: weights '" + weights.name + "' hold " + std::to_string(weights.count) + " values, " + formatDims(dims) +
            " needs " + std::to_string(fixedVolume(dims)));
  }
  nvinfer1::Weights w = keep(weights);
  nvinfer1::ILayer* layer = check(network_->addConstant(toTrt(dims), w), "addConstant");
  nameWeights(w, weights.name, "addConstant");
  return finish("addConstant", {{layer, ""}}, {dims});
}

ILayer* TrtNetwork::addConvolution(ITensor& input, int64_t outChannels, const ConvolutionParams& p, const Weights& kernel,
                                   const Weights& bias) {
  Tensor& x = own(input, "addConvolution");
  const Dims& xd = x.dims();
  if (xd.d.size() != 4 || xd.d[1] < 0 || !isFloat(x.type())) invalid("addConvolution: needs a float [N,C,H,W] input, found " + formatType(x.type(), xd));
  if (p.groups < 1 || xd.d[1] % p.groups != 0 || outChannels % p.groups != 0) invalid("addConvolution: channels do not divide into groups");
  if (kernel.type != x.type() || (bias.count > 0 && bias.type != x.type())) {
    invalid("addConvolution: weights must have the input's dtype " + std::string(ir::dtypeName(x.type())) + " (strongly typed)");
  }
  const int64_t kernelCount = outChannels * (xd.d[1] / p.groups) * p.kernel[0] * p.kernel[1];
  if (kernel.count != kernelCount) invalid("addConvolution: kernel '" + kernel.name + "' holds " + std::to_string(kernel.count) + " values, needs " + std::to_string(kernelCount));
  if (bias.count != 0 && bias.count != outChannels) invalid("addConvolution: bias '" + bias.name + "' holds " + std::to_string(bias.count) + " values, needs " + std::to_string(outChannels));

  nvinfer1::Weights kw = keep(kernel);
  nvinfer1::Weights bw = bias.count > 0 ? keep(bias) : nvinfer1::Weights{toTrt(x.type()), nullptr, 0};
  auto* conv = static_cast<nvinfer1::IConvolutionLayer*>(
      check(network_->addConvolutionNd(x.trt(), outChannels, dims2(p.kernel), kw, bw), "addConvolutionNd"));
  setGeometry(*conv, p);
  nameWeights(kw, kernel.name, "addConvolutionNd");
  nameWeights(bw, bias.name, "addConvolutionNd");
  return finish("addConvolutionNd", {{conv, ""}}, {convolutionDims(xd, outChannels, p)});
}

ILayer* TrtNetwork::addConvolutionInt8(ITensor& input, float inputScale, int64_t outChannels, const ConvolutionParams& p,
                                       const Weights& kernel, const Weights& kernelScales, const Weights& bias) {
  Tensor& x = own(input, "addConvolutionInt8");
  const Dims& xd = x.dims();
  if (xd.d.size() != 4 || xd.d[1] < 0 || x.type() != DType::Int8) invalid("addConvolutionInt8: needs an int8 [N,C,H,W] input, found " + formatType(x.type(), xd));
  if (p.groups < 1 || xd.d[1] % p.groups != 0 || outChannels % p.groups != 0) invalid("addConvolutionInt8: channels do not divide into groups");
  if (!(inputScale > 0)) invalid("addConvolutionInt8: the input scale must be positive");
  const int64_t kernelCount = outChannels * (xd.d[1] / p.groups) * p.kernel[0] * p.kernel[1];
  if (kernel.type != DType::Int8 || kernel.count != kernelCount || kernelScales.type != DType::Float32 || kernelScales.count != outChannels ||
      (bias.count > 0 && (bias.type != DType::Float32 || bias.count != outChannels))) {
    invalid("addConvolutionInt8: needs an int8 kernel of " + std::to_string(kernelCount) + " values, " + std::to_string(outChannels) +
            " float32 scales and a float32 bias");
  }
  std::vector<Part> parts;
  nvinfer1::ITensor& xScale = scalarConstant(parts, "/input_scale", nvinfer1::DataType::kFLOAT, &inputScale, sizeof inputScale);
  nvinfer1::ILayer* dqX = check(network_->addDequantize(x.trt(), xScale, nvinfer1::DataType::kFLOAT), "addDequantize");
  parts.push_back(Part{dqX, "/input_dequantize"});
  const Dims kernelDims{{outChannels, xd.d[1] / p.groups, p.kernel[0], p.kernel[1]}};
  nvinfer1::Weights kw = keep(kernel);
  nvinfer1::ILayer* k = check(network_->addConstant(toTrt(kernelDims), kw), "addConstant");
  nameWeights(kw, kernel.name, "addConstant");
  parts.push_back(Part{k, "/kernel"});
  nvinfer1::Weights sw = keep(kernelScales);
  nvinfer1::ILayer* ks = check(network_->addConstant(toTrt(Dims{{outChannels}}), sw), "addConstant");
  nameWeights(sw, kernelScales.name, "addConstant");
  parts.push_back(Part{ks, "/kernel_scale"});
  auto* dqK = static_cast<nvinfer1::IDequantizeLayer*>(
      check(network_->addDequantize(*k->getOutput(0), *ks->getOutput(0), nvinfer1::DataType::kFLOAT), "addDequantize"));
  dqK->setAxis(0);
  parts.push_back(Part{dqK, "/kernel_dequantize"});
  nvinfer1::Weights none{nvinfer1::DataType::kFLOAT, nullptr, 0};
  nvinfer1::Weights bw = bias.count > 0 ? keep(bias) : none;
  auto* conv = static_cast<nvinfer1::IConvolutionLayer*>(
      check(network_->addConvolutionNd(*dqX->getOutput(0), outChannels, dims2(p.kernel), none, bw), "addConvolutionNd"));
  setGeometry(*conv, p);
  conv->setInput(1, *dqK->getOutput(0));
  nameWeights(bw, bias.name, "addConvolutionNd");
  parts.push_back(Part{conv, ""});
  return finish("addConvolutionInt8", parts, {convolutionDims(xd, outChannels, p)});
}

ILayer* TrtNetwork::addActivation(ITensor& input, ActivationType type) {
  Tensor& x = own(input, "addActivation");
  if (!isFloat(x.type())) invalid("addActivation: needs a float input");
  if (type != ActivationType::Silu) {
    return finish("addActivation", {{check(network_->addActivation(x.trt(), activationOf(type)), "addActivation"), ""}}, {x.dims()});
  }
  // SiLU(x) = x * sigmoid(x): TensorRT fuses the pair into one kernel.
  nvinfer1::ILayer* sigmoid = check(network_->addActivation(x.trt(), nvinfer1::ActivationType::kSIGMOID), "addActivation");
  nvinfer1::ILayer* mul = check(network_->addElementWise(x.trt(), *sigmoid->getOutput(0), nvinfer1::ElementWiseOperation::kPROD), "addElementWise");
  return finish("addActivation", {{sigmoid, ""}, {mul, "/mul"}}, {x.dims()});
}

ILayer* TrtNetwork::addElementWise(ITensor& a, ITensor& b, ElementWiseOperation op) {
  Tensor& x = own(a, "addElementWise");
  Tensor& y = own(b, "addElementWise");
  if (x.type() != y.type()) invalid("addElementWise: inputs must share a dtype (strongly typed)");
  Dims out = broadcastDims(x.dims(), y.dims());
  return finish("addElementWise", {{check(network_->addElementWise(x.trt(), y.trt(), elementWiseOf(op)), "addElementWise"), ""}}, {out});
}

ILayer* TrtNetwork::addConcatenation(const std::vector<ITensor*>& inputs, int axis) {
  if (inputs.empty()) invalid("addConcatenation: needs inputs");
  std::vector<const Dims*> dims;
  std::vector<nvinfer1::ITensor*> trt;
  for (ITensor* t : inputs) {
    if (!t || t->type() != inputs.front()->type()) invalid("addConcatenation: inputs must share a dtype");
    dims.push_back(&t->dims());
    trt.push_back(&own(*t, "addConcatenation").trt());
  }
  const int normalized = normalizeAxis(axis, inputs.front()->dims().d.size());
  Dims out = concatDims(dims, normalized);
  auto* layer = static_cast<nvinfer1::IConcatenationLayer*>(
      check(network_->addConcatenation(trt.data(), static_cast<int32_t>(trt.size())), "addConcatenation"));
  layer->setAxis(normalized);
  return finish("addConcatenation", {{layer, ""}}, {out});
}

ILayer* TrtNetwork::addSlice(ITensor& input, const Dims& start, const Dims& size, const Dims& stride) {
  Tensor& x = own(input, "addSlice");
  Dims out = sliceDims(x.dims(), start, size, stride);
  std::vector<Part> parts;
  Dims staticSize = size;
  std::vector<int64_t> mask(size.d.size(), 0), fixed(size.d.size(), 0);
  bool dynamic = false;
  for (size_t i = 0; i < size.d.size(); ++i) {
    if (size.d[i] != -1) {
      fixed[i] = size.d[i];
      continue;
    }
    if (start.d[i] != 0 || stride.d[i] != 1) invalid("addSlice: a size of -1 (the whole dynamic axis) needs start 0 and stride 1");
    dynamic = true;
    mask[i] = 1;
    staticSize.d[i] = 1;  // replaced by the shape tensor below
  }
  nvinfer1::ISliceLayer* slice =
      static_cast<nvinfer1::ISliceLayer*>(check(network_->addSlice(x.trt(), toTrt(start), toTrt(staticSize), toTrt(stride)), "addSlice"));
  if (dynamic) {
    // size = shape(x) * mask + fixed: the input's extent where the size is -1, the fixed size elsewhere.
    nvinfer1::ILayer* shape = check(network_->addShape(x.trt()), "addShape");
    parts.push_back(Part{shape, "/shape"});
    nvinfer1::ITensor& maskT = shapeConstant(parts, "/size_mask", mask);
    nvinfer1::ILayer* masked = check(network_->addElementWise(*shape->getOutput(0), maskT, nvinfer1::ElementWiseOperation::kPROD), "addElementWise");
    parts.push_back(Part{masked, "/size_masked"});
    nvinfer1::ITensor& fixedT = shapeConstant(parts, "/size_fixed", fixed);
    nvinfer1::ILayer* sum = check(network_->addElementWise(*masked->getOutput(0), fixedT, nvinfer1::ElementWiseOperation::kSUM), "addElementWise");
    parts.push_back(Part{sum, "/size"});
    slice->setInput(2, *sum->getOutput(0));
  }
  parts.push_back(Part{slice, ""});
  return finish("addSlice", std::move(parts), {out});
}

ILayer* TrtNetwork::addPooling(ITensor& input, const PoolingParams& p, PoolingType type) {
  Tensor& x = own(input, "addPooling");
  const Dims& xd = x.dims();
  // Max pooling commutes with int8 quantization, so it takes int8 (explicit quantization); averaging needs floats.
  const bool int8Max = x.type() == DType::Int8 && type == PoolingType::Max;
  if (xd.d.size() != 4 || !(isFloat(x.type()) || int8Max)) invalid("addPooling: needs a float [N,C,H,W] input (int8 for max pooling)");
  auto* pool = static_cast<nvinfer1::IPoolingLayer*>(check(
      network_->addPoolingNd(x.trt(), type == PoolingType::Max ? nvinfer1::PoolingType::kMAX : nvinfer1::PoolingType::kAVERAGE, dims2(p.window)),
      "addPoolingNd"));
  pool->setStrideNd(dims2(p.stride));
  pool->setPrePadding(dims2(p.prePadding));
  pool->setPostPadding(dims2(p.postPadding));
  Dims out{{xd.d[0], xd.d[1], windowOutput(xd.d[2], p.window[0], p.stride[0], p.prePadding[0], p.postPadding[0], 1),
            windowOutput(xd.d[3], p.window[1], p.stride[1], p.prePadding[1], p.postPadding[1], 1)}};
  return finish("addPoolingNd", {{pool, ""}}, {out});
}

ILayer* TrtNetwork::addResize(ITensor& input, const std::vector<float>& scales) {
  Tensor& x = own(input, "addResize");
  Dims out = resizeDims(x.dims(), scales);
  auto* resize = static_cast<nvinfer1::IResizeLayer*>(check(network_->addResize(x.trt()), "addResize"));
  resize->setResizeMode(nvinfer1::InterpolationMode::kNEAREST);
  resize->setScales(scales.data(), static_cast<int32_t>(scales.size()));
  resize->setCoordinateTransformation(nvinfer1::ResizeCoordinateTransformation::kASYMMETRIC);
  resize->setNearestRounding(nvinfer1::ResizeRoundMode::kFLOOR);
  return finish("addResize", {{resize, ""}}, {out});
}

ILayer* TrtNetwork::addShuffle(ITensor& input, const Dims& reshape, const std::vector<int>& permutation) {
  Tensor& x = own(input, "addShuffle");
  Dims out = shuffleDims(x.dims(), reshape, permutation);
  auto* shuffle = static_cast<nvinfer1::IShuffleLayer*>(check(network_->addShuffle(x.trt()), "addShuffle"));
  if (!reshape.d.empty()) {
    // -1 where the input has the dynamic batch on the same axis: 0, "copy the input's dimension".
    Dims trtReshape = reshape;
    const std::vector<int64_t>& in = x.dims().d;
    for (size_t i = 0; i < trtReshape.d.size(); ++i) {
      if (trtReshape.d[i] == -1 && i < in.size() && in[i] == -1) trtReshape.d[i] = 0;
    }
    shuffle->setZeroIsPlaceholder(true);
    shuffle->setReshapeDimensions(toTrt(trtReshape));
  }
  if (!permutation.empty()) {
    if (permutation.size() > static_cast<size_t>(nvinfer1::Dims::MAX_DIMS)) invalid("addShuffle: permutation too long");
    nvinfer1::Permutation perm{};
    for (size_t i = 0; i < permutation.size(); ++i) perm.order[i] = permutation[i];
    shuffle->setSecondTranspose(perm);
  }
  return finish("addShuffle", {{shuffle, ""}}, {out});
}

ILayer* TrtNetwork::addSoftmax(ITensor& input, int axis) {
  Tensor& x = own(input, "addSoftmax");
  if (!isFloat(x.type())) invalid("addSoftmax: needs a float input");
  const int normalized = normalizeAxis(axis, x.dims().d.size());
  auto* softmax = static_cast<nvinfer1::ISoftMaxLayer*>(check(network_->addSoftMax(x.trt()), "addSoftMax"));
  softmax->setAxes(1U << normalized);
  return finish("addSoftMax", {{softmax, ""}}, {x.dims()});
}

ILayer* TrtNetwork::addMatrixMultiply(ITensor& a, ITensor& b) {
  Tensor& x = own(a, "addMatrixMultiply");
  Tensor& y = own(b, "addMatrixMultiply");
  if (x.type() != y.type()) invalid("addMatrixMultiply: inputs must share a dtype (strongly typed)");
  Dims out = matMulDims(x.dims(), y.dims());
  nvinfer1::ILayer* layer = check(
      network_->addMatrixMultiply(x.trt(), nvinfer1::MatrixOperation::kNONE, y.trt(), nvinfer1::MatrixOperation::kNONE), "addMatrixMultiply");
  return finish("addMatrixMultiply", {{layer, ""}}, {out});
}

ILayer* TrtNetwork::addCast(ITensor& input, DType to) {
  Tensor& x = own(input, "addCast");
  return finish("addCast", {{check(network_->addCast(x.trt(), toTrt(to)), "addCast"), ""}}, {x.dims()});
}

ILayer* TrtNetwork::addQuantize(ITensor& input, ITensor& scale, int axis, DType to) {
  Tensor& x = own(input, "addQuantize");
  Tensor& s = own(scale, "addQuantize");
  if (!isFloat(x.type()) || s.type() != DType::Float32 || to != DType::Int8) invalid("addQuantize: float input, float32 scale, int8 output");
  if (s.dims().d.size() > 1) invalid("addQuantize: the scale is a scalar (per tensor) or a vector (per channel)");
  auto* q = static_cast<nvinfer1::IQuantizeLayer*>(check(network_->addQuantize(x.trt(), s.trt(), toTrt(to)), "addQuantize"));
  if (s.dims().d.size() == 1) q->setAxis(normalizeAxis(axis, x.dims().d.size()));
  return finish("addQuantize", {{q, ""}}, {x.dims()});
}

ILayer* TrtNetwork::addDequantize(ITensor& input, ITensor& scale, int axis, DType to) {
  Tensor& x = own(input, "addDequantize");
  Tensor& s = own(scale, "addDequantize");
  if (x.type() != DType::Int8 || s.type() != DType::Float32 || !isFloat(to)) invalid("addDequantize: int8 input, float32 scale, float output");
  if (s.dims().d.size() > 1) invalid("addDequantize: the scale is a scalar (per tensor) or a vector (per channel)");
  auto* dq = static_cast<nvinfer1::IDequantizeLayer*>(check(network_->addDequantize(x.trt(), s.trt(), toTrt(to)), "addDequantize"));
  if (s.dims().d.size() == 1) dq->setAxis(normalizeAxis(axis, x.dims().d.size()));
  return finish("addDequantize", {{dq, ""}}, {x.dims()});
}

ILayer* TrtNetwork::addNMS(ITensor& boxesIn, ITensor& scoresIn, const NmsParams& p) {
  Tensor& boxes = own(boxesIn, "addNMS");
  Tensor& scores = own(scoresIn, "addNMS");
  if (!isFloat(boxes.type()) || scores.type() != boxes.type()) invalid("addNMS: boxes and scores must share a float dtype");
  std::vector<Dims> out = nmsDims(boxes.dims(), scores.dims(), p);
  std::vector<Part> parts;
  nvinfer1::ITensor& maxPerClass = scalarConstant(parts, "/max_output_boxes_per_class", nvinfer1::DataType::kINT32, &p.maxOutputBoxesPerClass,
                                                  sizeof p.maxOutputBoxesPerClass);
  nvinfer1::ITensor& iou = scalarConstant(parts, "/iou_threshold", nvinfer1::DataType::kFLOAT, &p.iouThreshold, sizeof p.iouThreshold);
  nvinfer1::ITensor& score = scalarConstant(parts, "/score_threshold", nvinfer1::DataType::kFLOAT, &p.scoreThreshold, sizeof p.scoreThreshold);
#if NV_TENSORRT_MAJOR > 10 || (NV_TENSORRT_MAJOR == 10 && NV_TENSORRT_MINOR >= 14)
  // 10.14 deprecated the three-argument overload in favour of one naming the indices' type.
  nvinfer1::INMSLayer* nms = network_->addNMS(boxes.trt(), scores.trt(), maxPerClass, nvinfer1::DataType::kINT32);
#else
  nvinfer1::INMSLayer* nms = network_->addNMS(boxes.trt(), scores.trt(), maxPerClass);  // int32 indices
#endif
  check(nms, "addNMS");
  nms->setInput(kNmsIouThresholdInput, iou);
  nms->setInput(kNmsScoreThresholdInput, score);
  nms->setBoundingBoxFormat(p.format == BoxFormat::CornerPairs ? nvinfer1::BoundingBoxFormat::kCORNER_PAIRS
                                                               : nvinfer1::BoundingBoxFormat::kCENTER_SIZES);
  nms->setTopKBoxLimit(p.topKBoxLimit);
  parts.push_back(Part{nms, ""});
  return finish("addNMS", std::move(parts), out);
}

void TrtNetwork::markOutput(ITensor& tensor, const std::string& name) {
  Tensor& t = own(tensor, "markOutput");
  if (name.empty()) invalid("markOutput: an output needs a name");
  t.markOutput(name);
  network_->markOutput(t.trt());
}

}  // namespace netdef::trt
