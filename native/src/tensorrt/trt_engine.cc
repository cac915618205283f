// See trt_engine.h. Ownership: every TensorRT object is held by a unique_ptr (TensorRT 10 and 11
// destroy with delete), declared after the Logger and the objects it depends on, so they are
// destroyed in the reverse order: context, engine, runtime, logger.
#include "trt_engine.h"

#include <NvInfer.h>

#include <cstring>

#include "../common/error.h"
#include "../replay/replay.h"
#include "../replay/shape_rules.h"
#include "trt_loader.h"
#include "trt_network.h"

namespace netdef::trt {
namespace {

[[noreturn]] void backend(const std::string& message, const Logger& logger) {
  throw Error(kErrBackend, message + ": " + logger.lastError());
}

[[noreturn]] void invalid(const std::string& message) { throw Error(kErrInvalidArgument, message); }

std::vector<uint8_t> bytesOf(const nvinfer1::IHostMemory& memory) {
  const auto* data = static_cast<const uint8_t*>(memory.data());
  return std::vector<uint8_t>(data, data + memory.size());
}

// The input's dims with the dynamic batch (-1) set to `batch`.
nvinfer1::Dims atBatch(const Dims& dims, int64_t batch) {
  Dims out = dims;
  for (int64_t& d : out.d) {
    if (d == -1) d = batch;
  }
  return toTrt(out);
}

void configure(nvinfer1::IBuilder& builder, nvinfer1::IBuilderConfig& config, const TrtNetwork& network, const TrtBuildOptions& o,
               const Logger& logger) {
  if (o.minBatch < 1 || o.minBatch > o.optBatch || o.optBatch > o.maxBatch) {
    invalid("batch range needs 1 <= min <= opt <= max, found " + std::to_string(o.minBatch) + "/" + std::to_string(o.optBatch) + "/" +
            std::to_string(o.maxBatch));
  }
  config.setMemoryPoolLimit(nvinfer1::MemoryPoolType::kWORKSPACE, o.workspaceBytes);
  config.setProfilingVerbosity(nvinfer1::ProfilingVerbosity::kDETAILED);
  // Precision is the network's own (strongly typed): no kFP16/kINT8 flags, which 11.x removed.
  if (o.refit) config.setFlag(nvinfer1::BuilderFlag::kREFIT);
  if (o.refitIdentical) config.setFlag(nvinfer1::BuilderFlag::kREFIT_IDENTICAL);
  if (o.stripPlan) config.setFlag(nvinfer1::BuilderFlag::kSTRIP_PLAN);
  if (o.tf32 == 1) config.setFlag(nvinfer1::BuilderFlag::kTF32);
  if (o.tf32 == 0) config.clearFlag(nvinfer1::BuilderFlag::kTF32);

  nvinfer1::IOptimizationProfile* profile = builder.createOptimizationProfile();  // owned by the builder
  if (!profile) backend("createOptimizationProfile failed", logger);
  for (const TrtNetwork::Input& in : network.inputs()) {
    const char* name = in.name.c_str();
    if (!profile->setDimensions(name, nvinfer1::OptProfileSelector::kMIN, atBatch(in.dims, o.minBatch)) ||
        !profile->setDimensions(name, nvinfer1::OptProfileSelector::kOPT, atBatch(in.dims, o.optBatch)) ||
        !profile->setDimensions(name, nvinfer1::OptProfileSelector::kMAX, atBatch(in.dims, o.maxBatch))) {
      backend("optimization profile for input '" + in.name + "' refused", logger);
    }
  }
  if (config.addOptimizationProfile(profile) < 0) backend("addOptimizationProfile failed", logger);
}

}  // namespace

TrtBuildResult buildTrtPlan(const ir::Graph& graph, const TrtBuildOptions& options) {
  const Library& library = Library::get();
  Logger logger;
  // Declared before the builder: a timing cache must outlive every builder that uses it.
  std::unique_ptr<nvinfer1::ITimingCache> cache;
  std::unique_ptr<nvinfer1::IBuilder> builder(library.createBuilder(logger));
  TrtNetwork network(*builder, logger);  // owns every weight until the build below returns
  replay(graph, network);

  std::unique_ptr<nvinfer1::IBuilderConfig> config(builder->createBuilderConfig());
  if (!config) backend("createBuilderConfig failed", logger);
  configure(*builder, *config, network, options, logger);

  TrtBuildResult result;
  cache.reset(config->createTimingCache(options.timingCache.data(), options.timingCache.size()));
  if (!cache && !options.timingCache.empty()) {
    result.log.push_back("warning: the timing cache given could not be read; starting a new one");
    cache.reset(config->createTimingCache(nullptr, 0));
  }
  if (!cache) backend("createTimingCache failed", logger);
  if (!config->setTimingCache(*cache, false)) {
    // A cache from another device or TensorRT version: start anew rather than fail the build.
    result.log.push_back("warning: the timing cache given does not match this device or TensorRT; starting a new one");
    cache.reset(config->createTimingCache(nullptr, 0));
    if (!cache || !config->setTimingCache(*cache, false)) backend("setTimingCache failed", logger);
  }

  std::unique_ptr<nvinfer1::IHostMemory> plan(builder->buildSerializedNetwork(network.definition(), *config));
  if (!plan) backend("buildSerializedNetwork failed", logger);
  result.plan = bytesOf(*plan);
  std::unique_ptr<nvinfer1::IHostMemory> cacheBytes(config->getTimingCache()->serialize());
  if (cacheBytes) result.timingCache = bytesOf(*cacheBytes);
  for (std::string& line : logger.messages()) result.log.push_back(std::move(line));
  return result;
}

namespace {

// Keeps the memory the runner gave an output whose shape depends on the data, and the shape
// TensorRT reports for it; refuses (nullptr) a size beyond that memory rather than allocating.
class KeptOutput final : public nvinfer1::IOutputAllocator {
 public:
  KeptOutput(void* memory, uint64_t bytes) : memory_(memory), bytes_(bytes) {}
  void* reallocateOutputAsync(char const* /*name*/, void* /*current*/, uint64_t size, uint64_t /*alignment*/, cudaStream_t /*stream*/) noexcept override {
    return size <= bytes_ ? memory_ : nullptr;
  }
  void notifyShape(char const* /*name*/, nvinfer1::Dims const& dims) noexcept override { shape_ = dims; }
  const nvinfer1::Dims& shape() const { return shape_; }

