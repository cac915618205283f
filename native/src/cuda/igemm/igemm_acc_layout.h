// Where element (row, col) of a block's accumulator tile lies in shared memory (igemm_tile.cuh:
// [kBlockM][kAccPitch] 32-bit accumulators, staged from the MMA fragments for the epilogue and
// split-K). Plain constexpr C++, so the layout's properties are checked at compile time below.
//
// The epilogue (igemm_epilogue.cuh) has each thread finish kVector consecutive channels of one
// pixel, reading their accumulators as 16-byte chunks: four chunks a thread for int8 outputs, two
// for float16, one for float32. With the chunks in plain order, the eight lanes of one shared-memory
// wavefront (eight 16-byte accesses) read chunks 4 apart (int8) and meet in the same banks: Nsight
// Compute counted 7.5- to 8-way bank conflicts on those loads, 87 % of their wavefronts, on an H100
// (2026-12-08, docs/benchmarks.md). So each row's chunks are XOR-swizzled in aligned groups of four:
// chunk k lies at k ^ ((k / kChunksPerLine) % kChunkGroup), which keeps every chunk in its own
// group (so in its row: rows hold whole groups) and sends the eight lanes' chunks of an aligned
// run of vectors to eight different bank groups (accReadsConflictFree). Elements keep their
// places within a chunk, so a fragment's two adjacent accumulators (an even column and the next)
// stay adjacent: one 8-byte store.
//
// Test: the static_asserts below (every tile width and output vector of the kernels), and through
// native/tests/ops_igemm_conv.cu and ops_igemm_conv_half.cu (every epilogue and split-K, exact).
#pragma once

// The layout functions run in the kernels and in host-side checks: both where nvcc compiles this.
#if defined(__CUDACC__)
#define NETDEF_ACC_LAYOUT_FN __host__ __device__ constexpr
#else
#define NETDEF_ACC_LAYOUT_FN constexpr
#endif

namespace netdef::cuda::igemm {

inline constexpr int kAccBytes32 = 4;               // an int32 or float32 accumulator
inline constexpr int kAccChunkBytes = 16;           // one 16-byte shared-memory access (igemm_ptx.cuh's kChunkBytes)
inline constexpr int kAccPerChunk = kAccChunkBytes / kAccBytes32;
inline constexpr int kChunksPerLine = 8;            // 16-byte chunks per 128-byte shared-memory line (one wavefront)
inline constexpr int kChunkGroup = 4;               // chunks swizzled together

// The chunk of a row that holds the row's chunk k.
NETDEF_ACC_LAYOUT_FN int accChunkAt(int k) { return k ^ ((k / kChunksPerLine) % kChunkGroup); }

// Offset (in accumulators) of element (row, col) in a tile whose rows are `pitch` accumulators apart.
NETDEF_ACC_LAYOUT_FN int accOffset(int row, int col, int pitch) {
  return row * pitch + accChunkAt(col / kAccPerChunk) * kAccPerChunk + col % kAccPerChunk;
}

// A row of `width` accumulators is whole swizzle groups, and accChunkAt permutes each group.
constexpr bool accRowSwizzles(int width) {
  if (width % (kAccPerChunk * kChunkGroup) != 0) return false;
  const int chunks = width / kAccPerChunk;
  for (int k = 0; k < chunks; ++k) {
    const int at = accChunkAt(k);
    if (at / kChunkGroup != k / kChunkGroup) return false;  // left its group (its row)
    for (int other = 0; other < k; ++other)
      if (accChunkAt(other) == at) return false;  // two chunks in one place
  }
  return true;
}

// The eight lanes of a wavefront, each reading chunk q (of `chunksPerVector`) of its own vector
// (vectors lane0 .. lane0 + 7 of one row, lane0 a multiple of 8), touch eight different bank groups,
// for every q and every such run in a row of `width` accumulators.
constexpr bool accReadsConflictFree(int width, int chunksPerVector) {
  const int vectors = width / (kAccPerChunk * chunksPerVector);
  for (int lane0 = 0; lane0 + kChunksPerLine <= vectors; lane0 += kChunksPerLine)
    for (int q = 0; q < chunksPerVector; ++q) {
      bool used[kChunksPerLine] = {};
      for (int lane = lane0; lane < lane0 + kChunksPerLine; ++lane) {
        const int group = accChunkAt(lane * chunksPerVector + q) % kChunksPerLine;
        if (used[group]) return false;
        used[group] = true;
      }
    }
  return true;
}

// Every block N of the kernels' tiles (32, 64, 80, 128, 160, 256), and every output vector (int8:
// four chunks, float16: two, float32 and int32: one). Widths of fewer than eight vectors have no
// aligned run of eight lanes; theirs are checked at the widest tile.
static_assert(accRowSwizzles(32) && accRowSwizzles(64) && accRowSwizzles(80) && accRowSwizzles(128) && accRowSwizzles(160) &&
                  accRowSwizzles(256),
              "accumulator rows are whole swizzle groups, permuted");
static_assert(accReadsConflictFree(256, 4) && accReadsConflictFree(256, 2) && accReadsConflictFree(256, 1) &&
                  accReadsConflictFree(128, 4) && accReadsConflictFree(160, 2) && accReadsConflictFree(64, 2),
              "a wavefront's eight vector reads meet in no bank group");

}  // namespace netdef::cuda::igemm
