// One convolution layer of the engine: y = act(conv(x, w) + bias), NCHW or NHWC, float32 or
// float16 (float32 accumulation), through cuDNN's convolution forward followed by the
// bias+activation epilogue (conv_epilogue.cuh), or one fused cuDNN graph.
// Tactic selection at build: the candidates are cuDNN's heuristic ranking of its algorithms
// (cudnnGetConvolutionForwardAlgorithm_v7, nothing run), or with an exhaustive search every
// algorithm run once by cudnnFindConvolutionForwardAlgorithmEx; for NHWC float16 layers cuDNN's
// graph API adds a fused conv+bias+activation engine (fused_conv_graph.h); the first
// kRetimeCandidates and the fused one are timed here end to end as the engine runs them (conv +
// epilogue captured in a CUDA graph, median of kTuneIterations replays) and the fastest whose
// workspace at the largest batch fits kMaxWorkspaceBytes is kept. A timing cache
// (timing_cache.h) short-cuts all of it for a geometry timed before. float32 runs with
// CUDNN_FMA_MATH (no TF32: results stay float32 exact to rounding) unless the engine allows TF32
// (ConvGeometry::tf32: tensor-op and default math then compete too); float16 with
// CUDNN_TENSOR_OP_MATH. The chosen tactic is serialized and restored with useTactic(), which
// re-checks it against the device.
//
// An int8 convolution (int8 input) is delegated to an IgemmLayer (igemm_layer.h): its tactics
// are the igemm tiles, timed the same way; it needs no cuDNN and no workspace. A float16 NHWC
// convolution the igemm kernel can run (IgemmLayer::whyNot) has the igemm tiles as candidates
// beside cuDNN's when TuneOptions::halfIgemm says so, timed the same way (they read the KRSC filter
// cuDNN's NHWC format reads). A convolution the
// direct kernel takes (direct_conv_rule.h: few input or output channels) has the DirectConvLayer's tactic
// as a candidate, timed beside cuDNN's where cuDNN can run it too; where its input and output
// differ in layout or dtype (the layout pass and the Cast folding plan for the direct kernel), or
// its input is NHWC (its filter is uploaded KCRS, which cuDNN reads only for NCHW), the direct
// tactic is the only one.
//
// Test: native/tests/engine_test.cu (conv+bias+SiLU fp32/fp16, NCHW/NHWC, batch 1 and 3, strided
// and grouped, against a CPU reference; every candidate tactic of a layer is run and checked).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "build_stats.h"
#include "conv_geometry.h"
#include "fused_conv_graph.h"
#include "direct_conv_layer.h"
#include "igemm_layer.h"
#include "dnn_resources.h"
#include "program.h"

namespace netdef::cuda {

inline constexpr uint64_t kMaxWorkspaceBytes = 256ull << 20;
inline constexpr int kRetimeCandidates = 4;

class TimingCache;

// How a build chooses a convolution's tactic.
struct TuneOptions {
  bool time = true;         // time the candidates (else the first candidate, untimed)
  bool exhaustive = false;  // candidates from cuDNN's FindEx (every algorithm run) instead of its heuristics
  TimingCache* cache = nullptr;  // tactics timed before, and where new ones go (used only when timing)
  BuildStats* stats = nullptr;
  // float16 NHWC layers also time the igemm tiles (halfIgemmWanted(): on unless
  // NETDEF_CUDA_IGEMM_FP16=0). A layer loaded with an igemm tactic runs it either way.
  bool halfIgemm = false;
};

struct ConvTactic {
  // kCudnnLegacy: cudnnConvolutionForward + the ops' epilogue; kCudnnFused: one cuDNN graph
  // (conv + bias + activation) through the backend API (fused_conv_graph.h); kIgemm: the engine's
  // implicit GEMM, int8 or float16 (igemm_layer.h); kDirect: the engine's direct convolution (direct_conv_layer.h).
  enum class Kind : uint8_t { kCudnnLegacy = 0, kCudnnFused = 1, kIgemm = 2, kDirect = 3 };
  static constexpr Kind kLastKind = Kind::kDirect;
  Kind kind = Kind::kCudnnLegacy;
  int32_t algo = 0;      // legacy: cudnn::FwdAlgo; igemm: igemm::IgemmTile
  int32_t mathType = 0;  // legacy: cudnn::MathType
  int64_t engine = -1;   // fused: cuDNN's global engine index
  float timeMs = 0;      // measured at build (opt batch); 0 when not timed
  int32_t splits = 1;    // igemm: split-K slices (igemm_conv.h); 1 for every other kind
};

// Fastest first (stable: equal times keep their order).
void sortByTime(std::vector<ConvTactic>& tactics);

class ConvLayer {
 public:
  // `plans`: the engine's shared fused plans (a layer of its own when null).
  ConvLayer(const std::string& name, const ConvGeometry& g, std::shared_ptr<FusedPlans> plans = nullptr);

