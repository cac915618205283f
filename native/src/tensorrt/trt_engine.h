// The TensorRT engine: build from an ir::Graph (replay into TrtNetwork, builder config, plan bytes),
// load a plan, run with named device tensors, refit by weight name, inspect. Nothing here links
// TensorRT: every object comes from the factories of trt_loader.h.
//
// Implemented:  buildTrtPlan (workspace limit, one optimization profile over the batch range on
//               every input, kREFIT / kREFIT_IDENTICAL / kSTRIP_PLAN as asked, kDETAILED profiling
//               verbosity, timing cache in and out), TrtEngine::load (deserialize), run (device
//               pointers by tensor name, setInputShape, setTensorAddress, enqueueV3), refit
//               (setNamedWeights, getMissingWeights, refitCudaEngine), inspect (IEngineInspector JSON).
// Not here:     host copies and device memory for run() (the caller passes device pointers), CUDA
//               graph capture, the netdef engine file container (engine/ in TypeScript), JS bindings.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../ir/graph.h"
#include "../replay/network.h"

namespace netdef::trt {

struct TrtBuildOptions {
  int64_t minBatch = 1, optBatch = 1, maxBatch = 1;
  size_t workspaceBytes = size_t{1} << 30;
  bool refit = false;           // BuilderFlag::kREFIT: every named weight can be refitted
  bool refitIdentical = false;  // BuilderFlag::kREFIT_IDENTICAL: refit only with the same values (faster engine)
  bool stripPlan = false;       // BuilderFlag::kSTRIP_PLAN: a weightless plan; refit before running
  std::vector<uint8_t> timingCache;  // a serialized timing cache to start from (empty: a new one)
};

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

  // Runs at `batch` on `stream`: `buffers` maps every input and output name to device memory of
  // the size the tensor needs at that batch. Returns the output dims. Asynchronous on `stream`.
  std::map<std::string, Dims> run(const std::map<std::string, void*>& buffers, int64_t batch, cudaStream_t stream);

  // Refits by weight name (the Ultralytics state_dict names given to setWeightsName). Unknown names,
  // wrong counts or dtypes, and whatever getMissingWeights still asks for are ERR_INVALID_ARGUMENT
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
