// Runs one op of a Program on a stream: resolves the batch into shapes, the layout into strides,
// and calls the op's kernel from ops/ (convolutions through their ConvLayer). Ops that only
// re-view memory (a reshape-only shuffle, a fused activation) launch nothing (isView, program.h).
//
// Test: native/tests/engine_test.cu (every op kind runs in a network checked against the CPU).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "channel_views.h"
#include "conv_layer.h"
#include "ops/op_common.cuh"
#include "program.h"

namespace netdef::cuda {

struct ExecContext {
  const Program* program = nullptr;
  std::vector<void*> tensors;                     // device pointer per tensor (nullptr when unused)
  ChannelViews views;                             // channel-range views (empty: every tensor dense)
  std::vector<std::unique_ptr<ConvLayer>>* convs = nullptr;  // per op (null for non-convolutions)
  std::vector<const void*> filters;               // per op: the conv's filter in its layout's order (a DetectDecode's DFL weights)
  std::vector<const void*> biases;                // per op: the conv's bias or nullptr
  std::vector<const void*> weightScales;          // per op: an int8 conv's per-channel scales or nullptr
  cudnn::Handle cudnn = nullptr;
  cudaStream_t stream = nullptr;
  void* workspace = nullptr;
  size_t workspaceBytes = 0;
  int* splitCounters = nullptr;  // ConvBuffers::splitCounters
  int64_t splitCounterCount = 0;
};

// What a side stream (stream_plan.h) runs an op with in place of ctx's: the stream, and scratch of
// its own for convolutions (cuDNN's workspace, split-K partial sums and counters), since a side
// stream's convolution may run while the main stream's does.
struct StreamResources {
  cudaStream_t stream = nullptr;
  void* workspace = nullptr;
  size_t workspaceBytes = 0;
  int* splitCounters = nullptr;
  int64_t splitCounterCount = 0;
};

// On ctx.stream with ctx's scratch, or with `side`'s when given.
void enqueueOp(const ExecContext& ctx, size_t opIndex, int64_t batch, const StreamResources* side = nullptr);

// Element strides of `t` at `batch` as it lies in memory (its layout), indexed like its logical dims.
ops::Dims physicalStrides(const TensorDef& t, int64_t batch);
// The same for tensor `t` of ctx, which may be a channel-range view of a wider tensor.
ops::Dims tensorStrides(const ExecContext& ctx, int32_t t, int64_t batch);
// The channel count of the storage tensor `t` lies in (its own when it is no view).
int64_t storageChannels(const ExecContext& ctx, int32_t t);

// The ConvBuffers of convolution `opIndex` for `batch`.
ConvBuffers convBuffers(const ExecContext& ctx, size_t opIndex);

}  // namespace netdef::cuda
