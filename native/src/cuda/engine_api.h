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
  bool tune = true;
};

// done, total, layer name
using ProgressFn = std::function<void(int, int, const std::string&)>;

struct LayerInfo {
  std::string name, kind, dtype, kernel;
  double timeMs = 0;
};

struct HostOutput {
  ir::DType dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
};

class Engine {
 public:
  virtual ~Engine() = default;
  // inputs by graph input name: raw bytes of [batch, ...]; sizes are checked (ERR_INVALID_ARGUMENT).
  virtual std::unordered_map<std::string, HostOutput> run(const std::unordered_map<std::string, std::vector<uint8_t>>& inputs, int64_t batch) = 0;
  virtual void profile(int64_t batch, int iterations) = 0;
  // Median milliseconds of the captured forward at `batch` over `iterations` replays (CUDA events),
  // inputs already on the device, or with the host copies run() adds when `withCopies`.
  virtual double timeForward(int64_t batch, int iterations, bool withCopies) = 0;
  virtual std::vector<LayerInfo> layers() const = 0;
  virtual std::vector<uint8_t> serialize() const = 0;
  virtual uint64_t deviceMemoryBytes() const = 0;
  // New values for weights by name (the names the graph's parameters had), each converted to the
  // dtype the engine stores it in. Every given name must be a weight of the engine with the same
  // number of values, else ERR_WEIGHTS_MISMATCH listing every mismatch and nothing is changed;
  // weights not given keep their values. Waits for runs in flight. serialize() then saves the new values.
  virtual void refit(const std::vector<ir::Param>& params) = 0;
};

// The graph's parameter views must stay valid during the call only (the engine copies weights).
std::unique_ptr<Engine> buildEngine(const ir::Graph& graph, const BuildOptions& options, const ProgressFn& progress);
std::unique_ptr<Engine> loadEngine(const std::vector<uint8_t>& blob, int device);

}  // namespace netdef::cuda
