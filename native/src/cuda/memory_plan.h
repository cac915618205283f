// An engine's activation memory, planned on the host: each tensor's storage (reshape aliases and
// channel-range views live in another tensor's allocation), each storage tensor's lifetime in op
// steps (0 the inputs, op i at i + 1, the outputs at ops + 1), the side streams' plan
// (stream_plan.h), which widens the lifetimes of what its chains touch, and the buffer plan that
// packs the lifetimes into one arena (buffer_plan.h). The engine allocates what this plans;
// planEngine reports it without a GPU.
//
// Test: native/tests/host/stream_plan.cc (lifetimes widened); test/native/cuda-plan.test.ts
// (yolov8n's side streams and arena through planCudaEngine); every engine test runs on it.
#pragma once

#include <cstdint>
#include <vector>

#include "buffer_plan.h"
#include "channel_views.h"
#include "program.h"
#include "stream_plan.h"

namespace netdef::cuda {

struct MemoryPlan {
  std::vector<int32_t> root;   // per tensor: the tensor whose allocation holds its bytes
  StreamPlan streams;          // chainOf sized to the ops even when there are no side streams
  std::vector<bool> kernels;   // per op: launchesKernel
  std::vector<int64_t> slot;   // per tensor: its request in `buffers` (storage tensors) or -1
  BufferPlan buffers;          // sized for `maxBatch`
};

// Whether independent branches go onto side streams: $NETDEF_CUDA_STREAMS unset or 1 (the default
// since 2026-12-07, evening: yolov8n fp16 batch 1 0.382 -> 0.330 ms on an H100), 0 one stream;
// anything else throws ERR_INVALID_ARGUMENT naming it.
bool sideStreamsWanted();

// `views`: planChannelViews's (or one view-less entry per tensor); `sideStreams` false: every op
// on the main stream.
MemoryPlan planActivationMemory(const Program& p, const ChannelViews& views, int64_t maxBatch, bool sideStreams);

// Whether op runs a kernel: not a view (isView), not a slice that became a channel-range view, not
// a concat whose inputs all lie in place (the engine launches the first kernel after an event wait
// without PDL, and looks past ops that launch none: engine_run.cc).
bool launchesKernel(const Program& p, const ChannelViews& views, size_t op);

// The regions (stream_plan.h) of p's tensors under a memory plan's roots and these views.
std::vector<TensorRegion> tensorRegions(const Program& p, const ChannelViews& views, const std::vector<int32_t>& root);

}  // namespace netdef::cuda
