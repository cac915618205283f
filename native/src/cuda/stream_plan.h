// Side streams for independent branches: which ops of a Program may run beside the main stream,
// so that a batch-1 forward, a chain of small kernels, overlaps branches the GPU has room for
// (YOLOv8's Detect head: three levels x two branches of three convolutions each, which can start
// as soon as their level's features exist, while the neck still computes the next level).
//
// An op's regions are what it reads and writes: (storage root, channel range), a channel-range
// view (channel_views.h) covering its channels, any other tensor its whole root. Two ops conflict
// when one writes a region the other reads or writes. A side chain is a run of consecutive
// launching ops (fused and reshape-view ops aside) in program order where each op after the first
// conflicts with the op before it (and with nothing later than the chain's fork outside the chain),
// whose first op conflicts with nothing between its fork and itself: fork = the last earlier op it
// conflicts with, and at least one op of the main stream lies between the fork and the chain. The chain runs on a side
// stream after the fork; the main stream waits for it before its join, the first later op that
// conflicts with it (or the forward's end). A chain that conflicts with another side chain is not
// hoisted (it stays on the main stream, whose order then covers it).
//
// Memory: a side chain may run anywhere between its fork and its join, so every root it reads or
// writes must stay allocated over that whole span; extendLifetimes widens the buffer plan's
// lifetimes accordingly, and the plan then keeps everything that can run at the same time apart.
//
// Test: native/tests/host/stream_plan.cc (hand-made programs: fork/join, chains sharing a fork,
// channel ranges, a chain conflicting with another, nothing to hoist).
#pragma once

#include <cstdint>
#include <vector>

#include "program.h"

namespace netdef::cuda {

// Where a tensor's bytes lie: its storage root and, for a channel-range view, the channels
// [first, end) of that root it covers (kAllChannels for the whole root).
struct TensorRegion {
  int32_t root = -1;
  int64_t first = 0, end = 0;
};
inline constexpr int64_t kAllChannels = INT64_MAX;

struct SideChain {
  int32_t fork = -1;              // op after which it may start (-1: at the forward's start)
  int32_t join = -1;              // op before which the main stream waits for it (-1: the forward's end)
  std::vector<int32_t> ops;       // in program order
  int32_t stream = 0;             // side stream index
};

struct StreamPlan {
  std::vector<SideChain> chains;
  std::vector<int32_t> chainOf;  // per op: its chain, or -1 (the main stream)
  int32_t streams = 0;           // side streams used
};

// The side streams an engine may use (chains beyond it share them round-robin).
inline constexpr int32_t kMaxSideStreams = 8;

// `regions[t]`: tensor t's region. `launches[i]`: whether op i runs anything (not fused, not a
// reshape view).
StreamPlan planStreams(const Program& p, const std::vector<TensorRegion>& regions, const std::vector<bool>& launches);

// Widens the buffer plan's lifetimes (steps: 0 the inputs, op i at i + 1, the outputs at
// ops + 1) so that every root a side chain reads or writes is alive from its fork to its join.
void extendLifetimes(const StreamPlan& plan, const Program& p, const std::vector<TensorRegion>& regions, std::vector<int32_t>& first,
                     std::vector<int32_t>& last);

}  // namespace netdef::cuda
