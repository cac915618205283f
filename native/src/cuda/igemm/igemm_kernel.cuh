// The implicit-GEMM convolution kernel, one template for every element type, tile shape and
// output type (igemm_tile.cuh, igemm_loader.cuh, igemm_epilogue.cuh):
//
//   prologue: stages 0 .. kStages-2 copied (cp.async, one commit group each)
//   for each reduction step kt (of the block's slice):
//     wait until step kt's group has landed; __syncthreads
//     copy step kt + kStages - 1 into the stage step kt - 1 used (all warps are past it)
//     kStepsK times: ldmatrix the warp's A fragments (kFragsM x4) and B fragments (kFragsN / 2
//     x4), then kFragsM x kFragsN mma.sync
//   (Hopper's wgmma tile instead: both warpgroups issue one step's wgmma.mma_async from the stage
//   as it lies in shared memory, and keep it in flight while the next step's stage is waited for
//   (a stage is then refilled two steps after it was read) or wait for it within the step;
//   igemm_wgmma.cuh)
//   drain the pipeline; stage the accumulators in shared memory; with split-K, the last block of
//   the tile sums the slices there (the others stop); the fused epilogue stores y.
//
// The grid is one-dimensional: block b computes reduction slice b % splits (split-K,
// igemm_split.cuh; one slice without it) of output tile t = b / splits, which is output-channel
// tile t % tilesN of pixel tile t / tilesN, so the blocks that read the same activation rows run
// side by side (the weights of a layer fit in L2, its activations often do not).
//
// Test: native/tests/ops_igemm_conv.cu.
#pragma once

#include "../ops/pdl.cuh"
#include "igemm_epilogue.cuh"
#include "igemm_loader.cuh"
#include "igemm_split.cuh"
#include "igemm_wgmma.cuh"

