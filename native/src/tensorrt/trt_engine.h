// The TensorRT engine: build from an ir::Graph (replay into TrtNetwork, builder config, plan bytes),
// load a plan, run with named device tensors, refit by weight name, inspect. Nothing here links
// TensorRT: every object comes from the factories of trt_loader.h.
//
// Implemented:  buildTrtPlan (workspace limit, one optimization profile over the batch range on
//               every input, kREFIT / kREFIT_IDENTICAL / kSTRIP_PLAN as asked, kDETAILED profiling
//               verbosity, timing cache in and out), TrtEngine::load (deserialize), execution in
//               steps (setBatch: setInputShape; setAddress: setTensorAddress, plus an
//               IOutputAllocator for outputs whose shape depends on the data; enqueue: enqueueV3),
//               per-layer times through IProfiler, refit (setNamedWeights, getMissingWeights,
//               refitCudaEngine), inspect (IEngineInspector JSON).
// Not here:     device memory, host copies and CUDA graphs (trt_runner.h), the netdef engine file
//               container (engine/ in TypeScript), JS bindings (addon/).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../ir/graph.h"
#include "../replay/network.h"
#include "trt_api.h"

namespace netdef::trt {

struct TrtBuildResult {
  std::vector<uint8_t> plan;         // the serialized engine
  std::vector<uint8_t> timingCache;  // the timing cache after the build, to save
  std::vector<std::string> log;      // TensorRT's warnings and errors during the build
};

// Throws netdef::Error: ERR_BACKEND when TensorRT is absent or fails (with its last error),
// ERR_INVALID_ARGUMENT for a graph or options it refuses ("<Kind> layer '<name>': ..." from the replay).
TrtBuildResult buildTrtPlan(const ir::Graph& graph, const TrtBuildOptions& options);

struct TrtTensorInfo {
  std::string name;
  bool input;
  DType type;
  Dims dims;  // as the engine declares them, -1 for the dynamic batch
};

class TrtEngine {
 public:
  // Deserializes a plan on the current CUDA device.
  static std::unique_ptr<TrtEngine> load(const void* plan, size_t bytes);
  ~TrtEngine();

  std::vector<TrtTensorInfo> tensors() const;

  // The batch range of the engine's optimization profile (dimension 0 of its first input).
  std::pair<int64_t, int64_t> batchRange() const;

  // Sets every input's shape at `batch` (setInputShape). Returns each output's dims at that batch;
  // a -1 left in them marks a shape known only after the run (data-dependent, e.g. NMS).
  std::map<std::string, Dims> setBatch(int64_t batch);
  // Upper bound in bytes of an output at the current input shapes (getMaxOutputSize).
  int64_t maxOutputBytes(const std::string& name) const;
  // Device memory for one input or output (setTensorAddress). An output whose shape depends on the
  // data also gets an IOutputAllocator that keeps this memory (of `bytes`, at least
  // maxOutputBytes) and records the shape TensorRT reports.
  void setAddress(const std::string& name, void* data, uint64_t bytes);
  // enqueueV3 on `stream` (asynchronous); capturable into a CUDA graph when the engine allows it.
  void enqueue(cudaStream_t stream);
  // An output's dims after the last enqueue finished (the reported shape for data-dependent ones).
  Dims outputDims(const std::string& name) const;

  // While on, each enqueue adds every layer's time (IProfiler::reportLayerTime) to layerTimes().
  void setProfiling(bool on);
  // Milliseconds per layer name, averaged over the enqueues since profiling was turned on.
  std::vector<std::pair<std::string, double>> layerTimes() const;

  // Device memory the engine's context needs besides inputs and outputs (getDeviceMemorySizeV2).
  int64_t deviceMemoryBytes() const;

  // Refits by weight name (the Ultralytics state_dict names given to setWeightsName). Unknown names,
  // wrong counts or dtypes, and whatever getMissingWeights still asks for are ERR_WEIGHTS_MISMATCH
  // listing every mismatch, before refitCudaEngine. The views need only live during the call. Needs
  // an engine built with refit, refitIdentical or stripPlan, and no run in flight (the caller's
  // duty, as for the CUDA engine's dispose).
  void refit(const std::vector<Weights>& weights);

  // IEngineInspector's JSON for the whole engine (per layer: name, precision, tactic, ...); detailed
  // because the plan was built with ProfilingVerbosity::kDETAILED.
  std::string inspect() const;

  // A new plan from the (possibly refitted) engine.
  std::vector<uint8_t> serialize() const;

 private:
  struct State;
  explicit TrtEngine(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace netdef::trt
