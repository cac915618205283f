// CudaEngine construction: memory plan, weights, convolution tactics. See engine_impl.h.
#include "engine_impl.h"

#include <algorithm>
#include <cstring>

#include "../common/error.h"
#include "direct_conv_rule.h"
#include "timing_cache.h"
#include "ops/op_common.cuh"
#include "weight_values.h"

namespace netdef::cuda {
namespace {

// Byte written over the arena before tuning: float16 0x3C3C ~ 1.06, float32 0x3C3C3C3C ~ 0.0115
// (timing never runs on zeros, which some kernels skip through faster than real data).
constexpr int kTuneFillByte = 0x3C;

}  // namespace

ConvGeometry geometryOf(const ExecContext& ctx, const OpDef& op, const ConvAttrs& a, bool tf32) {
  const Program& p = *ctx.program;
  const TensorDef& x = p.tensors[op.inputs[0]];
  const TensorDef& y = p.tensors[op.outputs[0]];
  if (x.dims.size() != 4 || y.dims.size() != 4) throw Error(kErrEngineFormat, op.name + ": convolution tensors are not 4-D");
  ConvGeometry g;
  // The convolution's dtype is its weights'; its input differs only where a Cast (or, for int8, a
  // Quantize) was folded into a direct convolution, and its output's layout only where the layout
  // pass planned a direct one.
  g.dtype = p.weights[a.weight].dtype;
  g.inDtype = x.dtype;
  g.layout = x.layout;
  g.outLayout = y.layout;
  if ((g.inDtype != g.dtype || g.outLayout != g.layout) && !runsDirect(p, op)) {
    throw Error(kErrEngineFormat, op.name + ": convolution input and output differ in layout or dtype");
  }
  g.inChannels = x.dims[1];
  g.height = x.dims[2];
  g.width = x.dims[3];
  g.outChannels = y.dims[1];
  g.outHeight = y.dims[2];
  g.outWidth = y.dims[3];
  g.params = a.params;
  g.activation = a.activation;
  g.hasBias = a.bias >= 0;
  g.inStorageChannels = storageChannels(ctx, op.inputs[0]);
  g.outStorageChannels = storageChannels(ctx, op.outputs[0]);
  g.outDtype = y.dtype;
  g.inputScale = a.inputScale;
  g.outputScale = a.outputScale;
  g.tf32 = tf32 && g.dtype == ir::DType::Float32;
  if (op.inputs.size() > 1) {
    const TensorDef& r = p.tensors[op.inputs[1]];
    // A float residual is the output's dtype; an int8 convolution's is int8 at its own scale.
    const ir::DType want = a.residualScale > 0 ? ir::DType::Int8 : y.dtype;
    if (r.dims != y.dims || r.dtype != want || r.layout != y.layout) {
      throw Error(kErrEngineFormat, op.name + ": the residual tensor '" + r.name + "' differs from the output in shape, dtype or layout");
    }
    g.hasResidual = true;
    g.residualDtype = r.dtype;
    g.residualScale = a.residualScale;
    g.residualStorageChannels = storageChannels(ctx, op.inputs[1]);
  }
  return g;
}

CudaEngine::CudaEngine(Program program, const EngineConfig& config, int device, const EngineBuildOptions& options)
    : device_(device), program_(std::move(program)), config_(config) {
  DeviceGuard guard(device_);
  cudaDeviceProp prop{};
  checkCuda(cudaGetDeviceProperties(&prop, device_), "cudaGetDeviceProperties");
  deviceName_ = prop.name;
  smMajor_ = prop.major;
  smMinor_ = prop.minor;
  stream_ = std::make_unique<Stream>();
  cudnn_ = makeCudnnHandle();
  checkCudnn(cudnnApi().setStream(cudnn_.get(), stream_->get()), "cudnnSetStream");
  planMemory();
  uploadWeights();
  // The main stream's counters first, then each side stream's.
  splitCounters_ = DeviceBuffer((1 + static_cast<size_t>(streamPlan_.streams)) * kSplitCounterCount * sizeof(int), "split-K counters");
  checkCuda(cudaMemset(splitCounters_.get(), 0, splitCounters_.size()), "zero the split-K counters");
  ctx_.splitCounters = static_cast<int*>(splitCounters_.get());
  ctx_.splitCounterCount = kSplitCounterCount;
  createConvolutions(options);
  createSideStreams();
  for (int32_t t : program_.inputs) {
    inputStaging_.emplace_back(tensorBytes(program_.tensors[t], config_.maxBatch), "input staging");
  }
  for (const OutputDef& o : program_.outputs) {
    outputStaging_.emplace_back(tensorBytes(program_.tensors[o.tensor], config_.maxBatch), "output staging");
  }
  layerMs_.assign(program_.ops.size(), 0.0);
}

CudaEngine::~CudaEngine() {
  // Graphs and buffers are freed by their owners; make sure nothing is still running on them.
  if (stream_) cudaStreamSynchronize(stream_->get());
  for (const std::unique_ptr<Stream>& s : sideStreams_) cudaStreamSynchronize(s->get());
}

void CudaEngine::planMemory() {
  // Channel-range views (split halves, concat parts) live in their storage tensor's allocation.
  if (config_.channelViews) {
    ctx_.views = planChannelViews(program_, config_.poolingViews);
  } else {
    ctx_.views = ChannelViews{};
    ctx_.views.views.resize(program_.tensors.size());  // every tensor in its own storage
  }
  const bool sideStreams = sideStreamsWanted();
  MemoryPlan m = planActivationMemory(program_, ctx_.views, config_.maxBatch, sideStreams);
  root_ = std::move(m.root);
  streamPlan_ = std::move(m.streams);
  launchesKernel_ = std::move(m.kernels);
  planSlot_ = std::move(m.slot);
  plan_ = std::move(m.buffers);
  arena_ = DeviceBuffer(plan_.totalBytes, "activation arena");
}

void CudaEngine::createSideStreams() {
  const auto streams = static_cast<size_t>(streamPlan_.streams);
  // Each side stream's convolution workspace: the most any convolution of its chains needs.
  std::vector<size_t> need(streams, 0);
  for (const SideChain& c : streamPlan_.chains) {
    for (int32_t op : c.ops) {
      if (convs_[op]) need[c.stream] = std::max(need[c.stream], convs_[op]->workspaceBytes());
    }
  }
  std::vector<size_t> at(streams, 0);
  size_t total = 0;
  for (size_t s = 0; s < streams; ++s) {
    at[s] = total;
    total += alignUp(need[s]);
  }
  sideWorkspace_ = DeviceBuffer(total, "side streams' convolution workspace");
  for (size_t s = 0; s < streams; ++s) {
    sideStreams_.push_back(std::make_unique<Stream>());
    StreamResources r;
    r.stream = sideStreams_.back()->get();
    r.workspace = need[s] > 0 ? static_cast<uint8_t*>(sideWorkspace_.get()) + at[s] : nullptr;
    r.workspaceBytes = need[s];
    r.splitCounters = static_cast<int*>(splitCounters_.get()) + (1 + s) * kSplitCounterCount;
    r.splitCounterCount = kSplitCounterCount;
    sideResources_.push_back(r);
  }
  for (size_t c = 0; c < streamPlan_.chains.size(); ++c) {
    forkEvents_.emplace_back(cudaEventDisableTiming);
    joinEvents_.emplace_back(cudaEventDisableTiming);
  }
}

uint64_t CudaEngine::viewOffsetBytes(int32_t t) const {
  // A channel-range view starts at its channel offset in its storage (storage tensors are never
  // views themselves; reshape aliases start where their root does).
  const ChannelView& v = ctx_.views.views[t];
  if (v.root < 0) return 0;
  const TensorDef& d = program_.tensors[t];
  const uint64_t per = d.layout == Layout::kNhwc ? 1 : static_cast<uint64_t>(d.dims[2] * d.dims[3]);
  return static_cast<uint64_t>(v.offset) * per * ops::elementBytes(d.dtype);
}

void CudaEngine::uploadWeights() {
  placement_ = placeWeights(program_);
  weights_ = DeviceBuffer(placement_.totalBytes, "weights");
  copyWeightsToDevice();

  const std::vector<uint64_t>& at = placement_.weightOffsets;
  ctx_.program = &program_;
  ctx_.tensors.assign(program_.tensors.size(), nullptr);
  for (size_t t = 0; t < program_.tensors.size(); ++t) {
    const int32_t r = root_[t];
    const TensorDef& def = program_.tensors[r];
    if (def.constant >= 0) {
      // (A constant no op reads as a tensor may have no device copy: it stays null.)
      if (at[def.constant] != kNotOnDevice) ctx_.tensors[t] = weights_.bytes() + at[def.constant];
    } else if (planSlot_[r] >= 0) {
      ctx_.tensors[t] = arena_.bytes() + plan_.offsets[planSlot_[r]] + viewOffsetBytes(static_cast<int32_t>(t));
    }
  }
  ctx_.filters.assign(program_.ops.size(), nullptr);
  ctx_.biases.assign(program_.ops.size(), nullptr);
  ctx_.weightScales.assign(program_.ops.size(), nullptr);
  for (size_t i = 0; i < program_.ops.size(); ++i) {
    if (const auto* d = std::get_if<DetectDecodeAttrs>(&program_.ops[i].attrs)) ctx_.filters[i] = weights_.bytes() + at[d->dflWeight];
    const auto* c = std::get_if<ConvAttrs>(&program_.ops[i].attrs);
    if (!c) continue;
    const uint64_t krsc = placement_.filterOffsets[i];
    ctx_.filters[i] = weights_.bytes() + (krsc != kNotOnDevice ? krsc : at[c->weight]);
    if (c->bias >= 0) ctx_.biases[i] = weights_.bytes() + at[c->bias];
    if (c->weightScales >= 0) ctx_.weightScales[i] = weights_.bytes() + at[c->weightScales];
  }
  ctx_.cudnn = cudnn_.get();
  ctx_.stream = stream_->get();
}

void CudaEngine::copyWeightsToDevice() {
  // One host image of the whole weight buffer and one copy: what the build uploads and what refit
  // writes over it, at the same offsets (the captured graphs keep pointing at valid weights).
  const std::vector<uint8_t> image = weightImage(program_, placement_);
  if (!image.empty()) checkCuda(cudaMemcpy(weights_.get(), image.data(), image.size(), cudaMemcpyHostToDevice), "upload weights");
}

void CudaEngine::refit(const std::vector<ir::Param>& params) {
  // Everything is checked before anything is written: a refused refit leaves the engine as it was.
  std::unordered_map<std::string, size_t> given;
  std::vector<std::string> mismatches;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!given.emplace(params[i].name, i).second) mismatches.push_back(params[i].name + ": given twice");
  }
  std::vector<std::vector<uint8_t>> values(program_.weights.size());
  std::vector<bool> used(params.size(), false);
  for (size_t w = 0; w < program_.weights.size(); ++w) {
    const WeightDef& def = program_.weights[w];
    auto it = given.find(def.name);
    if (it == given.end()) continue;  // a constant of the graph, or a weight the caller keeps
    const ir::Param& p = params[it->second];
    used[it->second] = true;
    const int64_t count = static_cast<int64_t>(def.bytes.size() / ops::elementBytes(def.dtype));
    const int64_t givenCount = static_cast<int64_t>(p.bytes / ir::bytesOf(p.dtype));
    if (givenCount != count) {
      mismatches.push_back(def.name + ": " + std::to_string(givenCount) + " values given, the engine's weight has " + std::to_string(count));
    } else if (!convertible(p.dtype, def.dtype)) {
      mismatches.push_back(def.name + ": " + ir::dtypeName(p.dtype) + " values cannot become the engine's " + ir::dtypeName(def.dtype));
    } else {
      values[w] = convertValues(p.data, count, p.dtype, def.dtype);
    }
  }
  for (size_t i = 0; i < params.size(); ++i) {
    if (!used[i]) mismatches.push_back(params[i].name + ": not a weight of this engine");
  }
  if (!mismatches.empty()) {
    std::string message = "refit refused, " + std::to_string(mismatches.size()) + " mismatch(es):";
    for (const std::string& m : mismatches) message += "\n  " + m;
    throw Error(kErrWeightsMismatch, message);
  }

  std::lock_guard<std::mutex> lock(mutex_);
  DeviceGuard guard(device_);
  checkCuda(cudaStreamSynchronize(stream_->get()), "refit: wait for runs in flight");
  for (size_t w = 0; w < values.size(); ++w) {
    if (given.count(program_.weights[w].name)) program_.weights[w].bytes = std::move(values[w]);
  }
  copyWeightsToDevice();
}

