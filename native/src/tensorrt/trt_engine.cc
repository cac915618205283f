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
  std::unique_ptr<nvinfer1::IBuilder> builder(library.createBuilder(logger));
  TrtNetwork network(*builder, logger);  // owns every weight until the build below returns
  replay(graph, network);

  std::unique_ptr<nvinfer1::IBuilderConfig> config(builder->createBuilderConfig());
  if (!config) backend("createBuilderConfig failed", logger);
  configure(*builder, *config, network, options, logger);

  TrtBuildResult result;
  std::unique_ptr<nvinfer1::ITimingCache> cache(config->createTimingCache(options.timingCache.data(), options.timingCache.size()));
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

struct TrtEngine::State {
  Logger logger;  // first: outlives every TensorRT object below
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

std::map<std::string, Dims> TrtEngine::run(const std::map<std::string, void*>& buffers, int64_t batch, cudaStream_t stream) {
  nvinfer1::IExecutionContext& context = *state_->context;
  std::vector<TrtTensorInfo> io = tensors();
  for (const TrtTensorInfo& t : io) {
    auto it = buffers.find(t.name);
    if (it == buffers.end() || !it->second) invalid("run: no device buffer for tensor '" + t.name + "'");
    if (t.input && !context.setInputShape(t.name.c_str(), atBatch(t.dims, batch))) {
      invalid("run: input '" + t.name + "' refused batch " + std::to_string(batch) + ": " + state_->logger.lastError());
    }
    if (!context.setTensorAddress(t.name.c_str(), it->second)) backend("setTensorAddress('" + t.name + "') failed", state_->logger);
  }
  if (!context.enqueueV3(stream)) backend("enqueueV3 failed", state_->logger);
  std::map<std::string, Dims> shapes;
  for (const TrtTensorInfo& t : io) {
    if (!t.input) shapes.emplace(t.name, fromTrt(context.getTensorShape(t.name.c_str())));
  }
  return shapes;
}

void TrtEngine::refit(const std::vector<Weights>& weights) {
  Logger& logger = state_->logger;
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
    invalid(message);
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
