// The warp-specialized implicit-GEMM kernel (Hopper, sm_90a): the tile configs of
// WsWgmmaTileConfig (igemm_tile.cuh). Warpgroup 0 copies, warpgroups 1 and 2 multiply:
//
//   copying warpgroup, per reduction step:   wait until the step's stage is empty (its previous
//       use's MMAs done), issue its cp.async copies (TileLoader, the same im2col as
//       igemm_kernel.cuh), and arrive on the stage's full barrier when they land; with kTmaB the
//       weights' box is one copy of the tensor memory accelerator instead (thread 0 arrives
//       expecting its bytes; out-of-range rows and columns read as zeros, as cp.async's zero fill),
//       whose 128-byte swizzle is the stages' layout; with kIm2col the activations' box too, in the
//       accelerator's im2col mode (one thread issues both boxes; the reduction steps tap by tap,
//       igemmSteps), so the rest of the copying warpgroup idles until the epilogue;
//   each MMA warpgroup, per reduction step:  wait on the stage's full barrier, issue the step's
//       wgmma.mma_async (its BlockM / 2 rows of A against all BlockN rows of B, as they lie in shared
//       memory), keep them in flight while the previous step's are waited for, then mark the
//       previous step's stage empty (one arrival per warp).
//
// So the copies of up to kStages steps run ahead of the MMAs, and no MMA warp waits on a block-wide
// barrier within the main loop (igemm_kernel.cuh's wgmma tiles wait on one every step). After the
// loop the block stages the accumulators in shared memory and runs the same split-K reduction and
// fused epilogue as igemm_kernel.cuh, with all its threads. Barriers: igemm_mbarrier.cuh.
//
// Only where compiled for sm_90a (NETDEF_WGMMA_DEVICE); elsewhere the kernel traps, and the host
// never launches it (igemm_conv.cu's igemmTileUsable).
//
// Test: native/tests/ops_igemm_conv.cu and ops_igemm_conv_half.cu (every tile, exact int32
// accumulators, epilogues, split-K).
#pragma once

#include <cuda.h>  // CUtensorMap (a type only: nothing of the driver API is called here)

#include "../ops/pdl.cuh"
#include "igemm_epilogue.cuh"
#include "igemm_loader.cuh"
#include "igemm_mbarrier.cuh"
#include "igemm_split.cuh"
#include "igemm_wgmma.cuh"

