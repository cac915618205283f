// What one convolution layer computes (shapes, layout, dtype, fused epilogue) and the device
// buffers it reads and writes: shared by the legacy cuDNN path (conv_layer) and the fused cuDNN
// graph path (fused_conv_graph).
//
// Test: native/tests/engine_test.cu.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "program.h"

namespace netdef::cuda {

struct ConvGeometry {
  ir::DType dtype = ir::DType::Float32;  // the convolution's: its input's, weights' and (float) output's
  Layout layout = Layout::kRowMajor;     // its input's, and its output's unless outLayout says otherwise
  // A direct convolution (direct_conv_rule.h) may read another dtype (a folded Cast: float32
  // input, float16 weights and output; a folded Quantize: a float input into an int8 convolution)
  // and write another layout (NCHW in, NHWC out) than `dtype` and `layout`; every other
  // convolution has inDtype == dtype and outLayout == layout.
  ir::DType inDtype = ir::DType::Float32;
  Layout outLayout = Layout::kRowMajor;
  int64_t inChannels = 0, height = 0, width = 0;  // per sample
  int64_t outChannels = 0, outHeight = 0, outWidth = 0;
  ConvolutionParams params{};
  FusedActivation activation = FusedActivation::kNone;
  bool hasBias = false;
  // Channel count of the storage x and y lie in (channel-range views, channel_views.h): the
  // batch/pixel strides use these; equal to in/outChannels for dense tensors.
  int64_t inStorageChannels = 0, outStorageChannels = 0;
  // The output's dtype: a float convolution's own; an int8 convolution's (dtype Int8, igemm_layer.h
  // or the direct kernel) int8 when a Quantize was folded in, else float16 or float32, with the
  // epilogue's scales (ConvAttrs).
  ir::DType outDtype = ir::DType::Float32;
  float inputScale = 0, outputScale = 0;
  // A float32 convolution that may use TF32 tensor cores (EngineConfig::tf32); FMA math otherwise.
  bool tf32 = false;
  // y = act(conv + bias) + residual, the residual of y's shape (fuse_pass.h: a residual add folded
  // in), lying in a storage residualStorageChannels wide (0: dense).
  bool hasResidual = false;
  int64_t residualStorageChannels = 0;
  // The residual's dtype: the output's for a float convolution; int8 for an int8 one, read as
  // residual * residualScale (ConvAttrs::residualScale).
  ir::DType residualDtype = ir::DType::Float32;
  float residualScale = 0;
  int64_t xChannels() const { return inStorageChannels > 0 ? inStorageChannels : inChannels; }
  int64_t yChannels() const { return outStorageChannels > 0 ? outStorageChannels : outChannels; }
  int64_t residualChannels() const { return residualStorageChannels > 0 ? residualStorageChannels : outChannels; }
};

// Element strides (batch, channel, row, column) of an h x w tensor in `layout` lying in a storage
// `storageChannels` wide (a channel-range view is narrower than its storage).
void storageStrides(Layout layout, int64_t storageChannels, int64_t h, int64_t w, int64_t out[4]);

// The fused epilogue's steps in order, e.g. "bias+silu+residual" ("" when there are none).
std::string epilogueSteps(const ConvGeometry& g);

// Everything a tactic's speed and validity depend on, as text without spaces or tabs (the timing
// cache's keys, the fused plans' registry): dtypes, layout, shapes, storage channels, convolution
// parameters, epilogue and int8 scales' presence. The batch is not in it: callers append theirs.
std::string geometryKey(const ConvGeometry& g);

// Device pointers a conv reads and writes.
struct ConvBuffers {
  const void* x = nullptr;
  const void* w = nullptr;  // KCRS (row-major or direct) or KRSC (NHWC), in the conv's dtype (int8 on igemm: KRSC, C padded)
  const void* bias = nullptr;
  const void* weightScales = nullptr;  // int8: K float32 per-output-channel scales
  const void* residual = nullptr;      // added to the output after the activation (ConvGeometry::hasResidual)
  void* y = nullptr;
  void* workspace = nullptr;
  size_t workspaceBytes = 0;
  // Zeroed counters split-K convolutions count their slices on (igemm_conv.h); each launch leaves them zero.
  int* splitCounters = nullptr;
  int64_t splitCounterCount = 0;
};

}  // namespace netdef::cuda