void CudaEngine::createConvolutions(const EngineBuildOptions& options) {
  convs_.clear();
  convs_.resize(program_.ops.size());
  std::vector<size_t> convOps;
  for (size_t i = 0; i < program_.ops.size(); ++i) {
    if (std::holds_alternative<ConvAttrs>(program_.ops[i].attrs) && program_.ops[i].fusedInto < 0) convOps.push_back(i);
  }
  DeviceBuffer tuneWorkspace;
  if (!options.tactics) {
    tuneWorkspace = DeviceBuffer(kMaxWorkspaceBytes, "tuning workspace");
    if (arena_.size() > 0) checkCuda(cudaMemset(arena_.get(), kTuneFillByte, arena_.size()), "fill arena");
  }
  size_t workspace = 0;
  int done = options.progressDone;
  // Every layer first, so that the fused cuDNN plans they will ask for are compiled in parallel.
  std::vector<const ConvTactic*> stored(program_.ops.size(), nullptr);
  std::vector<FusedPlanRequest> wanted;
  for (size_t i : convOps) {
    const OpDef& op = program_.ops[i];
    convs_[i] = std::make_unique<ConvLayer>(op.name, geometryOf(ctx_, op, std::get<ConvAttrs>(op.attrs), config_.tf32), fusedPlans_);
    if (options.tactics) {
      auto it = std::find_if(options.tactics->begin(), options.tactics->end(), [&](const OpTactic& t) { return t.op == static_cast<int32_t>(i); });
      if (it == options.tactics->end()) throw Error(kErrEngineFormat, op.name + ": no tactic stored for this convolution");
      stored[i] = &it->tactic;
    }
    for (FusedPlanRequest& r : convs_[i]->fusedPlansWanted(config_.optBatch, config_.maxBatch, options.tuning, stored[i])) wanted.push_back(std::move(r));
  }
  // Plan texts to restore from: a loaded engine's own, or a build's timing cache's.
  const TimingCache* cache = options.tuning.cache;
  if (const auto* texts = options.tactics ? options.planTexts : cache ? &cache->plans() : nullptr) {
    fusedPlans_->restoreFrom(*texts, options.tactics != nullptr);
  }
  fusedPlans_->prefetch(wanted, device_, stream_->get(), options.tuning.stats);
  for (size_t i : convOps) {
    const OpDef& op = program_.ops[i];
    std::unique_ptr<ConvLayer>& layer = convs_[i];
    if (options.tactics) {
      layer->useTactic(cudnn_.get(), *stored[i], config_.maxBatch);
    } else {
      ExecContext tuneCtx = ctx_;
      tuneCtx.workspace = tuneWorkspace.get();
      tuneCtx.workspaceBytes = tuneWorkspace.size();
      layer->tune(cudnn_.get(), stream_->get(), convBuffers(tuneCtx, i), config_.optBatch, config_.maxBatch, options.tuning);
      if (options.progress) options.progress(++done, options.progressTotal, op.name);
    }
    workspace = std::max(workspace, layer->workspaceBytes());
  }
  // The texts stay: each batch has plans of its own, and a batch run for the first time later
  // restores them from the texts too.
  tuneWorkspace = DeviceBuffer();
  workspace_ = DeviceBuffer(workspace, "convolution workspace");
  ctx_.convs = &convs_;
  ctx_.workspace = workspace_.get();
  ctx_.workspaceBytes = workspace_.size();
}

