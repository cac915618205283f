// Building and loading CudaEngines from a recorded network or a blob: the steps buildEngine() and
// loadEngine() take, exposed so that native tests can build networks they write through INetwork
// directly.
//
// Layout modes: row-major, and channels-last float16 when the network has convolutions that could
// use it. The first candidate (channels-last when there is one: tensor cores take NHWC natively)
// is tuned. Each further mode is first built untuned (cuDNN's heuristic first choices, nothing
// timed) and its forward timed (stopped after one forward over the margin): only when that estimate is within kModeEstimateMargin of the tuned
// mode's forward is it tuned too. The fastest tuned mode is kept. An exhaustive build tunes every
// mode; a build without tuning builds every mode untuned. The timing cache (timing_cache.h) holds
// each convolution's tactic and the mode kept, so a warm build times nothing and builds one mode.
//
// Test: native/tests/engine_test.cu, native/tests/timing_cache_test.cu.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cuda_network.h"
#include "engine_impl.h"

namespace netdef::cuda {

// A further layout mode is tuned only when its untuned forward is below this times the tuned
// mode's: heuristic first choices are rarely more than this much slower than the tuned ones.
inline constexpr double kModeEstimateMargin = 1.25;

// Checks that CUDA, the device and cuDNN are usable (ERR_NO_CUDA_DEVICE, ERR_CUDNN_UNAVAILABLE).
void requireDevice(int device);

// What a build reports besides the engine: the timing cache to save and the build log.
struct BuildReport {
  std::vector<uint8_t> timingCache;
  std::vector<std::string> log;
};

// Builds from the network's recorded program (the network is emptied). With `onlyMode`, builds
// that layout mode alone (tests); otherwise as above.
std::unique_ptr<CudaEngine> buildFromNetwork(CudaNetwork& network, const BuildOptions& options, const ProgressFn& progress,
                                             const LayoutMode* onlyMode = nullptr, BuildReport* report = nullptr);

std::unique_ptr<CudaEngine> loadFromBlob(const std::vector<uint8_t>& blob, int device);

// The timing cache's device identity: architecture, GPU name, cuDNN and netdef versions.
std::string timingCacheIdentity(int device);

// A digest of the program's structure without its weights' values (the layout-mode cache key).
std::string programDigest(const Program& p);

}  // namespace netdef::cuda
