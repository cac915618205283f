// Side streams for independent branches: see stream_plan.h.
#include "stream_plan.h"

#include <algorithm>

namespace netdef::cuda {
namespace {

bool overlap(const TensorRegion& a, const TensorRegion& b) {
  return a.root >= 0 && a.root == b.root && a.first < b.end && b.first < a.end;
}

// Whether ops i and j conflict: one writes what the other reads or writes.
bool conflict(const Program& p, const std::vector<TensorRegion>& regions, size_t i, size_t j) {
  const OpDef& a = p.ops[i];
  const OpDef& b = p.ops[j];
  auto writesInto = [&](const OpDef& w, const OpDef& o) {
    for (int32_t out : w.outputs) {
      for (int32_t t : o.inputs)
        if (overlap(regions[out], regions[t])) return true;
      for (int32_t t : o.outputs)
        if (overlap(regions[out], regions[t])) return true;
    }
    return false;
  };
  return writesInto(a, b) || writesInto(b, a);
}

}  // namespace

StreamPlan planStreams(const Program& p, const std::vector<TensorRegion>& regions, const std::vector<bool>& launches) {
  StreamPlan plan;
  plan.chainOf.assign(p.ops.size(), -1);
  std::vector<int32_t> launching;
  for (size_t i = 0; i < p.ops.size(); ++i)
    if (launches[i]) launching.push_back(static_cast<int32_t>(i));
  // Earlier launching ops each launching op conflicts with.
  std::vector<std::vector<int32_t>> earlier(p.ops.size());
  for (size_t k = 0; k < launching.size(); ++k)
    for (size_t m = 0; m < k; ++m)
      if (conflict(p, regions, launching[k], launching[m])) earlier[launching[k]].push_back(launching[m]);
  auto inSideChain = [&](int32_t op) { return plan.chainOf[op] >= 0; };

  for (size_t k = 0; k < launching.size(); ++k) {
    const int32_t a = launching[k];
    if (inSideChain(a)) continue;
    const std::vector<int32_t>& before = earlier[a];
    if (std::any_of(before.begin(), before.end(), inSideChain)) continue;
    const int32_t fork = before.empty() ? -1 : *std::max_element(before.begin(), before.end());
    // The main stream's last op before a: when that is the fork, a follows it there anyway.
    int32_t previous = -1;
    for (size_t m = k; m-- > 0;) {
      if (!inSideChain(launching[m])) {
        previous = launching[m];
        break;
      }
    }
    if (fork >= previous) continue;  // nothing independent between the fork and a on the main stream: no overlap to win
    const auto id = static_cast<int32_t>(plan.chains.size());
    SideChain chain;
    chain.fork = fork;
    chain.stream = id % kMaxSideStreams;
    auto add = [&](int32_t op) {
      chain.ops.push_back(op);
      plan.chainOf[op] = id;
    };
    auto inChain = [&](int32_t op) { return plan.chainOf[op] == id; };
    add(a);
    for (size_t m = k + 1; m < launching.size(); ++m) {
      const int32_t next = launching[m];
      const std::vector<int32_t>& c = earlier[next];
      const bool dependsOnChain = std::any_of(c.begin(), c.end(), inChain);
      // Everything else it conflicts with ran before the fork, on the main stream.
      const bool onlyChainOrFork = std::all_of(c.begin(), c.end(), [&](int32_t op) { return inChain(op) || (op <= fork && !inSideChain(op)); });
      if (!dependsOnChain || !onlyChainOrFork) break;
      add(next);
    }
    for (size_t m = k + 1; m < launching.size() && chain.join < 0; ++m) {
      const int32_t later = launching[m];
      const std::vector<int32_t>& c = earlier[later];
      if (!inChain(later) && std::any_of(c.begin(), c.end(), inChain)) chain.join = later;
    }
    plan.chains.push_back(std::move(chain));
  }
  plan.streams = std::min<int32_t>(static_cast<int32_t>(plan.chains.size()), kMaxSideStreams);
  return plan;
}

void extendLifetimes(const StreamPlan& plan, const Program& p, const std::vector<TensorRegion>& regions, std::vector<int32_t>& first,
                     std::vector<int32_t>& last) {
  const auto end = static_cast<int32_t>(p.ops.size() + 1);
  for (const SideChain& c : plan.chains) {
    const int32_t from = c.fork + 1;  // the fork's step (0: the inputs' when there is no fork)
    const int32_t to = c.join >= 0 ? c.join + 1 : end;
    for (int32_t op : c.ops) {
      auto widen = [&](int32_t t) {
        const int32_t r = regions[t].root;
        if (r < 0 || first[r] < 0) return;  // a constant, or nothing the plan allocates
        first[r] = std::min(first[r], from);
        last[r] = std::max(last[r], to);
      };
      for (int32_t t : p.ops[op].inputs) widen(t);
      for (int32_t t : p.ops[op].outputs) widen(t);
    }
  }
}

}  // namespace netdef::cuda