std::vector<OpTactic> CudaEngine::tactics() const {
  std::vector<OpTactic> out;
  for (size_t i = 0; i < convs_.size(); ++i) {
    if (convs_[i]) out.push_back(OpTactic{static_cast<int32_t>(i), convs_[i]->tactic()});
  }
  return out;
}

std::map<std::string, std::string> CudaEngine::fusedPlanTexts() const {
  std::map<std::string, std::string> out;
  for (const std::unique_ptr<ConvLayer>& layer : convs_) {
    if (!layer || layer->tactic().kind != ConvTactic::Kind::kCudnnFused) continue;
    for (auto& [key, text] : fusedPlans_->texts(layer->geometry(), layer->tactic().engine)) out.emplace(std::move(key), std::move(text));
  }
  return out;
}

uint64_t CudaEngine::deviceMemoryBytes() const {
  return weights_.size() + arena_.size() + workspace_.size() + sideWorkspace_.size() + splitCounters_.size();
}

void CudaEngine::checkBatch(int64_t batch) const {
  if (batch < config_.minBatch || batch > config_.maxBatch) {
    throw Error(kErrInvalidArgument, "batch " + std::to_string(batch) + " is outside the engine's range [" +
                                         std::to_string(config_.minBatch) + ", " + std::to_string(config_.maxBatch) + "]");
  }
}

}  // namespace netdef::cuda