namespace netdef::cuda::igemm {

// The copying warp of an im2col config (Cfg::kIm2col; the whole warp waits, so it stays converged,
// and its first lane issues): per reduction step, waits until the step's stage is empty, then
// arrives on its full barrier expecting both boxes' bytes and has the accelerator copy them: A, the tile's BlockM output pixels (from the tile's first, row after row
// and image after image: the map's traversal) at filter tap (r, s), channels c0 .. c0 + kBlockK - 1
// (past C: zeros); B, the weights' columns tap * C + c0 onwards of the tile's output channels.
template <typename Cfg, typename StageA, typename StageB>
__device__ __forceinline__ void copyWithAccelerator(const ConvArgs& a, const BlockWork& work, uint64_t* full, uint64_t* empty,
                                                    StageA stageA, StageB stageB, const CUtensorMap* weightMap,
                                                    const CUtensorMap* inputMap) {
  const int chunks = (a.channels + Cfg::kBlockK - 1) / Cfg::kBlockK;  // steps per filter tap
  const int pixels = a.outHeight * a.outWidth;
  const int n0 = work.tileM / pixels, p0 = work.tileM % pixels;
  const int h0 = p0 / a.outWidth * a.strideH - a.padTop, w0 = p0 % a.outWidth * a.strideW - a.padLeft;
  for (int step = 0; step < work.steps; ++step) {
    const int stage = step % Cfg::kStages, use = step / Cfg::kStages;
    if (use > 0) mbarrierWait(empty + stage, (use - 1) & 1);  // the previous use's MMAs are done
    if (threadIdx.x != 0) continue;
    const int k = work.firstStep + step, tap = k / chunks, c0 = k % chunks * Cfg::kBlockK;
    mbarrierArriveExpectBytes(full + stage, Cfg::kStageBytesA + Cfg::kStageBytesB);
    tmaLoadIm2col4d(stageA(stage), inputMap, c0, w0, h0, n0, static_cast<uint16_t>(tap % a.kernelW), static_cast<uint16_t>(tap / a.kernelW),
                    full + stage);
    tmaLoad2d(stageB(stage), weightMap, (tap * a.channels + c0) * static_cast<int>(sizeof(typename Cfg::Element)), work.tileN, full + stage);
  }
}

// weightMap: the weights [K][R * S * C] as a 2-D tensor map of bytes (igemm_conv.cu), read where
// Cfg::kTmaB; inputMap: x as an im2col tensor map, read where Cfg::kIm2col; unused otherwise.
template <typename Cfg, typename OutT>
__global__ void __launch_bounds__(Cfg::kThreads, 1)
    igemmWsConvKernel(const ConvArgs a, const __grid_constant__ CUtensorMap weightMap, const __grid_constant__ CUtensorMap inputMap) {
#if NETDEF_WGMMA_DEVICE
  using Acc = typename Cfg::Acc;
  static_assert(Cfg::kWarpSpecialized, "a warp-specialized tile config");
  constexpr int kAccumulators = kWgmmaAccumulators<Cfg::kBlockN>;  // one m64nN wgmma covers the block's N
  extern __shared__ __align__(kChunkBytes) uint8_t sharedRaw[];
  uint8_t* const shared = sharedRaw + (Cfg::kSharedAlignment - sharedAddress(sharedRaw) % Cfg::kSharedAlignment) % Cfg::kSharedAlignment;
  uint64_t* const full = reinterpret_cast<uint64_t*>(shared + Cfg::kBarrierOffset);
  uint64_t* const empty = full + Cfg::kStages;
  ops::pdlLaunchDependents();
  if (threadIdx.x == 0) {
#pragma unroll
    for (int s = 0; s < Cfg::kStages; ++s) {
      // The copying threads' arrivals (+ the accelerator's expecting one), or that one alone.
      mbarrierInit(full + s, Cfg::kIm2col ? 1 : Cfg::kProducerThreads + (Cfg::kTmaB ? 1 : 0));
      mbarrierInit(empty + s, Cfg::kConsumerWarps);
    }
    mbarrierInitFence();
  }
  ops::pdlWaitPrevious();
  __syncthreads();  // the barriers initialized for every thread

  const BlockWork work = blockWork<Cfg>(a);
  const int slice = work.slice, outTile = work.outTile, tileM = work.tileM, tileN = work.tileN;
  const int firstStep = work.firstStep, steps = work.steps;
  const int lane = threadIdx.x % kWarpSize;
  auto stageA = [&](int stage) { return shared + stage * Cfg::kStageBytes; };
  auto stageB = [&](int stage) { return shared + stage * Cfg::kStageBytes + Cfg::kStageBytesA; };

  Acc d[Cfg::kWgmmaPerWarpgroup][kAccumulators];
  const int consumerWarp = static_cast<int>(threadIdx.x) / kWarpSize - Cfg::kProducerThreads / kWarpSize;
  const int warpgroupRow = consumerWarp / (kWarpgroupThreads / kWarpSize) * Cfg::kRowsPerWarpgroup;
  if constexpr (Cfg::kIm2col) {
    if (threadIdx.x < kWarpSize) copyWithAccelerator<Cfg>(a, work, full, empty, stageA, stageB, &weightMap, &inputMap);
  }
  if (!Cfg::kIm2col && threadIdx.x < Cfg::kProducerThreads) {
    TileLoader<typename Cfg::Loader> loader(a, tileM, tileN, threadIdx.x, firstStep);
    for (int step = 0; step < steps; ++step) {
      const int stage = step % Cfg::kStages, use = step / Cfg::kStages;
      if (use > 0) mbarrierWait(empty + stage, (use - 1) & 1);  // the previous use's MMAs are done
      if constexpr (Cfg::kTmaB) {
        if (threadIdx.x == 0) {
          mbarrierArriveExpectBytes(full + stage, Cfg::kStageBytesB);
          tmaLoad2d(stageB(stage), &weightMap, (firstStep + step) * Cfg::kRowBytes, tileN, full + stage);
        }
        loader.loadA(stageA(stage), a);
      } else {
        loader.load(stageA(stage), stageB(stage), a);
      }
      loader.advance(a);
      mbarrierArriveOnCopies(full + stage);
    }
    cpAsyncCommit();
    cpAsyncWait<0>();
  } else if (threadIdx.x >= Cfg::kProducerThreads) {
#pragma unroll
    for (int mi = 0; mi < Cfg::kWgmmaPerWarpgroup; ++mi)
#pragma unroll
      for (int i = 0; i < kAccumulators; ++i) d[mi][i] = Acc(0);
    constexpr int kStepsPerStage = Cfg::kRowBytes / kWgmmaKBytes;
    for (int step = 0; step < steps; ++step) {
      const int stage = step % Cfg::kStages, use = step / Cfg::kStages;
      mbarrierWait(full + stage, use & 1);
      fenceProxyAsync();  // the landed copies ordered before wgmma's (async-proxy) reads
      const uint8_t* sa = stageA(stage) + warpgroupRow * Cfg::kRowBytes;
      const uint8_t* sb = stageB(stage);
#pragma unroll
      for (int mi = 0; mi < Cfg::kWgmmaPerWarpgroup; ++mi) fenceAccumulators(d[mi]);
      wgmmaFence();
#pragma unroll
      for (int k = 0; k < kStepsPerStage; ++k)
#pragma unroll
        for (int mi = 0; mi < Cfg::kWgmmaPerWarpgroup; ++mi)
          wgmma<typename Cfg::Element, Cfg::kBlockN>(d[mi], wgmmaDescriptor(sa + mi * kWgmmaM * Cfg::kRowBytes + k * kWgmmaKBytes),
                                       wgmmaDescriptor(sb + k * kWgmmaKBytes));
      wgmmaCommit();
      wgmmaWait<Cfg::kWgmmaInFlight>();  // the previous step's MMAs are done: its stage may be refilled
#pragma unroll
      for (int mi = 0; mi < Cfg::kWgmmaPerWarpgroup; ++mi) fenceAccumulators(d[mi]);
      if (step > 0 && lane == 0) mbarrierArrive(empty + (step - 1) % Cfg::kStages);
    }
    wgmmaWait<0>();
#pragma unroll
    for (int mi = 0; mi < Cfg::kWgmmaPerWarpgroup; ++mi) fenceAccumulators(d[mi]);
  }
  __syncthreads();  // every copy landed and every MMA done: the stages' memory takes the accumulators
  Acc* tile = reinterpret_cast<Acc*>(shared);
  if (threadIdx.x >= Cfg::kProducerThreads) {
    // Warp w of a warpgroup holds rows 16w .. 16w + 15 of each of its 64-row blocks (igemm_wgmma.cuh).
    constexpr int kRowsPerWarp = 16;
    const int row0 = warpgroupRow + consumerWarp % (kWarpgroupThreads / kWarpSize) * kRowsPerWarp;
#pragma unroll
    for (int mi = 0; mi < Cfg::kWgmmaPerWarpgroup; ++mi)
      Epilogue<Cfg, OutT>::template stageStrip<kAccumulators / 4>(tile, d[mi], row0 + mi * kWgmmaM, 0, lane);
  }
  __syncthreads();
  if (a.splits > 1 && !SplitReduce<Cfg>::lastSums(tile, a, outTile, slice)) return;  // another block finishes the tile
  Epilogue<Cfg, OutT>::store(tile, a, tileM, tileN);
#else
  __trap();
#endif
}

}  // namespace netdef::cuda::igemm
