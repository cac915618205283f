// The engine's own convolution on tensor cores: an implicit GEMM over NHWC activations and
// [K][R][S][C] weights, int8 x int8 -> int32 with `mma.sync` (m16n8k32), or float16 x float16 ->
// float32 (m16n8k16), and a `cp.async` multi-stage shared-memory pipeline, with the epilogue fused
// (igemm_epilogue.cuh):
//
//   v = acc * (inputScale * weightScales[k]) + bias[k]     (float32, one fma)
//   v = act(v)                                             (none, SiLU, sigmoid, ReLU)
//   v = v + residual * residualScale                       (optional; int8 or float16 residual)
//   y = int8:    clamp(round_half_even(v / outputScale), -128, 127)
//       float16: round to nearest
//       float32: v
//       int32:   the raw accumulator, nothing of the above (for exact tests and diagnostics)
//
// The residual is added after the activation, as YOLOv8's Bottleneck adds x to cv2's SiLU output.
// y, x and the residual may be channel ranges of wider tensors (channel_views.h): a pixel stride
// (the storage's channel count) and, for y and the residual, a channel offset, so a concat's input
// is written in place.
//
// Geometry: any batch, H, W; kernel R x S; stride; top/left padding (bottom/right follow from the
// output size); dilation 1, one group. C must be a multiple of one 16-byte cp.async: 16 int8 or 8
// float16 channels (the network's first convolution, C = 3, runs on the direct kernel). K is any
// count (tiles at the edge are masked); outputs whose channels, offsets and strides keep 16-byte
// vectors are stored as vectors, others element by element.
//
// The tile machinery (igemm_tile.cuh) takes the element type as a template parameter: one kernel
// family, instantiated for int8 and float16 (the same loaders and fragments). A float16 input has
// no quantization: inputScale 1 and no weight scales (scale 1) unless given, its bias float32 or
// float16 (a float16 convolution's own), its output float16 or float32. The engine's float16
// NHWC convolutions time it beside cuDNN (igemm_layer.h).
// Twenty-one tile shapes are offered so a caller can time them per layer (kIgemmTiles), each with or
// without split-K (IgemmConvParams::splits).
//
// Host-side: plain C++ (the engine's .cc files include it with a host compiler).
//
// Test: native/tests/ops_igemm_conv.cu (exact int32 accumulators against a CPU loop, with and
// without split-K; every epilogue against a CPU reference; argument checks),
// native/tests/ops_igemm_conv_half.cu (float16; split-K runs bit-identical twice). Timing: native/bench/bench_igemm_conv.cu.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../../ir/graph.h"
#include "../program.h"

namespace netdef::cuda::igemm {

// Block tile M (output pixels) x N (output channels); the reduction step is 128 bytes (64 float16
// or 128 int8 elements; the narrow tiles' 64), see igemm_tile.cuh. The small tiles fill the GPU where a layer has few
// output tiles (batch 1, 20x20 or 40x40 maps, 16 to 64 output channels). (The values are what
// engine files and timing caches store; int8 tiles stepped 64 elements before 2026-12-07, which
// changes their speed, not their results.)
// k128x128w8 and k256x128 run 8 warps a block (the others 4; igemm_tile.cuh), added 2026-12-07;
// the kWgmma tiles run Hopper's wgmma (igemm_wgmma.cuh): only on an sm_90 GPU with a build for
// sm_90a (igemmTileUsable), refused elsewhere; the kWs tiles (added 2026-12-07, late) run them
// warp-specialized (igemm_ws_kernel.cuh: a copying warpgroup, mbarrier-signalled stages); the
// kWsTma ones (later still) copy the weights with the tensor memory accelerator, the kWsIm2col
// ones (2026-12-07, night) the activations too, in its im2col mode (reduction steps tap by tap);
// the k*n ("narrow") ones, 4-warp mma.sync tiles of 32 output channels with 64-byte reduction steps
// and two stages, are for layers of few channels over many pixels (2026-12-07, night);
// kWsIm2col128x256 (2026-12-08) is the im2col tile with N = 256 (m64n256 wgmmas).
enum class IgemmTile : uint8_t {
  k128x128 = 0,
  k128x64 = 1,
  k64x64 = 2,
  k64x32 = 3,
  k32x32 = 4,
  k128x128w8 = 5,
  k256x128 = 6,
  kWgmma128x128 = 7,
  kWgmma128x128s3 = 8,
  kWgmma128x128s6 = 9,
  kWs128x128 = 10,
  kWs256x128 = 11,
  kWs128x160 = 12,
  kWs256x80 = 13,
  kWsTma128x160 = 14,
  kWsTma256x128 = 15,
  kWsIm2col128x160 = 16,
  kWsIm2col256x128 = 17,
  k128x32n = 18,
  k64x32n = 19,
  kWsIm2col128x256 = 20
};
// (Untimed choices take the first that launches: the order keeps 128x128 first.)
inline constexpr IgemmTile kIgemmTiles[] = {IgemmTile::k128x128, IgemmTile::k128x64,    IgemmTile::k64x64,   IgemmTile::k64x32,
                                            IgemmTile::k32x32,   IgemmTile::k128x128w8, IgemmTile::k256x128, IgemmTile::kWgmma128x128,
                                            IgemmTile::kWgmma128x128s3, IgemmTile::kWgmma128x128s6, IgemmTile::kWs128x128,
                                            IgemmTile::kWs256x128, IgemmTile::kWs128x160, IgemmTile::kWs256x80,
                                            IgemmTile::kWsTma128x160, IgemmTile::kWsTma256x128, IgemmTile::kWsIm2col128x160,
                                            IgemmTile::kWsIm2col256x128, IgemmTile::k128x32n, IgemmTile::k64x32n,
                                            IgemmTile::kWsIm2col128x256};
// The wgmma tiles (4, 3 or 6 stages, and the warp-specialized ones; igemm_tile.cuh).
bool isWgmmaTile(IgemmTile tile);
// Whether `tile` runs on the current device: every tile but the wgmma ones runs on sm_80 and
// later; those need compute capability 9.0 and this build's sm_90a code (CMake's 90a architecture),
// and the kWsTma ones the driver's cuTensorMapEncodeTiled too (the kWsIm2col ones its
// cuTensorMapEncodeIm2col as well).
bool igemmTileUsable(IgemmTile tile);
// kIgemmTiles' usable ones, in that order.
std::vector<IgemmTile> igemmUsableTiles();
const char* igemmTileName(IgemmTile t);

struct IgemmConvParams {
  // ---- geometry (per sample: x [N, H, W, C], y [N, P, Q, K], w [K, R, S, C])
  int64_t batch = 1, height = 0, width = 0, inChannels = 0;
  int64_t outChannels = 0, outHeight = 0, outWidth = 0;
  int64_t kernelH = 1, kernelW = 1, strideH = 1, strideW = 1, padTop = 0, padLeft = 0;

