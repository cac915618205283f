// An engine's activation memory: see memory_plan.h.
#include "memory_plan.h"

#include <algorithm>

#include "../common/env_switch.h"

namespace netdef::cuda {

bool sideStreamsWanted() { return envSwitch("NETDEF_CUDA_STREAMS", true, "independent branches on side streams", "one stream"); }

std::vector<TensorRegion> tensorRegions(const Program& p, const ChannelViews& views, const std::vector<int32_t>& root) {
  std::vector<TensorRegion> regions(p.tensors.size());
  for (size_t t = 0; t < regions.size(); ++t) {
    const TensorDef& def = p.tensors[t];
    if (def.constant >= 0) continue;
    const ChannelView& v = views.views[t];
    // A channel-range view of a storage tensor covers its channels of it; anything else (a
    // reshape alias included) all of its storage.
    if (v.root >= 0 && v.root == root[t]) {
      regions[t] = TensorRegion{root[t], v.offset, v.offset + def.dims[1]};
    } else {
      regions[t] = TensorRegion{root[t], 0, kAllChannels};
    }
  }
  return regions;
}

bool launchesKernel(const Program& p, const ChannelViews& views, size_t op) {
  const OpDef& o = p.ops[op];
  if (isView(o)) return false;
  // A slice that became a channel-range view, and a concat whose every input is already in place,
  // touch no memory either (op_launch.cc returns without a launch).
  if (std::holds_alternative<SliceAttrs>(o.attrs)) return views.views[o.outputs[0]].root < 0;
  if (std::holds_alternative<ConcatAttrs>(o.attrs) && op < views.concatInPlace.size() && views.concatInPlace[op].size() == o.inputs.size()) {
    const std::vector<uint8_t>& inPlace = views.concatInPlace[op];
    return !std::all_of(inPlace.begin(), inPlace.end(), [](uint8_t b) { return b != 0; });
  }
  return true;
}

MemoryPlan planActivationMemory(const Program& p, const ChannelViews& views, int64_t maxBatch, bool sideStreams) {
  const size_t n = p.tensors.size();
  MemoryPlan m;
  std::vector<int32_t>& root = m.root;
  root.resize(n);
  for (size_t t = 0; t < n; ++t) root[t] = static_cast<int32_t>(t);
  // Through reshape aliases (root) and channel-range views to the allocation; called on tensors
  // whose producers the walk below has seen.
  auto storageOf = [&](int32_t t) {
    while (root[t] != t || views.views[t].root >= 0) t = root[t] != t ? root[t] : views.views[t].root;
    return t;
  };
  // Channel-range views (split halves, concat parts) live in their storage tensor's allocation,
  // which then stays alive from the first write of any part to the last read of any part.
  std::vector<int32_t> first(n, -1), last(n, -1);
  auto written = [&](int32_t t, int32_t step) { first[t] = first[t] < 0 ? step : std::min(first[t], step); };
  for (int32_t t : p.inputs) first[t] = 0;
  for (size_t i = 0; i < p.ops.size(); ++i) {
    const OpDef& op = p.ops[i];
    if (op.fusedInto >= 0) continue;
    const auto step = static_cast<int32_t>(i + 1);
    for (int32_t t : op.inputs) last[storageOf(t)] = std::max(last[storageOf(t)], step);
    if (isView(op)) {
      root[op.outputs[0]] = storageOf(op.inputs[0]);
      continue;
    }
    for (int32_t t : op.outputs) written(storageOf(t), step);
  }
  for (size_t t = 0; t < n; ++t) root[t] = storageOf(static_cast<int32_t>(t));
  const auto end = static_cast<int32_t>(p.ops.size() + 1);
  for (const OutputDef& o : p.outputs) last[root[o.tensor]] = end;
  for (int32_t t : p.inputs) first[root[t]] = 0;

  m.kernels.resize(p.ops.size());
  for (size_t i = 0; i < p.ops.size(); ++i) m.kernels[i] = launchesKernel(p, views, i);
  m.streams.chainOf.assign(p.ops.size(), -1);
  if (sideStreams) {
    const std::vector<TensorRegion> regions = tensorRegions(p, views, root);
    // Ops that touch memory (views aside): an in-place concat stays a possible fork or join, so a
    // branch that ends in one joins there, not at the concat's reader (its tensors live shorter).
    std::vector<bool> launches(p.ops.size());
    for (size_t i = 0; i < launches.size(); ++i) launches[i] = !isView(p.ops[i]);
    m.streams = planStreams(p, regions, launches);
    extendLifetimes(m.streams, p, regions, first, last);
  }

  std::vector<BufferRequest> requests;
  m.slot.assign(n, -1);
  for (size_t t = 0; t < n; ++t) {
    const TensorDef& def = p.tensors[t];
    if (root[t] != static_cast<int32_t>(t) || def.constant >= 0 || first[t] < 0) continue;
    m.slot[t] = static_cast<int64_t>(requests.size());
    requests.push_back(BufferRequest{tensorBytes(def, maxBatch), first[t], std::max(first[t], last[t]), def.name});
  }
  m.buffers = planBuffers(requests);
  return m;
}

}  // namespace netdef::cuda
