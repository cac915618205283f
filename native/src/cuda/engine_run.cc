// CudaEngine at run time: inputs in, the captured forward, outputs out; per-layer profiling; the
// layer report; serialization. See engine_impl.h.
#include <cstring>
#include <optional>

#include "../common/error.h"
#include "engine_build.h"
#include "engine_impl.h"
#include "ops/pdl.h"
#include "timing.h"

namespace netdef::cuda {
namespace {

constexpr int kForwardWarmup = 3;
constexpr int kForwardIterations = 20;

struct KernelName {
  const Program& p;
  const OpDef& op;
  std::string operator()(const ConvAttrs&) const { return ""; }  // the ConvLayer names it
  std::string operator()(const ActivationAttrs&) const { return "netdef:activation"; }
  std::string operator()(const ElementWiseAttrs&) const { return "netdef:elementwise"; }
  std::string operator()(const ConcatAttrs&) const { return "netdef:copy_strided x" + std::to_string(op.inputs.size()); }
  std::string operator()(const SliceAttrs&) const { return "netdef:copy_strided"; }
  std::string operator()(const PoolingAttrs&) const { return "netdef:pooling"; }
  std::string operator()(const ResizeAttrs&) const {
    return p.tensors[op.inputs[0]].layout == Layout::kNhwc ? "netdef:copy_strided(nearest, nhwc)" : "netdef:resize_nearest";
  }
  std::string operator()(const ShuffleAttrs& a) const { return a.permutation.empty() ? "view" : "netdef:copy_strided(transpose)"; }
  std::string operator()(const SoftmaxAttrs&) const { return "netdef:softmax"; }
  std::string operator()(const MatMulAttrs&) const { return "netdef:matmul"; }
  std::string operator()(const CastAttrs&) const { return "netdef:cast"; }
  std::string operator()(const QuantizeAttrs&) const { return "netdef:quantize"; }
  std::string operator()(const DequantizeAttrs&) const { return "netdef:dequantize"; }
  std::string operator()(const ReformatAttrs&) const {
    return p.tensors[op.outputs[0]].layout == Layout::kNhwc ? "netdef:copy_strided(nchw->nhwc)" : "netdef:copy_strided(nhwc->nchw)";
  }
  std::string operator()(const DetectDecodeAttrs&) const { return "netdef:detect_decode"; }
};

}  // namespace

void CudaEngine::enqueueForward(int64_t batch, bool withCopies) {
  cudaStream_t s = stream_->get();
  for (size_t i = 0; withCopies && i < program_.inputs.size(); ++i) {
    const int32_t t = program_.inputs[i];
    checkCuda(cudaMemcpyAsync(ctx_.tensors[t], inputStaging_[i].get(), tensorBytes(program_.tensors[t], batch), cudaMemcpyHostToDevice, s),
              "copy input " + program_.tensors[t].name);
  }
  enqueueOps(batch);
  for (size_t i = 0; withCopies && i < program_.outputs.size(); ++i) {
    const OutputDef& o = program_.outputs[i];
    checkCuda(cudaMemcpyAsync(outputStaging_[i].get(), ctx_.tensors[o.tensor], tensorBytes(program_.tensors[o.tensor], batch),
                              cudaMemcpyDeviceToHost, s),
              "copy output " + o.name);
  }
}

void CudaEngine::enqueueOps(int64_t batch) {
  const cudaStream_t main = stream_->get();
  const std::vector<SideChain>& chains = streamPlan_.chains;
  // Per chain: its side stream has work the main stream has not waited for yet.
  std::vector<bool> open(chains.size(), false);
  // Enqueues op i; while `plainNext` (an event wait came before it on its stream) its kernel is
  // launched without PDL, since it waits for more than its predecessor; an op that launches
  // nothing (an in-place concat) passes that on to the next.
  auto enqueue = [&](int32_t i, const StreamResources* side, bool& plainNext) {
    std::optional<ops::NoProgrammaticLaunch> plain;
    if (plainNext) plain.emplace();
    enqueueOp(ctx_, i, batch, side);
    plainNext = plainNext && !launchesKernel_[i];
  };
  // A chain goes onto its side stream once the main stream has enqueued its fork.
  auto startChains = [&](int32_t fork) {
    for (size_t c = 0; c < chains.size(); ++c) {
      if (chains[c].fork != fork) continue;
      const StreamResources& side = sideResources_[chains[c].stream];
      forkEvents_[c].record(main);
      checkCuda(cudaStreamWaitEvent(side.stream, forkEvents_[c].get(), 0), "side stream: wait for its fork");
      open[c] = true;
      bool plainNext = true;
      for (int32_t op : chains[c].ops) enqueue(op, &side, plainNext);
      joinEvents_[c].record(side.stream);
    }
  };
  // The main stream waits for the chains joining before op `join` (-1: the forward's end).
  auto joinChains = [&](int32_t join) {
    bool waited = false;
    for (size_t c = 0; c < chains.size(); ++c) {
      if (chains[c].join != join) continue;
      checkCuda(cudaStreamWaitEvent(main, joinEvents_[c].get(), 0), "main stream: wait for a side stream");
      open[c] = false;
      waited = true;
    }
    return waited;
  };
  try {
    startChains(-1);
    bool plainNext = false;
    for (size_t i = 0; i < program_.ops.size(); ++i) {
      const auto op = static_cast<int32_t>(i);
      if (streamPlan_.chainOf[i] >= 0) continue;
      plainNext = joinChains(op) || plainNext;
      enqueue(op, nullptr, plainNext);
      startChains(op);
    }
    joinChains(-1);
  } catch (...) {
    // A failed enqueue leaves no side stream forked off the main one (a capture ends on the main
    // stream, and the engine's destructor waits for it): the main stream waits for what was started.
    for (size_t c = 0; c < chains.size(); ++c) {
      if (!open[c]) continue;
      const cudaStream_t side = sideResources_[chains[c].stream].stream;
      if (cudaEventRecord(joinEvents_[c].get(), side) == cudaSuccess) cudaStreamWaitEvent(main, joinEvents_[c].get(), 0);
    }
    throw;
  }
}

const GraphExec& CudaEngine::graphFor(int64_t batch, bool withCopies) {
  const auto key = std::make_pair(batch, withCopies);
  auto it = graphs_.find(key);
  if (it != graphs_.end()) return it->second;
  // One eager forward first: kernels and cuDNN load lazily on first use, which must not happen
  // while a graph is being captured.
  enqueueForward(batch, withCopies);
  stream_->synchronize("warm-up before capture");
  GraphExec g = captureGraph(stream_->get(), [&] { enqueueForward(batch, withCopies); });
  return graphs_.emplace(key, std::move(g)).first->second;
}

std::unordered_map<std::string, HostOutput> CudaEngine::run(const std::unordered_map<std::string, std::vector<uint8_t>>& inputs,
                                                             int64_t batch) {
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceGuard guard(device_);
  checkBatch(batch);
  size_t matched = 0;
  for (size_t i = 0; i < program_.inputs.size(); ++i) {
    const TensorDef& t = program_.tensors[program_.inputs[i]];
    auto it = inputs.find(t.name);
    if (it == inputs.end()) throw Error(kErrInvalidArgument, "input '" + t.name + "' is missing");
    const uint64_t want = tensorBytes(t, batch);
    if (it->second.size() != want) {
      throw Error(kErrInvalidArgument, "input '" + t.name + "' has " + std::to_string(it->second.size()) + " bytes; " +
                                           ops::dtypeLabel(t.dtype) + " at batch " + std::to_string(batch) + " needs " + std::to_string(want));
    }
    std::memcpy(inputStaging_[i].get(), it->second.data(), want);
    ++matched;
  }
  if (matched != inputs.size()) throw Error(kErrInvalidArgument, "run() was given an input the engine does not have");
  graphFor(batch, true).launch(stream_->get());
  stream_->synchronize("run");
  return stagedOutputs(batch);
}

std::unordered_map<std::string, HostOutput> CudaEngine::stagedOutputs(int64_t batch) const {
  std::unordered_map<std::string, HostOutput> out;
  for (size_t i = 0; i < program_.outputs.size(); ++i) {
    const TensorDef& t = program_.tensors[program_.outputs[i].tensor];
    HostOutput h;
    h.dtype = t.dtype;
    h.shape = resolveDims(t, batch);
    const uint64_t bytes = tensorBytes(t, batch);
    h.data.assign(outputStaging_[i].get(), outputStaging_[i].get() + bytes);
    out.emplace(program_.outputs[i].name, std::move(h));
  }
  return out;
}

ImageRunResult CudaEngine::runImages(const ImageBatch& images, const std::optional<CandidateQuery>& query) {
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceGuard guard(device_);
  const int64_t batch = static_cast<int64_t>(images.images.size());
  checkBatch(batch);
  if (program_.inputs.size() != 1) throw Error(kErrInvalidArgument, "runImages: the engine must have one image input, it has " + std::to_string(program_.inputs.size()));
  const OutputDef* output0 = nullptr;
  for (const OutputDef& o : program_.outputs)
    if (o.name == "output0") output0 = &o;
  if (query && !output0) throw Error(kErrInvalidArgument, "runImages: candidates are selected from 'output0', which this engine does not have");
  cudaStream_t s = stream_->get();
  const int32_t input = program_.inputs[0];
  // The forward's graph before the letterbox: capturing it runs one eager forward, and the arena
  // lets later tensors reuse the input's memory, so a letterbox written before that warm-up would
  // be overwritten (the first call of a batch size would run on garbage).
  const GraphExec& forward = graphFor(batch, false);
  imageIo_.enqueueLetterbox(images, program_.tensors[input], ctx_.tensors[input], s);
  forward.launch(s);
  ImageRunResult result;
  if (query) {
    result.candidates = imageIo_.candidates(*query, program_.tensors[output0->tensor], ctx_.tensors[output0->tensor], batch, *stream_);
    return result;
  }
  for (size_t i = 0; i < program_.outputs.size(); ++i) {
    const OutputDef& o = program_.outputs[i];
    checkCuda(cudaMemcpyAsync(outputStaging_[i].get(), ctx_.tensors[o.tensor], tensorBytes(program_.tensors[o.tensor], batch),
                              cudaMemcpyDeviceToHost, s),
              "copy output " + o.name);
  }
  stream_->synchronize("runImages");
  result.outputs = stagedOutputs(batch);
  return result;
}

float CudaEngine::timeGraph(int64_t batch, bool withCopies, int iterations, float best, float factor) {
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceGuard guard(device_);
  checkBatch(batch);
  const GraphExec& g = graphFor(batch, withCopies);
  return medianMsOrPruned(stream_->get(), best, [&] { g.launch(stream_->get()); }, factor, kForwardWarmup, iterations);
}

float CudaEngine::timeForward(int64_t batch, bool withCopies) { return timeGraph(batch, withCopies, kForwardIterations, 0, 0); }

float CudaEngine::timeForwardOrPruned(int64_t batch, float best, float factor) {
  return timeGraph(batch, false, kForwardIterations, best, factor);
}

double CudaEngine::timeForward(int64_t batch, int iterations, bool withCopies) {
  if (iterations < 1) throw Error(kErrInvalidArgument, "timeForward needs at least one iteration");
  return timeGraph(batch, withCopies, iterations, 0, 0);
}

void CudaEngine::profile(int64_t batch, int iterations) {
  std::lock_guard<std::mutex> lock(mutex_);
  DeviceGuard guard(device_);
  checkBatch(batch);
  if (iterations < 1) throw Error(kErrInvalidArgument, "profile needs at least one iteration");
  cudaStream_t s = stream_->get();
  const size_t n = program_.ops.size();
  for (size_t i = 0; i < n; ++i) enqueueOp(ctx_, i, batch);  // warm-up: lazy loading stays out of captures
  stream_->synchronize("profile warm-up");
  // Each layer alone, captured in its own CUDA graph and replayed `iterations` times between two
  // events: the device time of that layer as the forward graph runs it, without the host's launch
  // cost (which an eager, event-per-layer timing would attribute to the layers).
  Event start, end;
  for (size_t i = 0; i < n; ++i) {
    layerMs_[i] = 0;
    if (isView(program_.ops[i])) continue;
    GraphExec g = captureGraph(s, [&] { enqueueOp(ctx_, i, batch); });
    g.launch(s);
    start.record(s);
    for (int it = 0; it < iterations; ++it) g.launch(s);
    end.record(s);
    stream_->synchronize("profile");
    layerMs_[i] = end.since(start) / iterations;
  }
}

std::vector<LayerInfo> CudaEngine::layers() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<LayerInfo> out;
  for (size_t i = 0; i < program_.ops.size(); ++i) {
    const OpDef& op = program_.ops[i];
    LayerInfo info;
    info.name = op.name;
    info.kind = opKindName(op.attrs);
    info.dtype = ops::dtypeLabel(op.dtype);
    if (op.fusedInto >= 0) {
      info.kernel = "fused into " + program_.ops[op.fusedInto].name;
    } else if (convs_[i]) {
      info.kernel = convs_[i]->kernelName();
    } else {
      info.kernel = std::visit(KernelName{program_, op}, op.attrs);
      const ChannelViews& v = ctx_.views;
      if (std::holds_alternative<SliceAttrs>(op.attrs) && v.views[op.outputs[0]].root >= 0) info.kernel = "view (channel range)";
      if (std::holds_alternative<ConcatAttrs>(op.attrs) && i < v.concatInPlace.size()) {
        size_t placed = 0;
        for (uint8_t b : v.concatInPlace[i]) placed += b;
        if (placed > 0) info.kernel = "netdef:copy_strided x" + std::to_string(op.inputs.size() - placed) + " (" + std::to_string(placed) + " in place)";
      }
    }
    if (const int32_t c = streamPlan_.chainOf[i]; c >= 0) info.kernel += " [side stream " + std::to_string(streamPlan_.chains[c].stream) + "]";
    info.timeMs = layerMs_[i];
    out.push_back(std::move(info));
  }
  return out;
}

std::vector<uint8_t> CudaEngine::serialize() const {
  std::lock_guard<std::mutex> lock(mutex_);
  EngineRecord r;
  r.smMajor = static_cast<uint32_t>(smMajor_);
  r.smMinor = static_cast<uint32_t>(smMinor_);
  r.deviceName = deviceName_;
  r.config = config_;
  r.program = program_;
  r.tactics = tactics();
  r.plans = fusedPlanTexts();
  if (!r.plans.empty()) r.planIdentity = timingCacheIdentity(device_);
  return writeEngine(r);
}

}  // namespace netdef::cuda
