// Building and loading CudaEngines: see engine_build.h.
#include "engine_build.h"

#include <cstdio>
#include <optional>

#include "../common/cuda_probe.h"
#include "../common/error.h"
#include "byte_io.h"
#include "dnn_loader.h"
#include "fuse_pass.h"
#include "int8_conv_pass.h"
#include "layout_pass.h"
#include "timing_cache.h"

namespace netdef::cuda {
namespace {

int convolutionCount(const Program& p) {
  int n = 0;
  for (const OpDef& op : p.ops) n += std::holds_alternative<ConvAttrs>(op.attrs) && op.fusedInto < 0 ? 1 : 0;
  return n;
}

void checkOptions(const BuildOptions& o) {
  if (o.minBatch < 1 || o.minBatch > o.optBatch || o.optBatch > o.maxBatch) {
    throw Error(kErrInvalidArgument, "batch range must satisfy 1 <= min <= opt <= max (got " + std::to_string(o.minBatch) + ", " +
                                         std::to_string(o.optBatch) + ", " + std::to_string(o.maxBatch) + ")");
  }
}

}  // namespace

void requireDevice(int device) {
  const Capabilities caps = probeCapabilities();
  if (!caps.cudaOk) throw Error(kErrNoCudaDevice, caps.cudaReason);
  if (device < 0 || device >= static_cast<int>(caps.devices.size())) {
    throw Error(kErrNoCudaDevice, "CUDA device " + std::to_string(device) + " does not exist (" + std::to_string(caps.devices.size()) +
                                      " device(s))");
  }
  cudnnApi();  // throws ERR_CUDNN_UNAVAILABLE with the reason
}

std::string timingCacheIdentity(int device) {
  cudaDeviceProp prop{};
  checkCuda(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  return "sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + " " + prop.name + " cuDNN " +
         std::to_string(cudnnApi().version) + " netdef " + NETDEF_VERSION;
}

std::string programDigest(const Program& p) {
  EngineRecord r;
  r.program.tensors = p.tensors;
  r.program.ops = p.ops;
  r.program.inputs = p.inputs;
  r.program.outputs = p.outputs;
  for (const WeightDef& w : p.weights) r.program.weights.push_back(WeightDef{w.name, w.dtype, {}});
  const std::vector<uint8_t> bytes = writeEngine(r);
  char text[2 * sizeof(uint64_t) + 1];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(fnv1a64(bytes.data(), bytes.size())));
  return text;
}

namespace {

// One line of the build log for a mode: its forward and where the build's time went.
std::string modeLine(LayoutMode mode, bool tuned, float forwardMs, const BuildStats& s, double totalMs) {
  std::string line = std::string(layoutModeName(mode)) + (tuned ? " tuned" : " untuned") + ": " +
                     (forwardMs > 0 ? "forward " + fixed(forwardMs, 3) + " ms" : "forward not timed (one mode, from the timing cache)") +
                     "; built in " + fixed(totalMs / 1000, 2) + " s";
  if (tuned) {
    line += " (" + std::to_string(s.convsTuned) + " convolutions timed, " + std::to_string(s.convsCached) + " from the timing cache; ";
  } else {
    line += " (";
  }
  line += "search " + fixed(s.searchMs / 1000, 2) + " s, " + std::to_string(s.fusedPlans) + " fused plans (" +
          std::to_string(s.fusedPlansRestored) + " restored from the timing cache) " +
          fixed(s.fusedPlanMs / 1000, 2) + " s, timing " + fixed(s.timingMs / 1000, 2) + " s)";
  return line;
}

}  // namespace

std::unique_ptr<CudaEngine> buildFromNetwork(CudaNetwork& network, const BuildOptions& options, const ProgressFn& progress,
                                             const LayoutMode* onlyMode, BuildReport* report) {
  checkOptions(options);
  requireDevice(options.device);
  const StopWatch passesWatch;
  const Program fused = runFusionPasses(network.take());
  TimingCache cache(timingCacheIdentity(options.device));
  if (!options.timingCache.empty()) cache.merge(options.timingCache.data(), options.timingCache.size());
  std::vector<std::string> log = cache.notes();
  log.push_back("fusion passes and timing cache read in " + fixed(passesWatch.ms() / 1000.0, 2) + " s");
  if (!options.timingCache.empty() && cache.size() > 0) log.push_back("timing cache: " + std::to_string(cache.size()) + " entries for " + cache.device());

  std::vector<LayoutMode> modes;
  if (onlyMode) {
    modes.push_back(*onlyMode);
  } else {
    if (hasChannelsLastCandidates(fused)) modes.push_back(LayoutMode::kChannelsLastHalf);
    modes.push_back(LayoutMode::kRowMajor);
  }
  // Whether float16 layers time the igemm tiles too: tactics and modes are cached with or without them apart.
  const bool halfIgemm = halfIgemmWanted();
  const std::string modeKey = programDigest(fused) + ",batch" + std::to_string(options.minBatch) + "x" + std::to_string(options.optBatch) +
                              "x" + std::to_string(options.maxBatch) + (halfIgemm ? ",igemm" + igemmTilesKey() : "");
  if (modes.size() > 1 && options.tune) {
    if (std::optional<LayoutMode> known = cache.mode(modeKey)) {
      modes = {*known};
      log.push_back(std::string("layout mode ") + layoutModeName(*known) + " from the timing cache");
    }
  }
  EngineConfig config;
  config.minBatch = options.minBatch;
  config.optBatch = options.optBatch;
  config.maxBatch = options.maxBatch;
  config.tf32 = options.tf32;
  EngineBuildOptions build;
  build.tuning.time = options.tune;
  build.tuning.exhaustive = options.exhaustive;
  build.tuning.cache = &cache;
  build.tuning.halfIgemm = halfIgemm;
  build.progress = progress;
  build.progressTotal = convolutionCount(fused) * static_cast<int>(modes.size());

  auto make = [&](LayoutMode mode, bool tuned, BuildStats& stats) {
    config.layoutMode = mode;
    config.channelViews = true;
    EngineBuildOptions o = build;
    o.tuning.time = tuned;
    o.tuning.stats = &stats;
    try {
      return std::make_unique<CudaEngine>(assignLayouts(fused, mode), config, options.device, o);
    } catch (const Error& e) {
      if (e.code() != kErrBackend) throw;
      // A convolution has no cuDNN algorithm for a strided (in-place) input or output: this layout
      // is built without channel views instead (concats and splits copy).
      config.channelViews = false;
      return std::make_unique<CudaEngine>(assignLayouts(fused, mode), config, options.device, o);
    }
  };

  std::unique_ptr<CudaEngine> best;
  float bestMs = 0;
  for (LayoutMode mode : modes) {
    BuildStats stats;
    const StopWatch watch;
    bool tuned = options.tune;
    std::unique_ptr<CudaEngine> engine;
    if (best && tuned && !options.exhaustive) {
      // An untuned estimate first: tuning a mode that cannot win is most of a cold build's time.
      std::unique_ptr<CudaEngine> estimate = make(mode, false, stats);
      // One forward over the margin settles it: the rest of the timing runs are skipped.
      const float estimateMs = estimate->timeForwardOrPruned(options.optBatch, bestMs, static_cast<float>(kModeEstimateMargin));
      log.push_back(modeLine(mode, false, estimateMs, stats, watch.ms()));
      if (estimateMs >= kModeEstimateMargin * bestMs) {
        log.push_back(std::string(layoutModeName(mode)) + " not tuned: its untuned forward is " + fixed(estimateMs / bestMs, 2) +
                      "x the tuned " + layoutModeName(best->config().layoutMode) + " forward");
        build.progressDone += convolutionCount(fused);
        if (progress) progress(build.progressDone, build.progressTotal, std::string(layoutModeName(mode)) + " (not tuned)");
        continue;
      }
      stats = BuildStats{};
    }
    engine = make(mode, tuned, stats);
    build.progressDone += convolutionCount(fused);
    const float ms = modes.size() == 1 ? 0.0f : engine->timeForward(options.optBatch);
    log.push_back(modeLine(mode, tuned, ms, stats, watch.ms()));
    if (!best || ms < bestMs) {
      best = std::move(engine);  // the slower one is freed here, before the next mode is built
      bestMs = ms;
    }
  }
  if (modes.size() > 1) {
    log.push_back(std::string("layout mode kept: ") + layoutModeName(best->config().layoutMode));
  }
  if (options.tune && !onlyMode) cache.putMode(modeKey, best->config().layoutMode);
  // The plan texts of the engine kept (not of estimates or of a mode that lost), so that the next
  // build restores them.
  for (const auto& [key, text] : best->fusedPlanTexts()) cache.putPlan(key, text);
  if (report) {
    report->timingCache = cache.serialize();
    report->log = std::move(log);
  }
  return best;
}

std::unique_ptr<CudaEngine> loadFromBlob(const std::vector<uint8_t>& blob, int device) {
  EngineRecord record = readEngine(blob.data(), blob.size());
  requireDevice(device);
  cudaDeviceProp prop{};
  checkCuda(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  if (static_cast<uint32_t>(prop.major) != record.smMajor || static_cast<uint32_t>(prop.minor) != record.smMinor) {
    throw Error(kErrEngineFormat, "engine was built for sm_" + std::to_string(record.smMajor) + std::to_string(record.smMinor) + " (" +
                                      record.deviceName + "), this device is sm_" + std::to_string(prop.major) +
                                      std::to_string(prop.minor) + " (" + prop.name + "): rebuild the engine on this GPU");
  }
  EngineBuildOptions restore;
  restore.tactics = &record.tactics;
  // Plan texts of another cuDNN or netdef are not offered to cuDNN: those plans are made again.
  if (!record.plans.empty() && record.planIdentity == timingCacheIdentity(device)) restore.planTexts = &record.plans;
  return std::make_unique<CudaEngine>(std::move(record.program), record.config, device, restore);
}

}  // namespace netdef::cuda
