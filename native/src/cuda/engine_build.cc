// Building and loading CudaEngines: see engine_build.h.
#include "engine_build.h"

#include "../common/cuda_probe.h"
#include "../common/error.h"
#include "fuse_pass.h"
#include "int8_conv_pass.h"
#include "layout_pass.h"

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

std::unique_ptr<CudaEngine> buildFromNetwork(CudaNetwork& network, const BuildOptions& options, const ProgressFn& progress,
                                             const LayoutMode* onlyMode) {
  checkOptions(options);
  requireDevice(options.device);
  const Program fused = foldInt8Quantizes(fuseConvolutionActivations(network.take()));
  std::vector<LayoutMode> modes;
  if (onlyMode) {
    modes.push_back(*onlyMode);
  } else {
    modes.push_back(LayoutMode::kRowMajor);
    if (hasChannelsLastCandidates(fused)) modes.push_back(LayoutMode::kChannelsLastHalf);
  }
  EngineConfig config;
  config.minBatch = options.minBatch;
  config.optBatch = options.optBatch;
  config.maxBatch = options.maxBatch;
  EngineBuildOptions build;
  build.tune = options.tune;
  build.progress = progress;
  build.progressTotal = convolutionCount(fused) * static_cast<int>(modes.size());

  std::unique_ptr<CudaEngine> best;
  float bestMs = 0;
  for (LayoutMode mode : modes) {
    config.layoutMode = mode;
    config.channelViews = true;
    std::unique_ptr<CudaEngine> engine;
    try {
      engine = std::make_unique<CudaEngine>(assignLayouts(fused, mode), config, options.device, build);
    } catch (const Error& e) {
      if (e.code() != kErrBackend) throw;
      // A convolution has no cuDNN algorithm for a strided (in-place) input or output: this layout
      // is built without channel views instead (concats and splits copy).
      config.channelViews = false;
      engine = std::make_unique<CudaEngine>(assignLayouts(fused, mode), config, options.device, build);
    }
    build.progressDone += convolutionCount(fused);
    if (modes.size() == 1) return engine;
    const float ms = engine->timeForward(options.optBatch);
    if (!best || ms < bestMs) {
      best = std::move(engine);  // the slower one is freed here, before the next mode is built
      bestMs = ms;
    }
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
  return std::make_unique<CudaEngine>(std::move(record.program), record.config, device, restore);
}

}  // namespace netdef::cuda
