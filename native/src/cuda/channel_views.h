// Channel-range views: tensors that live inside a wider 4-D tensor's storage instead of their own
// allocation, so that split/slice along channels and concat along channels copy nothing.
//  - A concat (axis 1) gets one allocation; an input produced by a convolution or a pooling (both
//    write strided outputs) becomes a view of its channel range (the producer writes in place). An input
//    that is a channel slice of a conv output lets that conv output become the view instead (C2f:
//    cv1's output is the first 2c channels of the concat buffer, its halves are in place).
//  - A channel slice (stride 1, full H and W) becomes a view of its input's storage.
// A tensor becomes a view only when every op that reads it accepts a strided input (convolution,
// as its input or residual, pooling, concat, slice, reformat) and its alignment keeps 16-byte vectors; anything else keeps its copy.
// Pure and deterministic: a loaded engine recomputes the same views from its Program.
//
// Test: native/tests/engine_test_chain.cu (testViewChain: C2f and SPPF-like chains, both layouts,
// batch 1 and 3, against the CPU reference; the views are checked to be taken).
#pragma once

#include <cstdint>
#include <vector>

#include "program.h"

namespace netdef::cuda {

// Channels [offset, offset + C) of `root` (rootChannels wide, same batch, H, W, layout, dtype).
struct ChannelView {
  int32_t root = -1;  // -1: the tensor has its own storage
  int64_t offset = 0;
  int64_t rootChannels = 0;
};

struct ChannelViews {
  std::vector<ChannelView> views;                 // per tensor
  std::vector<std::vector<uint8_t>> concatInPlace;  // per op, per input: the data is already in place
  int32_t viewCount = 0, inPlaceCount = 0;        // for reports and tests
};

// `poolingViews` false: poolings neither write nor read views (how engines of format 3-4 were planned).
ChannelViews planChannelViews(const Program& p, bool poolingViews = true);

}  // namespace netdef::cuda
