// What the addon's bindings (native/src/addon/) call to use the CUDA engine (native/src/cuda/).
// Everything here may throw netdef::Error; nothing aborts. Building and running happen on worker
// threads (the caller's AsyncWorkers), one engine may be run from several threads at once (the
// engine serializes runs internally or keeps per-run state).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../common/engine.h"
#include "../ir/graph.h"

namespace netdef::cuda {

struct DeviceInfo {
  int index;
  std::string name;
  int major, minor;
  uint64_t memoryBytes;
};

struct Capabilities {
  bool cudaOk = false;
  std::string cudaReason;  // why not, when !cudaOk ("no CUDA driver", "no CUDA device", ...)
  int runtimeVersion = 0;  // CUDART_VERSION the addon was built with
  int driverVersion = 0;   // 0 without a driver
  std::vector<DeviceInfo> devices;
  bool cudnnOk = false;
  std::string cudnnReason;
  int cudnnVersion = 0;
};

// Never throws: reports what is missing.
Capabilities capabilities();

struct BuildOptions {
  int64_t minBatch = 1, optBatch = 1, maxBatch = 1;
  int device = 0;
  bool tune = true;  // time candidate tactics (else take cuDNN's heuristic first choice)
  // Candidates: cuDNN's heuristic ranking (false), or every algorithm run by cuDNN's FindEx first,
  // and every layout mode tuned whatever an untuned estimate says (true: slower builds).
  bool exhaustive = false;
  // float32 convolutions may run on TF32 tensor cores (as PyTorch's and TensorRT's defaults let
  // them); false: FMA math, float32 exact to rounding.
  bool tf32 = false;
  // A timing cache to start from (timing_cache.h's text; empty: none). Built::timingCache holds it
  // with this build's entries added.
  std::vector<uint8_t> timingCache;
};

// A built engine with its timing cache and the build's log (what it timed, took from the cache,
// and which layout mode it kept, with times).
struct Built {
  std::unique_ptr<Engine> engine;
  std::vector<uint8_t> timingCache;
  std::vector<std::string> log;
};

// done, total, layer name
using ProgressFn = std::function<void(int, int, const std::string&)>;

// The engine interface the bindings use (shared with the TensorRT backend).
using netdef::Engine;
using netdef::HostOutput;
using netdef::LayerInfo;

// How a build would lay the graph out, computed without a GPU: the passes a build runs (fusion,
// Cast folding, layouts, channel views), per layout mode it would consider; nothing is timed, so
// which tactic wins where several compete is not in it. Per op: its name and kind, the op it is
// fused into ("" when it runs), its first output's layout ("nchw", "nhwc", "" when not 4-D), and
// for a convolution whether the direct kernel takes it (direct_conv_rule.h) and why netdef's igemm
// kernel could not run it ("" when it could: igemm_layer.h's whyNot, on the layer's geometry with
// its channel views).
struct PlannedOp {
  std::string name, kind, fusedInto, layout;
  bool direct = false;
  std::string igemmWhyNot;
  int32_t sideStream = -1;  // the side stream it runs on (memory_plan.h), -1: the main stream
};
struct PlannedMode {
  std::string mode;  // layoutModeName()
  int32_t concatInputsInPlace = 0;
  std::vector<PlannedOp> ops;
  // The activation arena at batch 1 with the side streams as $NETDEF_CUDA_STREAMS asks (on
  // unless 0) and with one stream.
  uint64_t arenaBytes = 0, arenaBytesOneStream = 0;
  // The weights' device buffer (weight_placement.h), and the weights' own bytes (on the host).
  uint64_t deviceWeightBytes = 0, weightBytes = 0;
};
std::vector<PlannedMode> planEngine(const ir::Graph& graph);

// The graph's parameter views must stay valid during the call only (the engine copies weights).
Built buildEngine(const ir::Graph& graph, const BuildOptions& options, const ProgressFn& progress);
std::unique_ptr<Engine> loadEngine(const std::vector<uint8_t>& blob, int device);

}  // namespace netdef::cuda
