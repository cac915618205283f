// One convolution layer through cuDNN: see conv_layer.h.
#include "conv_layer.h"

#include <algorithm>
#include <cstring>

#include "../common/error.h"
#include "conv_epilogue.cuh"
#include "timing.h"
#include "timing_cache.h"

namespace netdef::cuda {
namespace {

constexpr const char* kAlgoNames[cudnn::kFwdAlgoCount] = {
    "implicit_gemm", "implicit_precomp_gemm", "gemm", "direct", "fft", "fft_tiling", "winograd", "winograd_nonfused"};

int dataType(ir::DType t) { return t == ir::DType::Float16 ? cudnn::kDataHalf : cudnn::kDataFloat; }

// float16, and float32 with TF32 allowed, may run on tensor cores.
bool tensorCores(const ConvGeometry& g) { return g.dtype == ir::DType::Float16 || g.tf32; }

int defaultMath(const ConvGeometry& g) { return tensorCores(g) ? cudnn::kTensorOpMath : cudnn::kFmaMath; }

// Without TF32, float32 must not run on TF32 tensor cores: its tactics use FMA math only (results
// cuDNN marks as tensor-op are dropped; DEFAULT_MATH, which permits TF32 on Ampere and later, is
// replaced by FMA). With TF32, float32 still never takes TENSOR_OP_MATH_ALLOW_CONVERSION, which
// may convert its data to float16.
bool mathAllowed(const ConvGeometry& g, int mathType) {
  if (g.dtype == ir::DType::Float16) return true;
  if (mathType == cudnn::kTensorOpMathAllowConversion) return false;
  return g.tf32 || mathType != cudnn::kTensorOpMath;
}

// "/fma", "/tensor_op", "/tf32" (float32 on tensor cores) or "/default" (cuDNN's choice: tensor cores
// for float16 and for float32 with TF32 allowed).
const char* mathName(const ConvGeometry& g, int mathType) {
  if (mathType == cudnn::kFmaMath) return "/fma";
  if (mathType == cudnn::kTensorOpMath || mathType == cudnn::kTensorOpMathAllowConversion) {
    return g.dtype == ir::DType::Float32 ? "/tf32" : "/tensor_op";
  }
  return "/default";
}

// The math type a tactic runs with: FMA for float32 without TF32, whatever cuDNN reported.
int mathFor(const ConvGeometry& g, int reported) { return tensorCores(g) ? reported : static_cast<int>(cudnn::kFmaMath); }

int narrow(int64_t v, const std::string& what) {
  if (v < 0 || v > INT32_MAX) throw Error(kErrInvalidArgument, what + ": dimension " + std::to_string(v) + " is too large for cuDNN");
  return static_cast<int>(v);
}

// The pruning bound for the candidates timed next: the best time among those timed so far (0 when
// none was: no bound yet), or kNoPruning for an exhaustive search, which times every candidate fully.
float pruneBound(const std::vector<ConvTactic>& timed, const TuneOptions& options) {
  if (options.exhaustive) return kNoPruning;
  float best = 0;
  for (const ConvTactic& t : timed) {
    if (t.timeMs > 0) keepBest(best, t.timeMs);
  }
  return best;
}

}  // namespace

void sortByTime(std::vector<ConvTactic>& tactics) {
  std::stable_sort(tactics.begin(), tactics.end(), [](const ConvTactic& a, const ConvTactic& c) { return a.timeMs < c.timeMs; });
}

const char* cudnnAlgoName(int algo) { return algo >= 0 && algo < cudnn::kFwdAlgoCount ? kAlgoNames[algo] : "unknown"; }

std::vector<uint8_t> filterToNhwc(const std::vector<uint8_t>& kcrs, int64_t k, int64_t c, int64_t r, int64_t s, size_t bytes,
                                  int64_t paddedC) {
  const int64_t cs = std::max(paddedC, c);
  std::vector<uint8_t> out(static_cast<size_t>(k * r * s * cs) * bytes, 0);
  for (int64_t ki = 0; ki < k; ++ki)
    for (int64_t ci = 0; ci < c; ++ci)
      for (int64_t ri = 0; ri < r; ++ri)
        for (int64_t si = 0; si < s; ++si) {
          const int64_t from = ((ki * c + ci) * r + ri) * s + si;
          const int64_t to = ((ki * r + ri) * s + si) * cs + ci;
          std::memcpy(&out[to * bytes], &kcrs[from * bytes], bytes);
        }
  return out;
}

ConvLayer::ConvLayer(const std::string& name, const ConvGeometry& g, std::shared_ptr<FusedPlans> plans)
    : name_(name), g_(g), plans_(plans ? std::move(plans) : std::make_shared<FusedPlans>()) {
  if (g.dtype == ir::DType::Int8 && DirectConvLayer::applies(g)) {  // the direct kernel only (it may read a float input)
    direct_ = std::make_unique<DirectConvLayer>(name, g);
    return;
  }
  if (g.dtype == ir::DType::Int8) {
    igemm_ = std::make_unique<IgemmLayer>(name, g);
    igemmOnly_ = true;
    return;
  }
  if (DirectConvLayer::applies(g)) direct_ = std::make_unique<DirectConvLayer>(name, g);
  if (g.inDtype != g.dtype || g.outLayout != g.layout) {
    if (!direct_) throw Error(kErrEngineFormat, name + ": input and output differ in layout or dtype, which only the direct convolution handles");
    return;
  }
  // The engine uploads a direct convolution's filter as KCRS (engine_impl.cc), which cuDNN reads
  // only for NCHW data: with an NHWC input the direct kernel is the only candidate.
  if (direct_ && g.layout == Layout::kNhwc) return;
  const CudnnApi& api = cudnnApi();
  const ConvolutionParams& p = g.params;
  for (int i = 0; i < 2; ++i) {
    // cuDNN's legacy convolution pads both sides alike: pre padding works when the output size is
    // the same. The direct kernel takes any padding (it is then the only candidate).
    const int64_t in = i == 0 ? g.height : g.width;
    const int64_t out = i == 0 ? g.outHeight : g.outWidth;
    const int64_t symmetric = (in + 2 * p.prePadding[i] - p.dilation[i] * (p.kernel[i] - 1) - 1) / p.stride[i] + 1;
    if (symmetric == out) continue;
    if (direct_) return;
    throw Error(kErrBackend, name + ": asymmetric padding that changes the output size is not supported");
  }
  cudnnUsable_ = true;
  // A float16 NHWC convolution the igemm kernel can run has its tiles as candidates too.
  if (g.dtype == ir::DType::Float16 && IgemmLayer::whyNot(g).empty()) igemm_ = std::make_unique<IgemmLayer>(name, g);
  filter_ = makeFilterDesc();
  const int format = g.layout == Layout::kNhwc ? cudnn::kFormatNhwc : cudnn::kFormatNchw;
  checkCudnn(api.setFilter4dDescriptor(filter_.get(), dataType(g.dtype), format, narrow(g.outChannels, name),
                                       narrow(g.inChannels / p.groups, name), narrow(p.kernel[0], name), narrow(p.kernel[1], name)),
             name + ": cudnnSetFilter4dDescriptor");
  conv_ = makeConvDesc();
  checkCudnn(api.setConvolution2dDescriptor(conv_.get(), narrow(p.prePadding[0], name), narrow(p.prePadding[1], name),
                                            narrow(p.stride[0], name), narrow(p.stride[1], name), narrow(p.dilation[0], name),
                                            narrow(p.dilation[1], name), cudnn::kCrossCorrelation, cudnn::kDataFloat),
             name + ": cudnnSetConvolution2dDescriptor");
  checkCudnn(api.setConvolutionGroupCount(conv_.get(), narrow(p.groups, name)), name + ": cudnnSetConvolutionGroupCount");
  setMath(defaultMath(g));
}

void ConvLayer::setMath(int mathType) {
  checkCudnn(cudnnApi().setConvolutionMathType(conv_.get(), mathType), name_ + ": cudnnSetConvolutionMathType");
}

const ConvLayer::BatchDescs& ConvLayer::descs(int64_t batch) {
  auto it = byBatch_.find(batch);
  if (it != byBatch_.end()) return it->second;
  const CudnnApi& api = cudnnApi();
  // `sc`: the channel count of the storage the tensor lies in (a channel-range view is wider).
  auto set = [&](TensorDesc& d, int64_t c, int64_t sc, int64_t h, int64_t w) {
    d = makeTensorDesc();
    int64_t s[4];
    storageStrides(g_.layout, sc, h, w, s);
    checkCudnn(api.setTensor4dDescriptorEx(d.get(), dataType(g_.dtype), narrow(batch, name_), narrow(c, name_), narrow(h, name_),
                                           narrow(w, name_), narrow(s[0], name_), narrow(s[1], name_), narrow(s[2], name_), narrow(s[3], name_)),
               name_ + ": cudnnSetTensor4dDescriptorEx");
  };
  BatchDescs d;
  set(d.x, g_.inChannels, g_.xChannels(), g_.height, g_.width);
  set(d.y, g_.outChannels, g_.yChannels(), g_.outHeight, g_.outWidth);
  return byBatch_.emplace(batch, std::move(d)).first->second;
}

int64_t ConvLayer::workspaceFor(cudnn::Handle handle, int algo, int64_t batch) {
  const BatchDescs& d = descs(batch);
  size_t bytes = 0;
  const cudnn::Status s =
      cudnnApi().getConvolutionForwardWorkspaceSize(handle, d.x.get(), filter_.get(), conv_.get(), d.y.get(), algo, &bytes);
  return s == cudnn::kStatusSuccess ? static_cast<int64_t>(bytes) : -1;
}

std::string ConvLayer::cacheKey(int64_t batch, int64_t maxBatch, const TuneOptions& options) const {
  const bool withIgemm = igemm_ && !igemmOnly_ && options.halfIgemm;
  // ",splitk": the igemm candidates include split-K (entries from before it are timed again); then
  // how many tiles they are (igemmTilesKey).
  return geometryKey(g_) + ",batch" + std::to_string(batch) + ",max" + std::to_string(maxBatch) + (withIgemm ? ",igemm" : "") +
         (withIgemm || igemmOnly_ ? ",splitk" + igemmTilesKey() : "");
}

std::vector<ConvTactic> ConvLayer::tune(cudnn::Handle handle, cudaStream_t stream, const ConvBuffers& b, int64_t batch,
                                        int64_t maxBatch, const TuneOptions& options) {
  stats_ = options.stats;
  struct Reset {
    ConvLayer& layer;
    ~Reset() { layer.stats_ = nullptr; }
  } reset{*this};
  const std::string key = options.cache && options.time ? cacheKey(batch, maxBatch, options) : std::string();
  if (!key.empty()) {
    const ConvTactic* cached = options.cache->conv(key);
    // An igemm tile needs these buffers' alignment, which the geometry key does not capture.
    if (cached && cached->kind == ConvTactic::Kind::kIgemm && (!igemm_ || !igemm_->launches(*cached, b, batch))) cached = nullptr;
    if (cached) {
      try {
        useTactic(handle, *cached, maxBatch);
        if (stats_) ++stats_->convsCached;
        return {tactic_};
      } catch (const Error&) {
        // Not usable here after all (the cache is checked against the device and cuDNN, but an
        // engine may still refuse): tuned below, and the entry replaced.
      }
    }
  }
  std::vector<ConvTactic> candidates;
  if (igemmOnly_) {
    const StopWatch watch;
    candidates = igemm_->tune(stream, b, batch, maxBatch, options.time, options.exhaustive ? kNoPruning : 0.0f);
    if (stats_) stats_->timingMs += watch.ms();
    tactic_ = candidates.front();
    workspace_ = igemm_->workspaceBytes(maxBatch);
  } else {
    if (direct_) candidates.push_back(direct_->tune(stream, b, batch, options.time));
    if (cudnnUsable_ && (options.time || !direct_)) {
      try {
        const std::vector<ConvTactic> fromCudnn = tuneCudnn(handle, stream, b, batch, maxBatch, pruneBound(candidates, options), options);
        candidates.insert(candidates.end(), fromCudnn.begin(), fromCudnn.end());
      } catch (const Error&) {
        if (!direct_ && !(igemm_ && options.halfIgemm)) throw;  // else cuDNN has nothing for this layer here, and another kernel runs it
      }
    }
    if (igemm_ && options.halfIgemm && (options.time || candidates.empty())) {
      const StopWatch watch;
      try {
        const std::vector<ConvTactic> tiles = igemm_->tune(stream, b, batch, maxBatch, options.time, pruneBound(candidates, options));
        candidates.insert(candidates.end(), tiles.begin(), tiles.end());
      } catch (const Error&) {
        if (candidates.empty()) throw;  // else cuDNN's run it (the buffers' alignment ruled the tiles out)
      }
      if (stats_) stats_->timingMs += watch.ms();
    }
    if (options.time) sortByTime(candidates);
    useTactic(handle, candidates.front(), maxBatch);
  }
  if (stats_ && options.time) ++stats_->convsTuned;
  if (!key.empty()) options.cache->putConv(key, candidates.front());
  return candidates;
}

std::vector<ConvTactic> ConvLayer::cudnnCandidates(cudnn::Handle handle, const ConvBuffers& b, int64_t batch, int64_t maxBatch,
                                                   bool exhaustive) {
  const StopWatch watch;
  const CudnnApi& api = cudnnApi();
  setMath(defaultMath(g_));
  const BatchDescs& d = descs(batch);
  cudnn::FwdAlgoPerf perf[cudnn::kFwdAlgoCount] = {};
  int returned = 0;
  if (exhaustive) {
    checkCudnn(api.findConvolutionForwardAlgorithmEx(handle, d.x.get(), b.x, filter_.get(), b.w, conv_.get(), d.y.get(), b.y,
                                                     cudnn::kFwdAlgoCount, &returned, perf, b.workspace, b.workspaceBytes),
               name_ + ": cudnnFindConvolutionForwardAlgorithmEx");
  } else {
    checkCudnn(api.getConvolutionForwardAlgorithmV7(handle, d.x.get(), filter_.get(), conv_.get(), d.y.get(), cudnn::kFwdAlgoCount,
                                                    &returned, perf),
               name_ + ": cudnnGetConvolutionForwardAlgorithm_v7");
  }
  std::vector<ConvTactic> candidates;
  for (int i = 0; i < returned; ++i) {
    const cudnn::FwdAlgoPerf& r = perf[i];
    if (r.status != cudnn::kStatusSuccess || !mathAllowed(g_, r.mathType)) continue;
    const int math = mathFor(g_, r.mathType);
    const bool seen = std::any_of(candidates.begin(), candidates.end(), [&](const ConvTactic& c) { return c.algo == r.algo && c.mathType == math; });
    if (seen) continue;
    setMath(math);
    const int64_t atBatch = workspaceFor(handle, r.algo, batch);
    const int64_t atMax = workspaceFor(handle, r.algo, maxBatch);
    if (atBatch < 0 || static_cast<uint64_t>(atBatch) > b.workspaceBytes) continue;
    if (atMax < 0 || static_cast<uint64_t>(atMax) > kMaxWorkspaceBytes) continue;
    candidates.push_back(ConvTactic{ConvTactic::Kind::kCudnnLegacy, r.algo, math, -1, exhaustive ? r.time : 0.0f});
  }
  if (stats_) stats_->searchMs += watch.ms();
  return candidates;
}

std::vector<ConvTactic> ConvLayer::tuneCudnn(cudnn::Handle handle, cudaStream_t stream, const ConvBuffers& b, int64_t batch,
                                             int64_t maxBatch, float best, const TuneOptions& options) {
  std::vector<ConvTactic> candidates = cudnnCandidates(handle, b, batch, maxBatch, options.exhaustive);
  if (options.time && candidates.size() > static_cast<size_t>(kRetimeCandidates)) candidates.resize(kRetimeCandidates);
  if (FusedConvPlan::applies(g_)) addFusedCandidate(handle, batch, maxBatch, b.workspaceBytes, candidates);
  if (candidates.empty()) throw Error(kErrBackend, name_ + ": cuDNN has no convolution algorithm for these shapes on this device");
  if (options.time) {
    const StopWatch watch;
    const double plansBefore = stats_ ? stats_->fusedPlanMs : 0;
    std::vector<ConvTactic> timed;
    for (ConvTactic t : candidates) {
      // Timed as the engine runs it: captured in a CUDA graph (a tactic that cannot be captured is
      // dropped), after one eager run so that lazily loaded kernels load outside the capture.
      try {
        useTactic(handle, t, maxBatch);
        enqueue(handle, stream, b, batch);
        GraphExec graph = captureGraph(stream, [&] { enqueue(handle, stream, b, batch); });
        t.timeMs = medianMsOrPruned(stream, best, [&] { graph.launch(stream); });
        keepBest(best, t.timeMs);
        timed.push_back(t);
      } catch (const Error&) {
        checkCuda(cudaStreamSynchronize(stream), name_ + ": tuning");
      }
    }
    if (stats_) stats_->timingMs += watch.ms() - (stats_->fusedPlanMs - plansBefore);
    if (timed.empty()) throw Error(kErrBackend, name_ + ": no cuDNN algorithm could be captured in a CUDA graph");
    sortByTime(timed);
    candidates = std::move(timed);
  }
  useTactic(handle, candidates.front(), maxBatch);
  return candidates;
}

std::vector<FusedPlanRequest> ConvLayer::fusedPlansWanted(int64_t batch, int64_t maxBatch, const TuneOptions& options,
                                                          const ConvTactic* stored) const {
  if (igemmOnly_ || !cudnnUsable_ || !FusedConvPlan::applies(g_)) return {};
  if (!stored && options.cache && options.time) stored = options.cache->conv(cacheKey(batch, maxBatch, options));
  if (stored) {
    if (stored->kind != ConvTactic::Kind::kCudnnFused) return {};
    return {FusedPlanRequest{g_, maxBatch, stored->engine, -1}};
  }
  return {FusedPlanRequest{g_, batch, -1, maxBatch}};  // addFusedCandidate's two plans
}

bool ConvLayer::addFusedCandidate(cudnn::Handle handle, int64_t batch, int64_t maxBatch, size_t workspaceLimit,
                                  std::vector<ConvTactic>& out) {
  try {
    const FusedConvPlan& atBatch = fusedPlan(handle, batch, -1);
    const FusedConvPlan& atMax = fusedPlan(handle, maxBatch, atBatch.engine());
    if (std::max(atBatch.workspaceBytes(), atMax.workspaceBytes()) > std::min<uint64_t>(workspaceLimit, kMaxWorkspaceBytes)) return false;
    ConvTactic t;
    t.kind = ConvTactic::Kind::kCudnnFused;
    t.engine = atBatch.engine();
    out.push_back(t);
    return true;
  } catch (const Error&) {
    return false;  // cuDNN offers no fused engine here: the legacy tactics remain
  }
}

const FusedConvPlan& ConvLayer::fusedPlan(cudnn::Handle handle, int64_t batch, int64_t engine) {
  return plans_->get(handle, g_, batch, engine, stats_);
}

void ConvLayer::useTactic(cudnn::Handle handle, const ConvTactic& t, int64_t maxBatch) {
  if (igemmOnly_ || t.kind == ConvTactic::Kind::kIgemm) {
    if (!igemm_) throw Error(kErrEngineFormat, name_ + ": an igemm tactic for a convolution the igemm kernel does not run");
    igemm_->useTactic(t);
    tactic_ = t;
    workspace_ = igemm_->workspaceBytes(maxBatch);
    return;
  }
  if (t.splits != 1) throw Error(kErrEngineFormat, name_ + ": split-K (" + std::to_string(t.splits) + " slices) on a tactic other than igemm");
  if (t.kind == ConvTactic::Kind::kDirect) {
    if (!direct_) throw Error(kErrEngineFormat, name_ + ": a direct-convolution tactic for a convolution the direct kernel does not run");
    tactic_ = t;
    workspace_ = 0;
    return;
  }
  if (!cudnnUsable_) throw Error(kErrEngineFormat, name_ + ": a cuDNN tactic for a convolution only the direct kernel runs");
  if (t.kind == ConvTactic::Kind::kCudnnFused) {
    try {
      workspace_ = fusedPlan(handle, maxBatch, t.engine).workspaceBytes();
    } catch (const Error& e) {
      throw Error(kErrEngineFormat, name_ + ": the fused cuDNN engine " + std::to_string(t.engine) +
                                        " is not available here (another cuDNN or GPU?): " + e.what());
    }
    tactic_ = t;
    return;
  }
  if (t.kind != ConvTactic::Kind::kCudnnLegacy || t.algo < 0 || t.algo >= cudnn::kFwdAlgoCount || !mathAllowed(g_, t.mathType)) {
    throw Error(kErrEngineFormat, name_ + ": invalid convolution tactic");
  }
  setMath(mathFor(g_, t.mathType));
  const int64_t bytes = workspaceFor(handle, t.algo, maxBatch);
  if (bytes < 0) {
    throw Error(kErrEngineFormat, name_ + ": cuDNN does not support algorithm " + cudnnAlgoName(t.algo) + " here (engine built elsewhere?)");
  }
  tactic_ = t;
  workspace_ = static_cast<size_t>(bytes);
}

void ConvLayer::enqueue(cudnn::Handle handle, cudaStream_t stream, const ConvBuffers& b, int64_t batch) {
  if (tactic_.kind == ConvTactic::Kind::kIgemm) return igemm_->enqueue(stream, b, batch);
  if (tactic_.kind == ConvTactic::Kind::kDirect) return direct_->enqueue(stream, b, batch);
  if (tactic_.kind == ConvTactic::Kind::kCudnnFused) {
    fusedPlan(handle, batch, tactic_.engine).execute(stream, b);
    return;
  }
  // The engine's handle is bound to its main stream; a side stream's convolution (stream_plan.h)
  // runs on that stream, so each enqueue binds the handle to the stream it is given.
  checkCudnn(cudnnApi().setStream(handle, stream), name_ + ": cudnnSetStream");
  const BatchDescs& d = descs(batch);
  const float one = 1.0f, zero = 0.0f;  // scaling factors are float for float and half data
  checkCudnn(cudnnApi().convolutionForward(handle, &one, d.x.get(), b.x, filter_.get(), b.w, conv_.get(), tactic_.algo,
                                           b.workspace, b.workspaceBytes, &zero, d.y.get(), b.y),
             name_ + ": cudnnConvolutionForward");
  epilogue(stream, b, batch);
}

void ConvLayer::epilogue(cudaStream_t stream, const ConvBuffers& b, int64_t batch) const {
  ConvEpilogueParams p;
  p.dtype = g_.dtype;
  p.layout = g_.layout;
  p.activation = g_.activation;
  p.y = b.y;
  p.bias = g_.hasBias ? b.bias : nullptr;
  p.batch = batch;
  p.channels = g_.outChannels;
  p.pixels = g_.outHeight * g_.outWidth;
  p.storageChannels = g_.yChannels();
  if (g_.hasResidual) {
    if (!b.residual) throw Error(kErrBackend, name_ + ": no residual tensor");
    p.residual = b.residual;
    p.residualStorageChannels = g_.residualChannels();
  }
  launchConvEpilogue(p, stream);
}

std::string ConvLayer::kernelName() const {
  if (tactic_.kind == ConvTactic::Kind::kIgemm) return igemm_->kernelName();
  if (tactic_.kind == ConvTactic::Kind::kDirect) return direct_->kernelName();
  const std::string steps = epilogueSteps(g_);
  if (tactic_.kind == ConvTactic::Kind::kCudnnFused) {
    return "cudnn:graph(conv" + (steps.empty() ? "" : "+" + steps) + ") engine " + std::to_string(tactic_.engine) + "/nhwc";
  }
  std::string s = std::string("cudnn:") + cudnnAlgoName(tactic_.algo) + mathName(g_, tactic_.mathType) +
                  (g_.layout == Layout::kNhwc ? "/nhwc" : "/nchw");
  if (!steps.empty()) s += " + netdef:conv_epilogue(" + steps + ")";
  return s;
}

}  // namespace netdef::cuda