namespace netdef::cuda::igemm {

template <typename Cfg, typename OutT>
__global__ void __launch_bounds__(Cfg::kThreads) igemmConvKernel(const ConvArgs a) {
  using Acc = typename Cfg::Acc;
  using MmaOp = typename Cfg::MmaOp;
  constexpr int kChunksPerMma = Cfg::kMmaK * static_cast<int>(sizeof(typename Cfg::Element)) / kChunkBytes;
  extern __shared__ __align__(kChunkBytes) uint8_t sharedRaw[];
  uint8_t* const shared = sharedRaw + (Cfg::kSharedAlignment - sharedAddress(sharedRaw) % Cfg::kSharedAlignment) % Cfg::kSharedAlignment;
  // Programmatic dependent launch: the next kernel may be scheduled now; this one touches no memory
  // before the previous kernels are done (both no-ops in an ordinary launch).
  ops::pdlLaunchDependents();
  ops::pdlWaitPrevious();

  const BlockWork work = blockWork<Cfg>(a);
  const int slice = work.slice, outTile = work.outTile, tileM = work.tileM, tileN = work.tileN;
  const int firstStep = work.firstStep, steps = work.steps;

  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int warpRow = (warp / Cfg::kWarpsN) * Cfg::kWarpM, warpCol = (warp % Cfg::kWarpsN) * Cfg::kWarpN;

  auto stageA = [&](int stage) { return shared + stage * Cfg::kStageBytes; };
  auto stageB = [&](int stage) { return shared + stage * Cfg::kStageBytes + Cfg::kStageBytesA; };

  TileLoader<Cfg> loader(a, tileM, tileN, threadIdx.x, firstStep);
  // Stages filled ahead of the one being multiplied: wgmma keeps one step's MMAs in flight while
  // the next is issued, so the stage it reads is refilled one step later than mma.sync's.
  constexpr int kAhead = Cfg::kStages - 1 - Cfg::kWgmmaInFlight;
  // Issues the copies of reduction step `step` (none past the last) as one commit group.
  auto fill = [&](int step) {
    if (step < steps) {
      loader.load(stageA(step % Cfg::kStages), stageB(step % Cfg::kStages), a);
      loader.advance(a);
    }
    cpAsyncCommit();
  };
  // Waits until this step's stage has landed for every thread, then refills the stage kAhead steps
  // on (read by MMAs that are complete: all warps are past the barrier, and wgmma waits below).
  auto nextStep = [&](int step) {
    cpAsyncWait<kAhead - 1>();
    if constexpr (Cfg::kWgmma) fenceProxyAsync();  // the fills visible to wgmma's reads, past the barrier
    __syncthreads();
    fill(step + kAhead);
  };
#pragma unroll
  for (int stage = 0; stage < kAhead; ++stage) fill(stage);

  Acc acc[Cfg::kFragsM][Cfg::kFragsN][4];
  if constexpr (Cfg::kWgmma) {
    // One warpgroup multiplies its 64 rows of A by all of B into d, whose fragment layout
    // (igemm_wgmma.cuh) is acc[0][j][e] = d[4j + e].
    static_assert(Cfg::kFragsM == 1 && Cfg::kFragsN * 4 == kAccPerThread, "a warp holds 16 rows x 128 columns");
    Acc d[kAccPerThread];
#pragma unroll
    for (int i = 0; i < kAccPerThread; ++i) d[i] = Acc(0);
    const int warpgroupRow = warp / (kWarpgroupThreads / kWarpSize) * kWgmmaM;
    constexpr int kStepsPerStage = Cfg::kRowBytes / kWgmmaKBytes;
    for (int step = 0; step < steps; ++step) {
      nextStep(step);
      const uint8_t* sa = stageA(step % Cfg::kStages) + warpgroupRow * Cfg::kRowBytes;
      const uint8_t* sb = stageB(step % Cfg::kStages);
      fenceAccumulators(d);
      wgmmaFence();
#pragma unroll
      for (int k = 0; k < kStepsPerStage; ++k)
        wgmma<typename Cfg::Element, kWgmmaN>(d, wgmmaDescriptor(sa + k * kWgmmaKBytes), wgmmaDescriptor(sb + k * kWgmmaKBytes));
      wgmmaCommit();
      wgmmaWait<Cfg::kWgmmaInFlight>();  // with one in flight: the step before this one is done
      fenceAccumulators(d);
    }
    wgmmaWait<0>();
    fenceAccumulators(d);
#pragma unroll
    for (int j = 0; j < Cfg::kFragsN; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[0][j][e] = d[4 * j + e];
  } else {
#pragma unroll
    for (int mi = 0; mi < Cfg::kFragsM; ++mi)
#pragma unroll
      for (int ni = 0; ni < Cfg::kFragsN; ++ni)
#pragma unroll
        for (int e = 0; e < 4; ++e) acc[mi][ni][e] = Acc(0);

    // ldmatrix row addresses of this lane: A, rows 0-15 with the second 16 bytes for lanes 16-31;
    // B, two 8-column blocks, each with both 16-byte halves (lanes 8j .. 8j+7: matrix j).
    const int aRow = warpRow + lane % 16, aChunk = lane / 16;
    const int bRow = warpCol + (lane / 16) * kMmaN + lane % 8, bChunk = (lane / 8) % 2;

    for (int step = 0; step < steps; ++step) {
      nextStep(step);
      const uint8_t* sa = stageA(step % Cfg::kStages);
      const uint8_t* sb = stageB(step % Cfg::kStages);
#pragma unroll
      for (int k = 0; k < Cfg::kStepsK; ++k) {
        uint32_t fa[Cfg::kFragsM][4], fb[Cfg::kFragsN][2];
#pragma unroll
        for (int mi = 0; mi < Cfg::kFragsM; ++mi)
          ldmatrixX4(fa[mi], sa + Cfg::chunkOffset(aRow + mi * kMmaM, k * kChunksPerMma + aChunk));
#pragma unroll
        for (int nj = 0; nj < Cfg::kFragsN / 2; ++nj) {
          uint32_t r[4];
          ldmatrixX4(r, sb + Cfg::chunkOffset(bRow + nj * 2 * kMmaN, k * kChunksPerMma + bChunk));
          fb[2 * nj][0] = r[0];
          fb[2 * nj][1] = r[1];
          fb[2 * nj + 1][0] = r[2];
          fb[2 * nj + 1][1] = r[3];
        }
#pragma unroll
        for (int mi = 0; mi < Cfg::kFragsM; ++mi)
#pragma unroll
          for (int ni = 0; ni < Cfg::kFragsN; ++ni) MmaOp::run(acc[mi][ni], fa[mi], fb[ni]);
      }
    }
  }

  cpAsyncWait<0>();
  __syncthreads();  // every warp is done with the pipeline's memory
  Acc* tile = reinterpret_cast<Acc*>(shared);
  Epilogue<Cfg, OutT>::stage(tile, acc, warpRow, warpCol, lane);
  __syncthreads();
  if (a.splits > 1 && !SplitReduce<Cfg>::lastSums(tile, a, outTile, slice)) return;  // another block finishes the tile
  Epilogue<Cfg, OutT>::store(tile, a, tileM, tileN);
}

}  // namespace netdef::cuda::igemm