  // Chooses the tactic on `b` at `batch`; `maxBatch` bounds the workspace. Returns every candidate
  // that ran (for tests and progress), the chosen one first; one entry when it came from the cache.
  std::vector<ConvTactic> tune(cudnn::Handle handle, cudaStream_t stream, const ConvBuffers& b, int64_t batch,
                               int64_t maxBatch, const TuneOptions& options);
  // The timing cache's key of this layer tuned at `batch` for batches up to `maxBatch`, with or
  // without the igemm tiles among the candidates (`options`).
  std::string cacheKey(int64_t batch, int64_t maxBatch, const TuneOptions& options) const;
  // The fused cuDNN plans tune() (with `options`) or useTactic() (with `stored`, when given) will
  // ask for, so that the engine makes every layer's at once first (FusedPlans::prefetch).
  std::vector<FusedPlanRequest> fusedPlansWanted(int64_t batch, int64_t maxBatch, const TuneOptions& options, const ConvTactic* stored) const;
  // Restores a tactic (a loaded engine) or forces one (tests); throws ERR_ENGINE_FORMAT when cuDNN
  // refuses it on this device.
  void useTactic(cudnn::Handle handle, const ConvTactic& t, int64_t maxBatch);

  void enqueue(cudnn::Handle handle, cudaStream_t stream, const ConvBuffers& b, int64_t batch);

  const ConvTactic& tactic() const { return tactic_; }
  size_t workspaceBytes() const { return workspace_; }  // of the chosen tactic at maxBatch
  std::string kernelName() const;
  const ConvGeometry& geometry() const { return g_; }

 private:
  struct BatchDescs {
    TensorDesc x, y;
  };
  const BatchDescs& descs(int64_t batch);
  void setMath(int mathType);
  // Workspace bytes of `algo` at `batch`, or -1 when cuDNN does not support it there.
  int64_t workspaceFor(cudnn::Handle handle, int algo, int64_t batch);
  // cuDNN's candidates at `batch` that fit the workspaces (heuristic ranking or FindEx's times).
  std::vector<ConvTactic> cudnnCandidates(cudnn::Handle handle, const ConvBuffers& b, int64_t batch, int64_t maxBatch, bool exhaustive);
  // `best`: the best time among the layer's candidates timed before (0: none), for pruning
  // (timing.h); kNoPruning for an exhaustive search.
  std::vector<ConvTactic> tuneCudnn(cudnn::Handle handle, cudaStream_t stream, const ConvBuffers& b, int64_t batch, int64_t maxBatch, float best,
                                    const TuneOptions& options);
  void epilogue(cudaStream_t stream, const ConvBuffers& b, int64_t batch) const;
  // The fused plan of the current tactic for `batch` (made on first use).
  const FusedConvPlan& fusedPlan(cudnn::Handle handle, int64_t batch, int64_t engine);
  // The fused candidate at `batch` checked at maxBatch, or nothing when cuDNN offers none.
  bool addFusedCandidate(cudnn::Handle handle, int64_t batch, int64_t maxBatch, size_t workspaceLimit, std::vector<ConvTactic>& out);

  std::string name_;
  ConvGeometry g_;
  FilterDesc filter_;
  ConvDesc conv_;
  std::map<int64_t, BatchDescs> byBatch_;
  std::shared_ptr<FusedPlans> plans_;
  BuildStats* stats_ = nullptr;  // while tuning
  ConvTactic tactic_;
  size_t workspace_ = 0;
  std::unique_ptr<IgemmLayer> igemm_;  // int8 convolutions, and float16 NHWC ones it can run
  bool igemmOnly_ = false;             // int8: igemm is the only tactic family, no cuDNN descriptors
  std::unique_ptr<DirectConvLayer> direct_;  // convolutions the direct kernel takes
  bool cudnnUsable_ = false;  // cuDNN's descriptors exist: input and output in one layout and dtype
};

// Reorders a KCRS filter into KRSC (what cuDNN's NHWC filter format means), element size `bytes`.
// With paddedC > c, each KRS position holds paddedC channels, the extra ones zero (an int8
// convolution whose input channels the layout pass padded to a multiple of 16).
std::vector<uint8_t> filterToNhwc(const std::vector<uint8_t>& kcrs, int64_t k, int64_t c, int64_t r, int64_t s,
                                  size_t bytes, int64_t paddedC = 0);

// "implicit_precomp_gemm", ...
const char* cudnnAlgoName(int algo);

}  // namespace netdef::cuda
