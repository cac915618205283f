// What an implicit-GEMM kernel receives (by value): the convolution as GEMM sizes plus the
// geometry the im2col loader and the epilogue need, resolved from IgemmConvParams by the launcher
// (igemm_conv.cu) after its checks (strides defaulted, counts as 32-bit where they fit).
//
// Test: through native/tests/ops_igemm_conv.cu.
#pragma once

#include <cstdint>

#include "../program.h"

namespace netdef::cuda::igemm {

// How the epilogue stores (runtime, uniform per launch: one branch per vector).
enum class ResidualKind : uint8_t { kNone = 0, kInt8 = 1, kFloat16 = 2 };

struct ConvArgs {
  // GEMM view: M = N * P * Q rows (output pixels), N = K columns (output channels), reduction
  // R * S * C.
  int gemmM = 0, gemmN = 0, gemmK = 0;
  // Convolution geometry.
  int height = 0, width = 0, channels = 0;
  int outHeight = 0, outWidth = 0;
  int kernelW = 1, kernelH = 1, strideH = 1, strideW = 1, padTop = 0, padLeft = 0;

  const void* x = nullptr;
  int64_t xPixelStride = 0;  // elements
  const void* w = nullptr;

  float inputScale = 1.0f;
  const float* weightScales = nullptr;
  const void* bias = nullptr;
  bool biasHalf = false;  // bias holds float16 values (else float32)
  FusedActivation activation = FusedActivation::kNone;
  float outputScale = 1.0f;
  void* y = nullptr;
  int64_t yPixelStride = 0, yChannelOffset = 0;

  ResidualKind residualKind = ResidualKind::kNone;
  const void* residual = nullptr;
  float residualScale = 1.0f;
  int64_t residualPixelStride = 0, residualChannelOffset = 0;

  // The epilogue may store 16-byte vectors (channel count, offsets, strides and pointers aligned).
  bool vectorStore = false;

  // Split-K (igemm_split.cuh): the reduction cut into `splits` slices of `splitSteps` kBlockK steps
  // (the last maybe shorter, none empty); block b computes slice b % splits of output tile
  // b / splits. splits 1: no workspace, no counters.
  int splits = 1, splitSteps = 0;
  void* splitPartials = nullptr;  // [tile][slice][kBlockM][kBlockN] accumulators
  int* splitCounters = nullptr;   // one per output tile, zero between launches
};

}  // namespace netdef::cuda::igemm