 private:
  void* memory_;
  uint64_t bytes_;
  nvinfer1::Dims shape_{};
};

// Sums reportLayerTime per layer name over the profiled enqueues.
class LayerProfiler final : public nvinfer1::IProfiler {
 public:
  void reportLayerTime(char const* layerName, float ms) noexcept override {
    try {
      auto it = index_.find(layerName);
      if (it == index_.end()) {
        it = index_.emplace(layerName, totals_.size()).first;
        totals_.emplace_back(layerName, 0.0);
        counts_.push_back(0);
      }
      totals_[it->second].second += ms;
      ++counts_[it->second];
    } catch (...) {  // out of memory: drop the sample (noexcept interface)
    }
  }
  std::vector<std::pair<std::string, double>> averages() const {
    std::vector<std::pair<std::string, double>> out = totals_;
    for (size_t i = 0; i < out.size(); ++i) out[i].second /= counts_[i] > 0 ? counts_[i] : 1;
    return out;
  }
  void clear() {
    index_.clear();
    totals_.clear();
    counts_.clear();
  }

 private:
  std::map<std::string, size_t> index_;
  std::vector<std::pair<std::string, double>> totals_;  // in first-reported (execution) order
  std::vector<int64_t> counts_;
};

}  // namespace

struct TrtEngine::State {
  Logger logger;  // first: outlives every TensorRT object below
  // Before the context, which keeps pointers to them (setOutputAllocator, setProfiler).
  std::map<std::string, std::unique_ptr<KeptOutput>> dataDependent;  // by output name
  LayerProfiler profiler;
  std::unique_ptr<nvinfer1::IRuntime> runtime;
  std::unique_ptr<nvinfer1::ICudaEngine> engine;
  std::unique_ptr<nvinfer1::IExecutionContext> context;
};

TrtEngine::TrtEngine(std::unique_ptr<State> state) : state_(std::move(state)) {}
TrtEngine::~TrtEngine() = default;

std::unique_ptr<TrtEngine> TrtEngine::load(const void* plan, size_t bytes) {
  if (!plan || bytes == 0) throw Error(kErrEngineFormat, "empty TensorRT plan");
  const Library& library = Library::get();
  auto state = std::make_unique<State>();
  state->runtime.reset(library.createRuntime(state->logger));
  state->engine.reset(state->runtime->deserializeCudaEngine(plan, bytes));
  if (!state->engine) throw Error(kErrEngineFormat, "deserializeCudaEngine failed: " + state->logger.lastError());
  state->context.reset(state->engine->createExecutionContext());
  if (!state->context) backend("createExecutionContext failed", state->logger);
  return std::unique_ptr<TrtEngine>(new TrtEngine(std::move(state)));
}

std::vector<TrtTensorInfo> TrtEngine::tensors() const {
  const nvinfer1::ICudaEngine& engine = *state_->engine;
  std::vector<TrtTensorInfo> out;
  for (int32_t i = 0; i < engine.getNbIOTensors(); ++i) {
    const char* name = engine.getIOTensorName(i);
    out.push_back(TrtTensorInfo{name, engine.getTensorIOMode(name) == nvinfer1::TensorIOMode::kINPUT,
                                fromTrt(engine.getTensorDataType(name)), fromTrt(engine.getTensorShape(name))});
  }
  return out;
}

std::pair<int64_t, int64_t> TrtEngine::batchRange() const {
  for (const TrtTensorInfo& t : tensors()) {
    if (!t.input) continue;
    const nvinfer1::ICudaEngine& engine = *state_->engine;
    const nvinfer1::Dims lo = engine.getProfileShape(t.name.c_str(), 0, nvinfer1::OptProfileSelector::kMIN);
    const nvinfer1::Dims hi = engine.getProfileShape(t.name.c_str(), 0, nvinfer1::OptProfileSelector::kMAX);
    if (lo.nbDims < 1 || hi.nbDims < 1) throw Error(kErrEngineFormat, "the plan has no optimization profile for input '" + t.name + "'");
    return {lo.d[0], hi.d[0]};
  }
  throw Error(kErrEngineFormat, "the plan has no inputs");
}

std::map<std::string, Dims> TrtEngine::setBatch(int64_t batch) {
  state_->logger.clearError();
  nvinfer1::IExecutionContext& context = *state_->context;
  std::map<std::string, Dims> outputs;
  const std::vector<TrtTensorInfo> io = tensors();
  for (const TrtTensorInfo& t : io) {
    if (t.input && !context.setInputShape(t.name.c_str(), atBatch(t.dims, batch))) {
      invalid("input '" + t.name + "' refused batch " + std::to_string(batch) + ": " + state_->logger.lastError());
    }
  }
  for (const TrtTensorInfo& t : io) {
    if (!t.input) outputs.emplace(t.name, fromTrt(context.getTensorShape(t.name.c_str())));
  }
  return outputs;
}

int64_t TrtEngine::maxOutputBytes(const std::string& name) const {
  const int64_t bytes = state_->context->getMaxOutputSize(name.c_str());
  if (bytes < 0) backend("getMaxOutputSize('" + name + "') failed", state_->logger);
  return bytes;
}

void TrtEngine::setAddress(const std::string& name, void* data, uint64_t bytes) {
  nvinfer1::IExecutionContext& context = *state_->context;
  if (!context.setTensorAddress(name.c_str(), data)) backend("setTensorAddress('" + name + "') failed", state_->logger);
  const bool output = state_->engine->getTensorIOMode(name.c_str()) == nvinfer1::TensorIOMode::kOUTPUT;
  const nvinfer1::Dims dims = context.getTensorShape(name.c_str());
  bool dataDependent = false;
  for (int32_t i = 0; i < dims.nbDims; ++i) dataDependent = dataDependent || dims.d[i] < 0;
  if (!output || !dataDependent) return;
  auto& kept = state_->dataDependent[name];
  kept = std::make_unique<KeptOutput>(data, bytes);
  if (!context.setOutputAllocator(name.c_str(), kept.get())) backend("setOutputAllocator('" + name + "') failed", state_->logger);
}

void TrtEngine::enqueue(cudaStream_t stream) {
  state_->logger.clearError();
  if (!state_->context->enqueueV3(stream)) backend("enqueueV3 failed", state_->logger);
}

Dims TrtEngine::outputDims(const std::string& name) const {
  auto it = state_->dataDependent.find(name);
  if (it != state_->dataDependent.end()) return fromTrt(it->second->shape());
  return fromTrt(state_->context->getTensorShape(name.c_str()));
}

void TrtEngine::setProfiling(bool on) {
  state_->profiler.clear();
  state_->context->setProfiler(on ? &state_->profiler : nullptr);
}

std::vector<std::pair<std::string, double>> TrtEngine::layerTimes() const { return state_->profiler.averages(); }

int64_t TrtEngine::deviceMemoryBytes() const { return state_->engine->getDeviceMemorySizeV2(); }

void TrtEngine::refit(const std::vector<Weights>& weights) {
  Logger& logger = state_->logger;
  logger.clearError();
  std::unique_ptr<nvinfer1::IRefitter> refitter(Library::get().createRefitter(*state_->engine, logger));
  std::vector<std::string> mismatches;
  for (const Weights& w : weights) {
    if (w.count > 0 && !w.values) {
      mismatches.push_back(w.name + ": no values");
      continue;
    }
    if (!refitter->setNamedWeights(w.name.c_str(), nvinfer1::Weights{toTrt(w.type), w.values, w.count})) {
      mismatches.push_back(w.name + " (" + ir::dtypeName(w.type) + ", " + std::to_string(w.count) + " values): " + logger.lastError());
    }
  }
  const int32_t missing = refitter->getMissingWeights(0, nullptr);
  if (missing > 0) {
    std::vector<const char*> names(static_cast<size_t>(missing));
    refitter->getMissingWeights(missing, names.data());
    for (const char* name : names) mismatches.push_back(std::string(name ? name : "(unnamed)") + ": missing");
  }
  if (!mismatches.empty()) {
    std::string message = "refit refused, " + std::to_string(mismatches.size()) + " mismatch(es):";
    for (const std::string& m : mismatches) message += "\n  " + m;
    throw Error(kErrWeightsMismatch, message);
  }
  if (!refitter->refitCudaEngine()) backend("refitCudaEngine failed", logger);
}

std::string TrtEngine::inspect() const {
  std::unique_ptr<nvinfer1::IEngineInspector> inspector(state_->engine->createEngineInspector());
  if (!inspector) backend("createEngineInspector failed", state_->logger);
  inspector->setExecutionContext(state_->context.get());
  const char* json = inspector->getEngineInformation(nvinfer1::LayerInformationFormat::kJSON);
  if (!json) backend("getEngineInformation failed", state_->logger);
  return json;
}

std::vector<uint8_t> TrtEngine::serialize() const {
  std::unique_ptr<nvinfer1::IHostMemory> plan(state_->engine->serialize());
  if (!plan) backend("ICudaEngine::serialize failed", state_->logger);
  return bytesOf(*plan);
}

}  // namespace netdef::trt
