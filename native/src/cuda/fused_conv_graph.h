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

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "build_stats.h"
#include "conv_geometry.h"
#include "dnn_resources.h"

namespace netdef::cuda {

class FusedConvPlan {
 public:
  // Builds the graph for `batch` and finalizes the plan of engine `engine` (a global index), or of
  // the first proposed engine that finalizes when engine < 0. Throws ERR_BACKEND when none does.
  FusedConvPlan(cudnn::Handle handle, const ConvGeometry& g, int64_t batch, int64_t engine);

  // Whether this geometry can be expressed as a fused graph at all (NHWC, float16, something to fuse).
  static bool applies(const ConvGeometry& g);

  int64_t engine() const { return engine_; }
  size_t workspaceBytes() const { return workspace_; }
  void execute(cudnn::Handle handle, const ConvBuffers& b) const;

 private:
  std::vector<BackendDesc> keep_;  // every descriptor the plan refers to, alive as long as it
  BackendDesc plan_;
  int64_t engine_ = -1;
  size_t workspace_ = 0;
  bool bias_ = false;
  bool residual_ = false;
};

// The fused plans of one engine's convolutions (one cuDNN handle): identical geometries at the same
// batch share one plan, so cuDNN compiles each runtime-fusion kernel once per engine, not once per
// layer. Time spent making plans is added to `stats` when given.
class FusedPlans {
 public:
  const FusedConvPlan& get(cudnn::Handle handle, const ConvGeometry& g, int64_t batch, int64_t engine, BuildStats* stats);

 private:
  std::map<std::string, std::shared_ptr<FusedConvPlan>> plans_;  // by geometry, batch, engine (-1: the first proposed)
};

}  // namespace netdef::cuda
