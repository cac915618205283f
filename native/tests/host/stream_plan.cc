// Host-only test of planStreams and extendLifetimes (stream_plan.h) on hand-made programs, each
// op only its tensors (what the planner reads), every tensor its own root unless a case says:
//  - a branch off an early tensor (YOLOv8's Detect head on a neck level) goes onto a side stream
//    after the op that wrote its input and joins before the first op that reads its output;
//  - channel ranges of one root: disjoint ranges do not conflict, overlapping ones do;
//  - a later op overwriting what a chain reads joins it there;
//  - an op depending on a side chain whose chain was already closed stays on the main stream;
//  - a straight chain hoists nothing;
//  - the lifetimes of what a chain touches cover its fork to its join.
// Built and run by scripts/native-host-tests.sh (g++, CUDA headers only).
#include <string>
#include <vector>

#include "cuda/stream_plan.h"
#include "host_check.h"

namespace {

using namespace netdef::cuda;
using host_check::check;

struct Hand {
  Program p;
  std::vector<TensorRegion> regions;

  // A tensor that is its own root, all channels.
  int32_t tensor() {
    const auto t = static_cast<int32_t>(p.tensors.size());
    TensorDef def;
    def.name = "t" + std::to_string(t);
    p.tensors.push_back(std::move(def));
    regions.push_back(TensorRegion{t, 0, kAllChannels});
    return t;
  }
  // A tensor lying in channels [first, end) of `root`.
  int32_t range(int32_t root, int64_t first, int64_t end) {
    const int32_t t = tensor();
    regions[t] = TensorRegion{root, first, end};
    return t;
  }
  int32_t op(const std::string& name, std::vector<int32_t> in, std::vector<int32_t> out) {
    OpDef o;
    o.name = name;
    o.inputs = std::move(in);
    o.outputs = std::move(out);
    p.ops.push_back(std::move(o));
    return static_cast<int32_t>(p.ops.size() - 1);
  }
  StreamPlan plan() const { return planStreams(p, regions, std::vector<bool>(p.ops.size(), true)); }
};

std::string describe(const StreamPlan& s) {
  std::string out;
  for (const SideChain& c : s.chains) {
    out += "[fork " + std::to_string(c.fork) + " ops";
    for (int32_t op : c.ops) out += " " + std::to_string(op);
    out += " join " + std::to_string(c.join) + " stream " + std::to_string(c.stream) + "] ";
  }
  return out.empty() ? "no chains" : out;
}

bool onlyChain(const StreamPlan& s, int32_t fork, const std::vector<int32_t>& ops, int32_t join) {
  return s.chains.size() == 1 && s.chains[0].fork == fork && s.chains[0].ops == ops && s.chains[0].join == join && s.streams == 1;
}

// What every case below starts from: a neck a -> b -> c (ops 0-2) and a branch h on a's output
// (op 3): x -a-> t1 -b-> t2 -c-> t3, t1 -h-> t4.
struct Neck {
  Hand h;
  int32_t x = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0;
  Neck() {
    x = h.tensor(), t1 = h.tensor(), t2 = h.tensor(), t3 = h.tensor(), t4 = h.tensor();
    h.p.inputs = {x};
    h.op("a", {x}, {t1});
    h.op("b", {t1}, {t2});
    h.op("c", {t2}, {t3});
    h.op("h", {t1}, {t4});
  }
};

void testDetectBranch() {
  // neck: a -> b -> c -> d; head branch h -> h2 on a's output; j reads d's and h2's outputs.
  Neck n;
  Hand& h = n.h;
  const int32_t x = n.x, t1 = n.t1, t3 = n.t3, t4 = n.t4, t5 = h.tensor(), t6 = h.tensor(), t7 = h.tensor();
  h.op("h2", {t4}, {t5});
  h.op("d", {t3}, {t6});
  h.op("j", {t5, t6}, {t7});
  const StreamPlan s = h.plan();
  check(onlyChain(s, 0, {3, 4}, 6), "a branch off a's output runs beside b and c, from a to j: " + describe(s));
  check(s.chainOf == std::vector<int32_t>({-1, -1, -1, 0, 0, -1, -1}), "chainOf marks the branch's ops");

  // Lifetimes (steps: op i at i + 1; 8 the outputs): t1 is read by h1, so it lives from a's step to j's.
  std::vector<int32_t> first(h.p.tensors.size(), -1), last(h.p.tensors.size(), -1);
  first[x] = 0, last[x] = 1;
  first[t1] = 1, last[t1] = 4;
  first[t4] = 4, last[t4] = 5;
  first[t5] = 5, last[t5] = 7;
  extendLifetimes(s, h.p, h.regions, first, last);
  check(first[t1] == 1 && last[t1] == 7, "the branch's input lives from its fork to its join: " + std::to_string(first[t1]) + ".." +
                                             std::to_string(last[t1]));
  check(first[t4] == 1 && last[t4] == 7 && first[t5] == 1 && last[t5] == 7, "the branch's own tensors too");
  check(first[x] == 0 && last[x] == 1 && first[t3] == -1, "tensors the branch does not touch keep their lifetimes");
}

void testChannelRanges(bool overlapping) {
  // y writes channels [0, 16) of root r (and aux, which v reads), w writes [16, 32) (or [8, 24));
  // cat reads all of r.
  Hand h;
  const int32_t x = h.tensor(), t1 = h.tensor(), r = h.tensor(), t3 = h.tensor(), out = h.tensor();
  const int32_t lo = h.range(r, 0, 16), hi = overlapping ? h.range(r, 8, 24) : h.range(r, 16, 32);
  h.p.inputs = {x};
  const int32_t aux = h.tensor();
  h.op("x", {x}, {t1});
  h.op("y", {t1}, {lo, aux});
  h.op("v", {aux}, {t3});
  h.op("w", {t1}, {hi});
  h.op("cat", {r, t3}, {out});
  const StreamPlan s = h.plan();
  if (overlapping) {
    check(onlyChain(s, 1, {3}, 4), "overlapping channel ranges conflict: w forks after y: " + describe(s));
  } else {
    check(onlyChain(s, 0, {3}, 4), "disjoint channel ranges of one root do not conflict: w forks after x: " + describe(s));
  }
}

void testOverwriteJoins() {
  // h reads t1; d writes t1 again later: h must be done before d.
  Neck n;
  Hand& h = n.h;
  const int32_t t1 = n.t1, t3 = n.t3, t4 = n.t4, t5 = h.tensor();
  h.op("d", {t3}, {t1});
  h.op("j", {t4, t1}, {t5});
  const StreamPlan s = h.plan();
  check(onlyChain(s, 0, {3}, 4), "an op overwriting what the chain reads joins it: " + describe(s));
}

void testDependentOfClosedChain() {
  // h (side, fork a) is followed by d on the main stream; g reads h's output after d: g stays on
  // the main stream and is h's join.
  Neck n;
  Hand& h = n.h;
  const int32_t t3 = n.t3, t4 = n.t4, t5 = h.tensor(), t6 = h.tensor();
  h.op("d", {t3}, {t5});
  h.op("g", {t4, t5}, {t6});
  const StreamPlan s = h.plan();
  check(onlyChain(s, 0, {3}, 5) && s.chainOf[5] == -1, "an op after a closed chain that reads it stays on the main stream: " + describe(s));
}

void testStraightChain() {
  Hand h;
  int32_t t = h.tensor();
  h.p.inputs = {t};
  for (int i = 0; i < 5; ++i) {
    const int32_t next = h.tensor();
    h.op("s" + std::to_string(i), {t}, {next});
    t = next;
  }
  const StreamPlan s = h.plan();
  check(s.chains.empty() && s.streams == 0, "a straight chain hoists nothing: " + describe(s));
}

void testViewsSkipped() {
  // The branch's first op after its fork is a view (launches nothing): the planner looks past it.
  Hand h;
  const int32_t x = h.tensor(), t1 = h.tensor(), t2 = h.tensor(), t3 = h.tensor(), t4 = h.tensor(), t5 = h.tensor();
  h.p.inputs = {x};
  h.op("a", {x}, {t1});
  h.op("view", {t1}, {t1});
  h.op("b", {t1}, {t2});
  h.op("c", {t2}, {t3});
  h.op("h", {t1}, {t4});
  h.op("j", {t3, t4}, {t5});
  std::vector<bool> launches(h.p.ops.size(), true);
  launches[1] = false;
  const StreamPlan s = planStreams(h.p, h.regions, launches);
  check(onlyChain(s, 0, {4}, 5) && s.chainOf[1] == -1, "ops that launch nothing are neither forks nor chain members: " + describe(s));
}

}  // namespace

int main() {
  testDetectBranch();
  testChannelRanges(false);
  testChannelRanges(true);
  testOverwriteJoins();
  testDependentOfClosedChain();
  testStraightChain();
  testViewsSkipped();
  return host_check::finish();
}
