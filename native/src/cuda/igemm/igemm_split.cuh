// Split-K's reduction for the implicit-GEMM kernels (igemm_conv.h, IgemmConvParams::splits). The
// blocks of one output tile each compute one slice of the reduction and stage their accumulators
// in shared memory as usual; then each copies its tile to its slot of the workspace
// ([tile][slice][kBlockM][kBlockN], 16-byte accesses that bypass L1) and counts itself in on the
// tile's counter. The block that arrives last sums every slot in slice order (its own from shared
// memory), so the sum does not depend on which block came last, writes it back over its staged
// tile, resets the counter to zero for the next launch, and runs the epilogue; the others are done.
// The counter protocol is the CUDA threadFenceReduction one: stores, __threadfence, then the atomic;
// the last block fences before it reads. int32 accumulators (int8) sum exactly; float32 ones
// (float16) in a fixed order.
//
// Test: native/tests/ops_igemm_conv.cu and ops_igemm_conv_half.cu (split-K against the CPU
// reference, counters back at zero, two runs bit-identical).
#pragma once

#include <cstdint>

#include "igemm_args.cuh"
#include "igemm_tile.cuh"

namespace netdef::cuda::igemm {

// The reduction steps of a tile whose steps are blockK elements: blockK elements of R * S * C each,
// or, where the accelerator copies the activations in im2col mode, ceil(C / blockK) steps per filter
// tap (a step never spans two taps). The host (igemmReductionSteps: split-K's slices) and the
// kernels (blockWork) both count with it.
__host__ __device__ constexpr int64_t reductionSteps(int64_t kernelH, int64_t kernelW, int64_t channels, int64_t blockK, bool im2col) {
  return im2col ? kernelH * kernelW * ((channels + blockK - 1) / blockK) : (kernelH * kernelW * channels + blockK - 1) / blockK;
}
template <typename Cfg>
__host__ __device__ __forceinline__ int igemmSteps(int kernelH, int kernelW, int channels) {
  return static_cast<int>(reductionSteps(kernelH, kernelW, channels, Cfg::kBlockK, Cfg::kIm2col));
}

// The work of block blockIdx.x (igemm_kernel.cuh's grid): reduction slice `slice` of output tile
// `outTile`, whose first pixel row and output channel are tileM and tileN, over `steps` reduction
// steps from `firstStep`.
struct BlockWork {
  int slice, outTile, tileM, tileN, firstStep, steps;
};
template <typename Cfg>
__device__ __forceinline__ BlockWork blockWork(const ConvArgs& a) {
  BlockWork w;
  const int tilesN = (a.gemmN + Cfg::kBlockN - 1) / Cfg::kBlockN;
  w.slice = static_cast<int>(blockIdx.x % a.splits);
  w.outTile = static_cast<int>(blockIdx.x / a.splits);
  w.tileN = w.outTile % tilesN * Cfg::kBlockN;
  w.tileM = w.outTile / tilesN * Cfg::kBlockM;
  w.firstStep = w.slice * a.splitSteps;
  w.steps = min(igemmSteps<Cfg>(a.kernelH, a.kernelW, a.channels) - w.firstStep, a.splitSteps);
  return w;
}

template <typename Cfg>
struct SplitReduce {
  using Acc = typename Cfg::Acc;
  static_assert(sizeof(Acc) == sizeof(int32_t), "slots hold 32-bit accumulators, moved as int4");
  static constexpr int kPerVector = static_cast<int>(sizeof(int4) / sizeof(Acc));
  static constexpr int kVectorsPerRow = Cfg::kBlockN / kPerVector;
  static constexpr int kTileElements = Cfg::kBlockM * Cfg::kBlockN;
  static_assert(Cfg::kBlockN % kPerVector == 0 && Cfg::kAccPitch % kPerVector == 0 && kPerVector == kAccPerChunk,
                "tile rows are whole 16-byte vectors, each one accumulator chunk");

  // Publishes this block's slice of output tile `outTile`; true in the block that arrived last,
  // whose `tile` (the staged accumulators) then holds the sum of every slice. Every thread of the
  // block calls it, and gets the same answer.
  __device__ __forceinline__ static bool lastSums(Acc* tile, const ConvArgs& a, int outTile, int slice) {
    __shared__ bool last;
    Acc* slots = static_cast<Acc*>(a.splitPartials) + static_cast<int64_t>(outTile) * a.splits * kTileElements;
    for (int i = threadIdx.x; i < kTileElements / kPerVector; i += Cfg::kThreads) {
      const int row = i / kVectorsPerRow, col = (i % kVectorsPerRow) * kPerVector;
      __stcg(reinterpret_cast<int4*>(slots + slice * kTileElements + row * Cfg::kBlockN + col),
             *reinterpret_cast<const int4*>(tile + Cfg::accIndex(row, col)));
    }
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) {
      last = atomicAdd(a.splitCounters + outTile, 1) == a.splits - 1;
      if (last) a.splitCounters[outTile] = 0;  // every slice is in: ready for the next launch
    }
    __syncthreads();
    if (!last) return false;
    __threadfence();
    for (int i = threadIdx.x; i < kTileElements / kPerVector; i += Cfg::kThreads) {
      const int row = i / kVectorsPerRow, col = (i % kVectorsPerRow) * kPerVector;
      Acc* mine = tile + Cfg::accIndex(row, col);  // four accumulators, together in the swizzled layout
      Acc sum[kPerVector] = {};
      for (int s = 0; s < a.splits; ++s) {
        int4 v = s == slice ? *reinterpret_cast<const int4*>(mine)
                            : __ldcg(reinterpret_cast<const int4*>(slots + s * kTileElements + row * Cfg::kBlockN + col));
        const Acc* part = reinterpret_cast<const Acc*>(&v);
#pragma unroll
        for (int j = 0; j < kPerVector; ++j) sum[j] += part[j];
      }
#pragma unroll
      for (int j = 0; j < kPerVector; ++j) mine[j] = sum[j];
    }
    __syncthreads();
    return true;
  }
};

}  // namespace netdef::cuda::igemm
