// A convolution with its bias, activation and residual add fused into one cuDNN kernel through
// cuDNN's graph (backend) API: the operation graph conv_fprop -> pointwise ADD (bias) -> pointwise
// SWISH / SIGMOID / RELU -> pointwise ADD (residual tensor), each step present when the layer has
// it, on NHWC float16 tensors with float32 intermediates (virtual tensors that never reach memory). cuDNN's heuristics (mode A) propose engines (runtime-compiled fusion kernels on
// Hopper); the first that finalizes, or the one with a given global index, becomes the execution
// plan. Engines whose numerical notes say they down-convert inputs or reduce in lower precision
// are skipped. A plan is specific to one batch size; ConvLayer keeps one per batch it runs.
//
// Test: native/tests/engine_test.cu (when cuDNN offers this tactic for the NHWC fp16 layer, the
// tactic sweep runs and checks it against the CPU reference).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "build_stats.h"
#include "conv_geometry.h"
#include "dnn_resources.h"

namespace netdef::cuda {

class FusedConvPlan {
 public:
  // Builds the graph for `batch` and finalizes the plan of engine `engine` (a global index), or of
  // the first proposed engine that finalizes when engine < 0. Throws ERR_BACKEND when none does.
  // The plan runs on `handle`, which execute() binds to the stream it is given.
  FusedConvPlan(cudnn::Handle handle, const ConvGeometry& g, int64_t batch, int64_t engine);
  // Restores a plan from json() of one made for the same geometry (and batch) on the same GPU and
  // cuDNN: no graph, no heuristics. Throws ERR_BACKEND when cuDNN refuses the text.
  FusedConvPlan(cudnn::Handle handle, const ConvGeometry& g, const std::string& json);

  // cuDNN's serialized form of the finalized plan (CUDNN_ATTR_EXECUTION_PLAN_JSON_REPRESENTATION),
  // the bytes as cuDNN returns them, or "" when this engine cannot be serialized.
  std::string json() const;

  // Whether this geometry can be expressed as a fused graph at all (NHWC, float16, something to fuse).
  static bool applies(const ConvGeometry& g);

  int64_t engine() const { return engine_; }
  size_t workspaceBytes() const { return workspace_; }
  // Enqueues the plan on `stream` (the engine's, or a side stream: stream_plan.h).
  void execute(cudaStream_t stream, const ConvBuffers& b) const;

 private:
  std::vector<BackendDesc> keep_;  // every descriptor the plan refers to, alive as long as it
  BackendDesc plan_;
  cudnn::Handle handle_ = nullptr;
  int64_t engine_ = -1;
  size_t workspace_ = 0;
  bool bias_ = false;
  bool residual_ = false;
};

// A plan a layer will ask for: `engine` at `batch` (-1: the first proposed), then, when
// thenBatch >= 0, the same engine at thenBatch (a tuning candidate is checked at the max batch).
struct FusedPlanRequest {
  ConvGeometry g;
  int64_t batch = 1, engine = -1, thenBatch = -1;
};

// The fused plans of one engine's convolutions: identical geometries at the same batch share one
// plan, so cuDNN compiles each runtime-fusion kernel once per engine, not once per layer. Time
// spent making plans is added to `stats` when given.
//
// cuDNN compiles a runtime-fusion kernel when its plan is finalized (NVRTC, tens of ms each, most
// of a cold build's time: docs/benchmarks.md), one after another on the build's thread. prefetch()
// makes the plans an engine's layers will ask for on up to kMaxPlanThreads threads at once, each
// with its own cuDNN handle (cuDNN is thread-safe with one handle per thread) bound to the
// engine's stream; a plan keeps the handle it was made with for running. A plan that fails there
// is recorded as get() records it (cuDNN offers none), so the layers' sequential path sees the
// same outcomes, only sooner.
//
// A timing cache keeps the texts of the plans a built engine runs (FusedConvPlan::json, by
// planKey); given them (restoreFrom), a plan asked for by engine index is restored from its text
// first: no heuristics query, and, when cuDNN's serialized plan carries its compiled kernel, no
// compile. A text cuDNN refuses, or one that restores another engine, is made again as if absent.
class FusedPlans {
 public:
  const FusedConvPlan& get(cudnn::Handle handle, const ConvGeometry& g, int64_t batch, int64_t engine, BuildStats* stats);
  void prefetch(const std::vector<FusedPlanRequest>& requests, int device, cudaStream_t stream, BuildStats* stats);

  // Plan texts by planKey to restore from (replacing any given before; {} drops them).
  // `keepUnused`: texts() also returns those not asked for (an engine file's, loaded: written
  // again, it keeps every batch's plan); a timing cache's are not (it holds other engines' too).
  void restoreFrom(std::map<std::string, std::string> texts, bool keepUnused) {
    texts_ = std::move(texts);
    keepUnused_ = keepUnused;
  }
  // The planKey and text of each plan of `engine` (>= 0) for this geometry made or restored so far,
  // one per batch, for a timing cache or an engine file, and with restoreFrom's keepUnused the
  // texts given for it not asked for yet; plans cuDNN cannot serialize are left out.
  std::vector<std::pair<std::string, std::string>> texts(const ConvGeometry& g, int64_t engine) const;

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<FusedConvPlan> plan;  // null when cuDNN offers none
    bool restored = false;                // from a text of texts_, not made
  };
  // The plan of `engine` at `batch` filed under the engine asked for and, when that was -1, under
  // the one cuDNN proposed. Reads texts_ only, so prefetch's threads may call it at once.
  using Entries = std::vector<Entry>;
  Entries make(cudnn::Handle handle, const ConvGeometry& g, int64_t batch, int64_t engine) const;
  static void count(const Entries& made, BuildStats* stats);

  std::vector<CudnnHandle> handles_;  // the prefetch threads' handles, alive as long as their plans (declared first: destroyed last)
  std::map<std::string, std::shared_ptr<FusedConvPlan>> plans_;  // by geometry, batch, engine (-1: the first proposed)
  std::map<std::string, std::string> texts_;                      // restoreFrom's
  bool keepUnused_ = false;
};

// Threads prefetch() uses at most (cuDNN's compilation is CPU-bound; the GPU machines have 16
// cores); $NETDEF_CUDA_PLAN_THREADS (a positive integer) lowers or raises it, 1 turns prefetching
// off (what builds did before, for comparison). Anything else in it is refused (ERR_INVALID_ARGUMENT).
inline constexpr unsigned kMaxPlanThreads = 8;
unsigned planThreads();

}  // namespace netdef::cuda