  // ---- operands (device memory)
  ir::DType inType = ir::DType::Int8;  // of x and w: Int8 or Float16
  const void* x = nullptr;             // first channel of the range the conv reads
  int64_t xPixelStride = 0;            // elements from one pixel to the next; 0: inChannels
  const void* w = nullptr;             // [K][R][S][C], dense

  // ---- epilogue
  float inputScale = 1.0f;              // x's quantization scale (per tensor)
  const float* weightScales = nullptr;  // K float32 (per output channel), device; required for int8 x unless int32 output; float16 x: null is 1
  const void* bias = nullptr;           // K values of biasType, device; null: no bias
  ir::DType biasType = ir::DType::Float32;  // Float32, or Float16 (with a float16 x)
  FusedActivation activation = FusedActivation::kNone;

  ir::DType outType = ir::DType::Int8;  // Int8, Float16, Float32, or Int32 (the raw accumulator)
  float outputScale = 1.0f;             // y's quantization scale (int8 output)
  void* y = nullptr;                    // storage base; y[m * yPixelStride + yChannelOffset + k]
  int64_t yPixelStride = 0;             // 0: outChannels
  int64_t yChannelOffset = 0;

  const void* residual = nullptr;  // null: none; else added after the activation
  ir::DType residualType = ir::DType::Int8;  // Int8 or Float16
  float residualScale = 1.0f;
  int64_t residualPixelStride = 0;  // 0: outChannels
  int64_t residualChannelOffset = 0;

  IgemmTile tile = IgemmTile::k128x64;
  // Split-K (igemm_split.cuh): the reduction cut into `splits` slices, each computed by a block of
  // its own, so that a layer with few output tiles (batch 1, 20x20 or 40x40 maps) fills the GPU.
  // Each block writes its slice's accumulators to `splitWorkspace`; the last of a tile's blocks to
  // finish sums them in slice order (the result does not depend on which block came last) and runs
  // the epilogue. splits > 1 needs igemmSplitWorkspaceBytes() of workspace (16-byte aligned) and
  // igemmOutputTiles() counters that are zero (each launch leaves them zero). Fewer slices run
  // where `splits` would leave one empty (igemmEffectiveSplits).
  int splits = 1;
  void* splitWorkspace = nullptr;
  size_t splitWorkspaceBytes = 0;
  int* splitCounters = nullptr;
  int64_t splitCounterCount = 0;
  // Launched with programmatic dependent launch (ops/pdl.cuh): may start while the kernel before it
  // runs (the kernel waits for it before touching memory). Callers pass ops::programmaticLaunchUsable().
  bool programmatic = false;
};

// The most slices split-K cuts a reduction into.
inline constexpr int kMaxIgemmSplits = 16;

// Output tiles of p.tile over p's output (blocks of one slice), reduction steps of p.tile's K, the
// slices split-K runs (p.splits, fewer where a slice would be empty), and the workspace bytes those
// slices' accumulators take (0 for one slice). Plain arithmetic on p's sizes; no checks.
int64_t igemmOutputTiles(const IgemmConvParams& p);
int64_t igemmReductionSteps(const IgemmConvParams& p);
int igemmEffectiveSplits(const IgemmConvParams& p);
size_t igemmSplitWorkspaceBytes(const IgemmConvParams& p);

// Why the kernel cannot run these parameters, or "" when it can. Never throws; cheap (no CUDA call).
std::string checkIgemmConv(const IgemmConvParams& p);
// The same checks without the operands (pointers and their alignment): whether a layer's geometry,
// types and scales can run at all, before any buffer exists (the engine's build asks this).
std::string checkIgemmConvShape(const IgemmConvParams& p);

// Checks (ERR_INVALID_ARGUMENT with checkIgemmConv's reason) and enqueues the convolution on
// `stream`; a launch failure is ERR_BACKEND. Safe inside stream capture.
void launchIgemmConv(const IgemmConvParams& p, cudaStream_t stream);

// Multiply-accumulates of one convolution (2x this is its operation count).
inline double igemmMacs(const IgemmConvParams& p) {
  return static_cast<double>(p.batch) * p.outHeight * p.outWidth * p.outChannels * p.kernelH * p.kernelW * p.inChannels;
}

}  // namespace netdef::cuda::igemm
