// Fused convolution through cuDNN's graph API: see fused_conv_graph.h.
#include "fused_conv_graph.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "../common/error.h"
#include "cuda_check.h"

namespace netdef::cuda {
namespace {

// Tensor unique ids within one operation graph.
constexpr int64_t kUidX = 1, kUidW = 2, kUidBias = 3, kUidY = 4, kUidConv = 5, kUidAdd = 6, kUidResidual = 7, kUidActivated = 8;
constexpr int64_t kByteAlignment = 16;
constexpr int64_t kSpatialDims = 2;
constexpr int64_t kMaxEngineConfigs = 16;
constexpr int64_t kMaxNotes = 16;
// Descriptors one plan keeps (at most 19 are made); reserved up front so references stay valid.
constexpr size_t kMaxDescriptors = 32;

using Dims4 = std::array<int64_t, 4>;

void set(const BackendDesc& d, int attr, int type, int64_t count, const void* values, const char* what) {
  checkCudnn(cudnnApi().backendSetAttribute(d.get(), attr, type, count, values), std::string("cuDNN graph: set ") + what);
}

void finalize(const BackendDesc& d, const char* what) {
  checkCudnn(cudnnApi().backendFinalize(d.get()), std::string("cuDNN graph: finalize ") + what);
}

// Strides of an NHWC tensor given its logical [N, C, H, W] dims (also KRSC filters as [K, C, R, S]).
Dims4 channelsLast(const Dims4& d) { return {d[1] * d[2] * d[3], 1, d[3] * d[1], d[1]}; }

// `storageChannels`: the channel count of the NHWC storage the tensor lies in (0: its own).
BackendDesc tensor(int64_t uid, int dataType, const Dims4& dims, bool isVirtual, int64_t storageChannels = 0) {
  BackendDesc t = makeBackendDesc(cudnn::kBackendTensor, "tensor");
  const Dims4 strides = channelsLast(storageChannels > 0 ? Dims4{dims[0], storageChannels, dims[2], dims[3]} : dims);
  const bool virt = isVirtual;
  set(t, cudnn::kAttrTensorUniqueId, cudnn::kTypeInt64, 1, &uid, "tensor id");
  set(t, cudnn::kAttrTensorDataType, cudnn::kTypeDataType, 1, &dataType, "tensor type");
  set(t, cudnn::kAttrTensorDimensions, cudnn::kTypeInt64, 4, dims.data(), "tensor dims");
  set(t, cudnn::kAttrTensorStrides, cudnn::kTypeInt64, 4, strides.data(), "tensor strides");
  set(t, cudnn::kAttrTensorByteAlignment, cudnn::kTypeInt64, 1, &kByteAlignment, "tensor alignment");
  set(t, cudnn::kAttrTensorIsVirtual, cudnn::kTypeBoolean, 1, &virt, "tensor virtual");
  finalize(t, "tensor");
  return t;
}

BackendDesc pointwise(int mode) {
  BackendDesc p = makeBackendDesc(cudnn::kBackendPointwise, "pointwise");
  const int precision = cudnn::kDataFloat;
  set(p, cudnn::kAttrPointwiseMode, cudnn::kTypePointwiseMode, 1, &mode, "pointwise mode");
  set(p, cudnn::kAttrPointwiseMathPrec, cudnn::kTypeDataType, 1, &precision, "pointwise precision");
  finalize(p, "pointwise");
  return p;
}

BackendDesc pointwiseOp(const BackendDesc& pw, const BackendDesc& x, const BackendDesc* b, const BackendDesc& y) {
  BackendDesc op = makeBackendDesc(cudnn::kBackendOperationPointwise, "pointwise op");
  cudnn::BackendDescriptor raw[] = {pw.get(), x.get(), b ? b->get() : nullptr, y.get()};
  set(op, cudnn::kAttrOperationPointwiseDescriptor, cudnn::kTypeBackendDescriptor, 1, &raw[0], "pointwise op mode");
  set(op, cudnn::kAttrOperationPointwiseX, cudnn::kTypeBackendDescriptor, 1, &raw[1], "pointwise op x");
  if (b) set(op, cudnn::kAttrOperationPointwiseB, cudnn::kTypeBackendDescriptor, 1, &raw[2], "pointwise op b");
  set(op, cudnn::kAttrOperationPointwiseY, cudnn::kTypeBackendDescriptor, 1, &raw[3], "pointwise op y");
  finalize(op, "pointwise op");
  return op;
}

int activationMode(FusedActivation a) {
  switch (a) {
    case FusedActivation::kSilu: return cudnn::kPointwiseSwishFwd;
    case FusedActivation::kSigmoid: return cudnn::kPointwiseSigmoidFwd;
    case FusedActivation::kRelu: return cudnn::kPointwiseReluFwd;
    case FusedActivation::kNone: break;
  }
  return -1;
}

int64_t engineIndex(const BackendDesc& config) {
  BackendDesc engine = makeBackendDesc(cudnn::kBackendEngine, "engine");
  cudnn::BackendDescriptor raw = engine.get();
  int64_t count = 0, index = -1;
  checkCudnn(cudnnApi().backendGetAttribute(config.get(), cudnn::kAttrEngineConfigEngine, cudnn::kTypeBackendDescriptor, 1, &count, &raw),
             "cuDNN graph: engine of config");
  checkCudnn(cudnnApi().backendGetAttribute(engine.get(), cudnn::kAttrEngineGlobalIndex, cudnn::kTypeInt64, 1, &count, &index),
             "cuDNN graph: engine index");
  int notes[kMaxNotes] = {};
  int64_t noteCount = 0;
  if (cudnnApi().backendGetAttribute(engine.get(), cudnn::kAttrEngineNumericalNote, cudnn::kTypeNumericalNote, kMaxNotes, &noteCount,
                                     notes) == cudnn::kStatusSuccess) {
    for (int64_t i = 0; i < noteCount && i < kMaxNotes; ++i) {
      if (notes[i] == cudnn::kNoteDownConvertInputs || notes[i] == cudnn::kNoteReducedPrecisionReduction) return -1;
    }
  }
  return index;
}

}  // namespace

bool FusedConvPlan::applies(const ConvGeometry& g) {
  return g.layout == Layout::kNhwc && g.dtype == ir::DType::Float16 && g.params.groups == 1 &&
         (g.hasBias || g.activation != FusedActivation::kNone || g.hasResidual);
}

FusedConvPlan::FusedConvPlan(cudnn::Handle handle, const ConvGeometry& g, int64_t batch, int64_t engine)
    : handle_(handle), bias_(g.hasBias), residual_(g.hasResidual) {
  if (!applies(g)) throw Error(kErrBackend, "fused convolution needs NHWC float16 with a bias, an activation or a residual");
  const ConvolutionParams& p = g.params;
  const Dims4 xDims{batch, g.inChannels, g.height, g.width};
  const Dims4 wDims{g.outChannels, g.inChannels, p.kernel[0], p.kernel[1]};
  const Dims4 yDims{batch, g.outChannels, g.outHeight, g.outWidth};
  const Dims4 biasDims{1, g.outChannels, 1, 1};
  keep_.reserve(kMaxDescriptors);
  keep_.push_back(tensor(kUidX, cudnn::kDataHalf, xDims, false, g.xChannels()));
  keep_.push_back(tensor(kUidW, cudnn::kDataHalf, wDims, false));
  keep_.push_back(tensor(kUidY, cudnn::kDataHalf, yDims, false, g.yChannels()));
  const BackendDesc& x = keep_[0];
  const BackendDesc& w = keep_[1];
  const BackendDesc& y = keep_[2];
  const bool act = g.activation != FusedActivation::kNone;
  // conv -> [add bias] -> [activation] -> [add residual]; the last op writes y, the others virtual
  // float tensors.
  keep_.push_back(tensor(kUidConv, cudnn::kDataFloat, yDims, true));
  const size_t convOut = keep_.size() - 1;

  BackendDesc conv = makeBackendDesc(cudnn::kBackendConvolution, "convolution");
  const int comp = cudnn::kDataFloat, mode = cudnn::kCrossCorrelation;
  const int64_t dil[] = {p.dilation[0], p.dilation[1]}, str[] = {p.stride[0], p.stride[1]};
  const int64_t pre[] = {p.prePadding[0], p.prePadding[1]}, post[] = {p.postPadding[0], p.postPadding[1]};
  set(conv, cudnn::kAttrConvolutionCompType, cudnn::kTypeDataType, 1, &comp, "conv compute type");
  set(conv, cudnn::kAttrConvolutionConvMode, cudnn::kTypeConvolutionMode, 1, &mode, "conv mode");
  set(conv, cudnn::kAttrConvolutionSpatialDims, cudnn::kTypeInt64, 1, &kSpatialDims, "conv spatial dims");
  set(conv, cudnn::kAttrConvolutionDilations, cudnn::kTypeInt64, kSpatialDims, dil, "conv dilations");
  set(conv, cudnn::kAttrConvolutionFilterStrides, cudnn::kTypeInt64, kSpatialDims, str, "conv strides");
  set(conv, cudnn::kAttrConvolutionPrePaddings, cudnn::kTypeInt64, kSpatialDims, pre, "conv pre paddings");
  set(conv, cudnn::kAttrConvolutionPostPaddings, cudnn::kTypeInt64, kSpatialDims, post, "conv post paddings");
  finalize(conv, "convolution");

  BackendDesc convOp = makeBackendDesc(cudnn::kBackendOperationConvolutionForward, "conv op");
  const float alpha = 1.0f, beta = 0.0f;
  cudnn::BackendDescriptor raw[] = {x.get(), w.get(), keep_[convOut].get(), conv.get()};
  set(convOp, cudnn::kAttrOperationConvFwdX, cudnn::kTypeBackendDescriptor, 1, &raw[0], "conv op x");
  set(convOp, cudnn::kAttrOperationConvFwdW, cudnn::kTypeBackendDescriptor, 1, &raw[1], "conv op w");
  set(convOp, cudnn::kAttrOperationConvFwdY, cudnn::kTypeBackendDescriptor, 1, &raw[2], "conv op y");
  set(convOp, cudnn::kAttrOperationConvFwdConvDesc, cudnn::kTypeBackendDescriptor, 1, &raw[3], "conv op desc");
  set(convOp, cudnn::kAttrOperationConvFwdAlpha, cudnn::kTypeFloat, 1, &alpha, "conv op alpha");
  set(convOp, cudnn::kAttrOperationConvFwdBeta, cudnn::kTypeFloat, 1, &beta, "conv op beta");
  finalize(convOp, "conv op");
  keep_.push_back(std::move(conv));
  keep_.push_back(std::move(convOp));
  std::vector<cudnn::BackendDescriptor> ops = {keep_.back().get()};

  size_t last = convOut;
  int remaining = (g.hasBias ? 1 : 0) + (act ? 1 : 0) + (g.hasResidual ? 1 : 0);
  // One pointwise step reading keep_[last] (and `operand`): it writes y when it is the last step,
  // else a new virtual float tensor `uid`, which the next step reads.
  auto step = [&](int mode, const BackendDesc* operand, int64_t uid) {
    const bool final = --remaining == 0;
    size_t out = last;
    if (!final) {
      keep_.push_back(tensor(uid, cudnn::kDataFloat, yDims, true));
      out = keep_.size() - 1;
    }
    keep_.push_back(pointwise(mode));
    const size_t pw = keep_.size() - 1;
    keep_.push_back(pointwiseOp(keep_[pw], keep_[last], operand, final ? y : keep_[out]));
    ops.push_back(keep_.back().get());
    last = out;
  };
  if (g.hasBias) {
    keep_.push_back(tensor(kUidBias, cudnn::kDataHalf, biasDims, false));
    step(cudnn::kPointwiseAdd, &keep_.back(), kUidAdd);
  }
  if (act) step(activationMode(g.activation), nullptr, kUidActivated);
  if (g.hasResidual) {
    keep_.push_back(tensor(kUidResidual, cudnn::kDataHalf, yDims, false, g.residualChannels()));
    step(cudnn::kPointwiseAdd, &keep_.back(), 0);
  }

  BackendDesc graph = makeBackendDesc(cudnn::kBackendOperationGraph, "operation graph");
  set(graph, cudnn::kAttrOperationGraphHandle, cudnn::kTypeHandle, 1, &handle, "graph handle");
  set(graph, cudnn::kAttrOperationGraphOps, cudnn::kTypeBackendDescriptor, static_cast<int64_t>(ops.size()), ops.data(), "graph ops");
  finalize(graph, "operation graph");

  BackendDesc heur = makeBackendDesc(cudnn::kBackendEngineHeuristics, "heuristics");
  cudnn::BackendDescriptor graphRaw = graph.get();
  const int heurMode = cudnn::kHeurA;
  set(heur, cudnn::kAttrEngineHeurOperationGraph, cudnn::kTypeBackendDescriptor, 1, &graphRaw, "heuristics graph");
  set(heur, cudnn::kAttrEngineHeurMode, cudnn::kTypeHeurMode, 1, &heurMode, "heuristics mode");
  finalize(heur, "heuristics");
  int64_t available = 0;
  checkCudnn(cudnnApi().backendGetAttribute(heur.get(), cudnn::kAttrEngineHeurResults, cudnn::kTypeBackendDescriptor, 0, &available, nullptr),
             "cuDNN graph: heuristics count");
  const int64_t wanted = std::min(available, kMaxEngineConfigs);
  std::vector<BackendDesc> configs;
  std::vector<cudnn::BackendDescriptor> configRaw;
  for (int64_t i = 0; i < wanted; ++i) {
    configs.push_back(makeBackendDesc(cudnn::kBackendEngineConfig, "engine config"));
    configRaw.push_back(configs.back().get());
  }
  int64_t returned = 0;
  if (wanted > 0) {
    checkCudnn(cudnnApi().backendGetAttribute(heur.get(), cudnn::kAttrEngineHeurResults, cudnn::kTypeBackendDescriptor, wanted, &returned,
                                              configRaw.data()),
               "cuDNN graph: heuristics results");
  }
  for (int64_t i = 0; i < returned && i < wanted; ++i) {
    const int64_t index = engineIndex(configs[i]);
    if (index < 0 || (engine >= 0 && index != engine)) continue;
    BackendDesc plan = makeBackendDesc(cudnn::kBackendExecutionPlan, "execution plan");
    set(plan, cudnn::kAttrExecutionPlanHandle, cudnn::kTypeHandle, 1, &handle, "plan handle");
    set(plan, cudnn::kAttrExecutionPlanEngineConfig, cudnn::kTypeBackendDescriptor, 1, &configRaw[i], "plan config");
    if (cudnnApi().backendFinalize(plan.get()) != cudnn::kStatusSuccess) continue;
    int64_t count = 0, workspace = 0;
    checkCudnn(cudnnApi().backendGetAttribute(plan.get(), cudnn::kAttrExecutionPlanWorkspaceSize, cudnn::kTypeInt64, 1, &count, &workspace),
               "cuDNN graph: plan workspace");
    plan_ = std::move(plan);
    engine_ = index;
    workspace_ = static_cast<size_t>(workspace);
    keep_.push_back(std::move(graph));
    keep_.push_back(std::move(configs[i]));
    return;
  }
  throw Error(kErrBackend, "cuDNN proposes no fused engine" + (engine >= 0 ? " with index " + std::to_string(engine) : std::string()) +
                               " for this convolution");
}

FusedConvPlan::FusedConvPlan(cudnn::Handle handle, const ConvGeometry& g, const std::string& json)
    : handle_(handle), bias_(g.hasBias), residual_(g.hasResidual) {
  if (!applies(g)) throw Error(kErrBackend, "fused convolution needs NHWC float16 with a bias, an activation or a residual");
  BackendDesc plan = makeBackendDesc(cudnn::kBackendExecutionPlan, "execution plan");
  // The text first, then the handle, as cudnn-frontend's loadFromJson does.
  set(plan, cudnn::kAttrExecutionPlanJsonRepresentation, cudnn::kTypeChar, static_cast<int64_t>(json.size()), json.data(), "plan json");
  set(plan, cudnn::kAttrExecutionPlanHandle, cudnn::kTypeHandle, 1, &handle, "plan handle");
  finalize(plan, "execution plan from json");
  int64_t count = 0, workspace = 0;
  checkCudnn(cudnnApi().backendGetAttribute(plan.get(), cudnn::kAttrExecutionPlanWorkspaceSize, cudnn::kTypeInt64, 1, &count, &workspace),
             "cuDNN graph: plan workspace");
  BackendDesc config = makeBackendDesc(cudnn::kBackendEngineConfig, "engine config");
  cudnn::BackendDescriptor raw = config.get();
  checkCudnn(cudnnApi().backendGetAttribute(plan.get(), cudnn::kAttrExecutionPlanEngineConfig, cudnn::kTypeBackendDescriptor, 1, &count, &raw),
             "cuDNN graph: plan engine config");
  engine_ = engineIndex(config);
  workspace_ = static_cast<size_t>(workspace);
  plan_ = std::move(plan);
  keep_.push_back(std::move(config));
}

std::string FusedConvPlan::json() const {
  int64_t size = 0;
  if (cudnnApi().backendGetAttribute(plan_.get(), cudnn::kAttrExecutionPlanJsonRepresentation, cudnn::kTypeChar, 0, &size, nullptr) !=
          cudnn::kStatusSuccess ||
      size <= 0) {
    return "";
  }
  std::string text(static_cast<size_t>(size), '\0');
  if (cudnnApi().backendGetAttribute(plan_.get(), cudnn::kAttrExecutionPlanJsonRepresentation, cudnn::kTypeChar, size, &size,
                                     text.data()) != cudnn::kStatusSuccess) {
    return "";
  }
  text.resize(std::min(text.size(), static_cast<size_t>(size)));  // the bytes as cuDNN returned them
  return text;
}

void FusedConvPlan::execute(cudaStream_t stream, const ConvBuffers& b) const {
  if (b.workspaceBytes < workspace_) throw Error(kErrBackend, "fused convolution: workspace too small");
  BackendDesc pack = makeBackendDesc(cudnn::kBackendVariantPack, "variant pack");
  std::vector<int64_t> uids = {kUidX, kUidW, kUidY};
  std::vector<void*> pointers = {const_cast<void*>(b.x), const_cast<void*>(b.w), b.y};
  if (bias_) {
    uids.push_back(kUidBias);
    pointers.push_back(const_cast<void*>(b.bias));
  }
  if (residual_) {
    if (!b.residual) throw Error(kErrBackend, "fused convolution: no residual tensor");
    uids.push_back(kUidResidual);
    pointers.push_back(const_cast<void*>(b.residual));
  }
  const auto count = static_cast<int64_t>(uids.size());
  void* workspace = b.workspace;
  set(pack, cudnn::kAttrVariantPackUniqueIds, cudnn::kTypeInt64, count, uids.data(), "variant ids");
  set(pack, cudnn::kAttrVariantPackDataPointers, cudnn::kTypeVoidPtr, count, pointers.data(), "variant pointers");
  set(pack, cudnn::kAttrVariantPackWorkspace, cudnn::kTypeVoidPtr, 1, &workspace, "variant workspace");
  finalize(pack, "variant pack");
  checkCudnn(cudnnApi().setStream(handle_, stream), "cuDNN graph: cudnnSetStream");
  checkCudnn(cudnnApi().backendExecute(handle_, plan_.get(), pack.get()), "cuDNN graph: execute");
}

namespace {
std::string planKey(const ConvGeometry& g, int64_t batch, int64_t engine) {
  return geometryKey(g) + ",batch" + std::to_string(batch) + ",engine" + std::to_string(engine);
}
}  // namespace

FusedPlans::Entries FusedPlans::make(cudnn::Handle handle, const ConvGeometry& g, int64_t batch, int64_t engine) const {
  const std::string key = planKey(g, batch, engine);
  auto known = engine >= 0 ? texts_.find(key) : texts_.end();
  if (known != texts_.end()) {
    try {
      auto plan = std::make_shared<FusedConvPlan>(handle, g, known->second);
      if (plan->engine() == engine) return {Entry{key, std::move(plan), true}};
    } catch (const Error&) {
      // cuDNN refuses the text (another build of it, a changed driver): made again below
    }
  }
  std::shared_ptr<FusedConvPlan> plan;
  try {
    plan = std::make_shared<FusedConvPlan>(handle, g, batch, engine);
  } catch (const Error&) {
    return {Entry{key, nullptr}};  // the same geometry need not ask cuDNN again
  }
  Entries entries{Entry{key, plan}};
  if (engine != plan->engine()) entries.push_back(Entry{planKey(g, batch, plan->engine()), plan});
  return entries;
}

void FusedPlans::count(const Entries& made, BuildStats* stats) {
  if (!stats || made.empty() || !made.front().plan) return;
  stats->fusedPlans += 1;
  stats->fusedPlansRestored += made.front().restored ? 1 : 0;
}

const FusedConvPlan& FusedPlans::get(cudnn::Handle handle, const ConvGeometry& g, int64_t batch, int64_t engine,
                                     BuildStats* stats) {
  const std::string key = planKey(g, batch, engine);
  auto it = plans_.find(key);
  if (it == plans_.end()) {
    const StopWatch watch;
    Entries made = make(handle, g, batch, engine);
    count(made, stats);
    for (Entry& e : made) plans_.insert_or_assign(e.key, std::move(e.plan));
    it = plans_.find(key);
    if (stats) stats->fusedPlanMs += watch.ms();
  }
  if (!it->second) throw Error(kErrBackend, "cuDNN proposes no fused engine for this convolution");
  return *it->second;
}

std::vector<std::pair<std::string, std::string>> FusedPlans::texts(const ConvGeometry& g, int64_t engine) const {
  std::vector<std::pair<std::string, std::string>> out;
  if (engine < 0) return out;
  // planKey(g, batch, engine) for any batch: the geometry's prefix, then the batch, then this suffix.
  const std::string prefix = geometryKey(g) + ",batch", suffix = ",engine" + std::to_string(engine);
  const auto forEachKey = [&](const auto& byKey, const auto& visit) {
    for (auto it = byKey.lower_bound(prefix); it != byKey.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      const std::string& key = it->first;
      if (key.size() < suffix.size() || key.compare(key.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
      if (key.find(',', prefix.size()) != key.size() - suffix.size()) continue;  // exactly ",batch<N>,engine<E>" after the geometry
      visit(key, it->second);
    }
  };
  forEachKey(plans_, [&](const std::string& key, const std::shared_ptr<FusedConvPlan>& plan) {
    if (!plan) return;
    std::string json = plan->json();
    if (!json.empty()) out.emplace_back(key, std::move(json));
  });
  // Texts an engine file was loaded with and not asked for yet (its other batches) stay, so the
  // file written again keeps every plan it was loaded with.
  if (!keepUnused_) return out;
  forEachKey(texts_, [&](const std::string& key, const std::string& text) {
    if (plans_.count(key) == 0) out.emplace_back(key, text);
  });
  return out;
}

unsigned planThreads() {
  const char* env = std::getenv("NETDEF_CUDA_PLAN_THREADS");
  if (!env || !*env) return std::min(std::max(1u, std::thread::hardware_concurrency()), kMaxPlanThreads);
  char* end = nullptr;
  const long n = std::strtol(env, &end, 10);
  constexpr long kMostThreads = 256;
  if (*end != '\0' || n < 1 || n > kMostThreads) {
    throw Error(kErrInvalidArgument, std::string("NETDEF_CUDA_PLAN_THREADS='") + env + "': want a whole number of threads from 1 to " +
                                         std::to_string(kMostThreads));
  }
  return static_cast<unsigned>(n);
}

void FusedPlans::prefetch(const std::vector<FusedPlanRequest>& requests, int device, cudaStream_t stream, BuildStats* stats) {
  std::vector<const FusedPlanRequest*> todo;
  std::set<std::string> seen;
  for (const FusedPlanRequest& r : requests) {
    const std::string key = planKey(r.g, r.batch, r.engine);
    if (!plans_.count(key) && seen.insert(key).second) todo.push_back(&r);
  }
  const unsigned threads = std::min<unsigned>(planThreads(), static_cast<unsigned>(todo.size()));
  if (threads < 2) return;  // nothing to overlap: the layers make it as they go
  const StopWatch watch;
  std::mutex mutex;
  std::atomic<size_t> next{0};
  BuildStats counted;
  auto worker = [&] {
    // Never throws: whatever fails here is made (or found missing) again on the sequential path.
    try {
      const DeviceGuard guard(device);
      CudnnHandle handle = makeCudnnHandle();
      checkCudnn(cudnnApi().setStream(handle.get(), stream), "cudnnSetStream");
      Entries mine;
      BuildStats myCount;
      for (size_t i = next++; i < todo.size(); i = next++) {
        const FusedPlanRequest& r = *todo[i];
        Entries first = make(handle.get(), r.g, r.batch, r.engine);
        count(first, &myCount);
        const std::shared_ptr<FusedConvPlan> plan = first.front().plan;
        mine.insert(mine.end(), first.begin(), first.end());
        if (!plan) continue;
        if (r.thenBatch >= 0 && r.thenBatch != r.batch) {
          Entries then = make(handle.get(), r.g, r.thenBatch, plan->engine());
          count(then, &myCount);
          mine.insert(mine.end(), then.begin(), then.end());
        }
      }
      const std::lock_guard<std::mutex> lock(mutex);
      for (Entry& e : mine) plans_.emplace(e.key, std::move(e.plan));
      handles_.push_back(std::move(handle));
      counted.fusedPlans += myCount.fusedPlans;
      counted.fusedPlansRestored += myCount.fusedPlansRestored;
    } catch (...) {
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (std::thread& t : pool) t.join();
  if (stats) {
    stats->fusedPlanMs += watch.ms();
    stats->fusedPlans += counted.fusedPlans;
    stats->fusedPlansRestored += counted.fusedPlansRestored;
  }
}

}  // namespace netdef::cuda
