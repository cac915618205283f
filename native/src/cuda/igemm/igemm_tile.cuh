// Tile shapes of the implicit-GEMM kernels, as template parameters: a block computes a kBlockM x
// kBlockN tile of the output (pixels x output channels), walking the reduction (R * S * C) in steps
// of kBlockK elements (128 bytes; the narrow tiles' 64) through kStages shared-memory buffers; its warps are laid out kWarpsM x
// kWarpsN, each computing a (kBlockM / kWarpsM) x (kBlockN / kWarpsN) sub-tile as a grid of
// 16 x 8 mma tiles. The element type T fixes the bytes per row of a stage and the mma's K.
//
// Shared memory, per stage: A [kBlockM rows][kRowBytes], B [kBlockN rows][kRowBytes], each row
// kRowChunks 16-byte chunks, stored at chunk ^ swizzle(row) so the eight rows one ldmatrix reads
// fall in distinct bank groups (kRowChunks = 4 or 8). After the main loop the same memory holds
// the block's accumulators for the epilogue: [kBlockM][kBlockN + kAccPad] of the accumulator type,
// each row's 16-byte chunks swizzled (accIndex, igemm_acc_layout.h).
//
// Test: through native/tests/ops_igemm_conv.cu (every tile shape).
#pragma once

#include <cstddef>

#include "igemm_acc_layout.h"
#include "igemm_ptx.cuh"
#include "igemm_wgmma.cuh"

namespace netdef::cuda::igemm {

inline constexpr int kWarpSize = 32;
// (kChunksPerLine, the 16-byte chunks of a 128-byte shared-memory line: igemm_acc_layout.h.)
static_assert(kAccChunkBytes == kChunkBytes, "the accumulator layout's chunks are the copies' 16 bytes");
// The mma tile: 16 rows (M) x 8 columns (N).
inline constexpr int kMmaM = 16;
inline constexpr int kMmaN = 8;
// Accumulator tile padding (elements per row): makes the rows of one 8-byte fragment store land
// in distinct banks.
inline constexpr int kAccPad = 8;

// BlockKBytes: the reduction step in bytes of a stage row, the same for every element type (128:
// 64 float16 or 128 int8 elements; 64 for the narrow tiles), so that an int8 stage feeds as many
// mma steps per barrier as a float16 one does.
template <typename T, int BlockM, int BlockN, int BlockKBytes, int WarpsM, int WarpsN, int Stages>
struct TileConfig {
  using Element = T;
  using MmaOp = Mma<T>;
  using Acc = typename MmaOp::Acc;
  static constexpr int kBlockM = BlockM, kBlockN = BlockN, kBlockK = BlockKBytes / static_cast<int>(sizeof(T));
  static constexpr int kWarpsM = WarpsM, kWarpsN = WarpsN, kStages = Stages;
  static constexpr int kThreads = WarpsM * WarpsN * kWarpSize;
  static constexpr int kWarpM = BlockM / WarpsM, kWarpN = BlockN / WarpsN;
  static constexpr int kFragsM = kWarpM / kMmaM;  // mma tiles per warp along M
  static constexpr int kFragsN = kWarpN / kMmaN;  // and along N
  static constexpr int kMmaK = MmaOp::kK;
  static constexpr int kStepsK = kBlockK / kMmaK;  // mma steps per stage
  static constexpr int kElementsPerChunk = kChunkBytes / static_cast<int>(sizeof(T));
  static constexpr int kRowBytes = BlockKBytes;
  static constexpr int kRowChunks = kRowBytes / kChunkBytes;
  static constexpr int kStageBytesA = BlockM * kRowBytes;
  static constexpr int kStageBytesB = BlockN * kRowBytes;
  static constexpr int kStageBytes = kStageBytesA + kStageBytesB;
  static constexpr int kPipelineBytes = Stages * kStageBytes;
  static constexpr int kAccPitch = BlockN + kAccPad;  // accumulator tile row, elements
  static constexpr int kAccBytes = BlockM * kAccPitch * static_cast<int>(sizeof(Acc));
  static_assert(sizeof(Acc) == kAccBytes32 && accRowSwizzles(BlockN) && kAccPitch % kAccPerChunk == 0,
                "32-bit accumulators, rows of whole swizzle groups and whole chunks");
  // Where accumulator (row, col) of the tile lies (igemm_acc_layout.h: chunks swizzled per row).
  __host__ __device__ static constexpr int accIndex(int row, int col) { return accOffset(row, col, kAccPitch); }
  static constexpr int kSharedBytes = kPipelineBytes > kAccBytes ? kPipelineBytes : kAccBytes;
  // mma.sync (ldmatrix fragments, every warp its own sub-tile); WgmmaTileConfig below says otherwise.
  static constexpr bool kWgmma = false;
  static constexpr int kWgmmaInFlight = 0;  // wgmma groups left in flight across a step (wgmma only)
  static constexpr bool kWarpSpecialized = false;  // igemm_ws_kernel.cuh's kernel (WsWgmmaTileConfig)
  static constexpr bool kTmaB = false;             // B copied by the tensor memory accelerator (WsWgmmaTileConfig)
  static constexpr bool kIm2col = false;           // A too, in its im2col mode, stepping tap by tap (WsWgmmaTileConfig)
  static constexpr int kSharedAlignment = kChunkBytes;  // of the stages' base
  static constexpr int kLaunchSharedBytes = kSharedBytes;  // dynamic shared memory asked at launch
  // Global -> shared copies: each thread moves chunks of one chunk column, every kRowsPerPass rows.
  static constexpr int kRowsPerPass = kThreads / kRowChunks;
  static constexpr int kRowsPerThreadA = BlockM / kRowsPerPass;
  static constexpr int kRowsPerThreadB = BlockN / kRowsPerPass;

  static_assert(kWarpM % kMmaM == 0 && kWarpN % (2 * kMmaN) == 0, "warp tile: 16-row and 16-column multiples");
  static_assert(BlockKBytes % static_cast<int>(sizeof(T)) == 0 && kBlockK % kMmaK == 0, "block K: a multiple of the mma's K");
  static_assert(kRowChunks == 4 || kRowChunks == 8, "a stage row is 64 or 128 bytes (swizzle)");
  static_assert(kThreads % kRowChunks == 0 && BlockM % kRowsPerPass == 0 && BlockN % kRowsPerPass == 0,
                "copy passes cover the tiles exactly");
  static_assert(Stages >= 2, "a pipeline needs two stages at least");

  // Byte offset of 16-byte chunk `chunk` of `row` within an A or B stage.
  __device__ __forceinline__ static int chunkOffset(int row, int chunk) {
    constexpr int kRowsPerLine = kChunksPerLine / kRowChunks;
    return row * kRowBytes + ((chunk ^ ((row / kRowsPerLine) % kRowChunks)) * kChunkBytes);
  }
};

// The tile shapes offered (igemm_conv.h's IgemmTile), 128-byte stage rows: five of 4 warps and 4
// stages (the 128x128 one takes 128 KB of shared memory, so one block and 4 warps run per SM), and
// two of 8 warps and 3 stages, for layers with many output tiles (batch 32): 128x128 with 64x32 warp
// tiles (96 KB: two blocks, 16 warps per SM) and 256x128 with 64x64 warp tiles (144 KB: one block,
// 8 warps), so more warps hide the loads' latency than the 4-warp 128x128 tile's; and one of
// Hopper's wgmma (below).
inline constexpr int kStageRowBytes = 128;
template <typename T>
using Tile128x128 = TileConfig<T, 128, 128, kStageRowBytes, 2, 2, 4>;
template <typename T>
using Tile128x64 = TileConfig<T, 128, 64, kStageRowBytes, 2, 2, 4>;
template <typename T>
using Tile64x64 = TileConfig<T, 64, 64, kStageRowBytes, 2, 2, 4>;
template <typename T>
using Tile64x32 = TileConfig<T, 64, 32, kStageRowBytes, 2, 2, 4>;
template <typename T>
using Tile32x32 = TileConfig<T, 32, 32, kStageRowBytes, 2, 2, 4>;
template <typename T>
using Tile128x128W8 = TileConfig<T, 128, 128, kStageRowBytes, 2, 4, 3>;
// For layers of few channels over many pixels (YOLOv8n's 16 and 32 channels at 320² and 160²):
// 64-byte stage rows (32 float16 or 64 int8 channels: a 32-channel reduction wastes none or half a
// row, where a 128-byte row wastes three quarters or half), two stages and 4 warps in 20 KB
// (128 x 32) or 12 KB (64 x 32), so many blocks share an SM and hide each other's load latency.
inline constexpr int kNarrowRowBytes = 64;
template <typename T>
using Tile128x32N = TileConfig<T, 128, 32, kNarrowRowBytes, 4, 1, 2>;
template <typename T>
using Tile64x32N = TileConfig<T, 64, 32, kNarrowRowBytes, 2, 2, 2>;

// Hopper's wgmma (igemm_wgmma.cuh): 128 x 128 in two warpgroups of 64 rows, i.e. eight warps of
// 16 rows x 128 columns each in TileConfig's terms (so the epilogue stages their accumulators as
// mma.sync fragments). The stages are read by the asynchronous proxy with the 128-byte swizzle,
// whose pattern is anchored at 1024-byte boundaries: the base is aligned to that, within an
// allocation one period larger. InFlight: whether a step's MMAs stay in flight while the next
// step is waited for and issued (1; its stage is then refilled a step later, so one stage fewer
// is loading) or are waited for at the end of their step (0: the tensor cores idle through the
// barrier, which a second block on the SM fills where the stages leave room for one).
template <typename T, int Stages, int InFlight>
struct WgmmaTileConfig : TileConfig<T, 128, 128, kStageRowBytes, 8, 1, Stages> {
  using Base = TileConfig<T, 128, 128, kStageRowBytes, 8, 1, Stages>;
  static constexpr bool kWgmma = true;
  static constexpr int kWgmmaInFlight = InFlight;
  static constexpr int kSharedAlignment = kSwizzleAtomBytes;
  static constexpr int kLaunchSharedBytes = Base::kSharedBytes + kSharedAlignment;
  static_assert(Base::kRowChunks == kChunksPerLine, "the 128-byte swizzle needs 128-byte stage rows");
  static_assert(InFlight == 0 || InFlight == 1, "at most one step's MMAs in flight");
  static_assert(Stages - 1 - InFlight >= 1, "at least one stage loading while one is multiplied");
};
// 4 stages, one step in flight (129 KB: one block per SM); 3 stages, none in flight (97 KB: two
// blocks per SM); 6 stages, one in flight (193 KB: four stages loading ahead).
template <typename T>
using TileWgmma128x128 = WgmmaTileConfig<T, 4, 1>;
template <typename T>
using TileWgmma128x128S3 = WgmmaTileConfig<T, 3, 0>;
template <typename T>
using TileWgmma128x128S6 = WgmmaTileConfig<T, 6, 1>;
template <typename T>
using Tile256x128 = TileConfig<T, 256, 128, kStageRowBytes, 4, 2, 3>;

// Warp-specialized wgmma (igemm_ws_kernel.cuh): a block of three warpgroups, one copying (cp.async
// into the stages, each stage's arrival signalled on an mbarrier) and two multiplying, each a
// (BlockM / 2) x BlockN slice as BlockM / 128 m64nBlockN wgmmas per 32 bytes of K, so no MMA warp
// waits on a block-wide barrier in the main loop. In TileConfig's terms a 4-warp tile, whose copy
// passes are the copying warpgroup's (the MMA warps' fragments are wgmma's, which the kernel stages
// for the epilogue itself), with kThreads the whole block's. All 384 threads run the epilogue. A
// block of 384 threads gets at most 168 registers a thread, which holds 256 x 128's 128
// accumulators a thread (ptxas -v: no spills; a second block per SM, at 84 registers, would not fit
// wgmma's 64). The stages as WgmmaTileConfig's (1024-byte aligned base); the barriers after the
// larger of the stages and the accumulator tile. TmaB: the weights of each stage copied by the
// tensor memory accelerator (one thread issues the whole B box; igemm_conv.cu encodes the tensor
// map), the copying warpgroup's cp.async left to A. Im2col: the activations copied by the
// accelerator too, in its im2col mode (one box of BlockM output pixels' 128 bytes of one filter
// tap's channels per stage), so one thread of the copying warpgroup issues everything. Its
// reduction then runs tap by tap, each tap's C channels in ceil(C / kBlockK) steps (igemmSteps):
// channels past C read as zeros, which the weights past the tap's (the next tap's) meet: an exact
// 0 for int8, and for float16 as long as those weights are finite (0 x Inf would be NaN).
template <typename T, int BlockM, int BlockN, int Stages, bool TmaB = false, bool Im2col = false>
struct WsWgmmaTileConfig : TileConfig<T, BlockM, BlockN, kStageRowBytes, 4, 1, Stages> {
  using Base = TileConfig<T, BlockM, BlockN, kStageRowBytes, 4, 1, Stages>;
  using Loader = Base;  // its copy passes are the copying warpgroup's (4 warps)
  static constexpr bool kWgmma = true;
  static constexpr bool kWarpSpecialized = true;
  static constexpr int kWgmmaInFlight = 1;  // one step's MMAs in flight while the next is issued
  static constexpr bool kTmaB = TmaB;
  static constexpr bool kIm2col = Im2col;
  static constexpr int kTmaMaxBox = 256;  // the tensor memory accelerator's largest box side
  static constexpr int kProducerThreads = kWarpgroupThreads;
  static constexpr int kConsumerWarpgroups = 2;
  static constexpr int kConsumerWarps = kConsumerWarpgroups * kWarpgroupThreads / kWarpSize;
  static constexpr int kThreads = kProducerThreads + kConsumerWarpgroups * kWarpgroupThreads;
  static constexpr int kRowsPerWarpgroup = BlockM / kConsumerWarpgroups;
  static constexpr int kWgmmaPerWarpgroup = kRowsPerWarpgroup / kWgmmaM;  // along M, per K step
  static constexpr int kSharedAlignment = kSwizzleAtomBytes;
  static constexpr int kBarrierBytes = 8;
  static constexpr int kBarrierOffset = (Base::kSharedBytes + kBarrierBytes - 1) / kBarrierBytes * kBarrierBytes;
  static constexpr int kLaunchSharedBytes = kBarrierOffset + 2 * Stages * kBarrierBytes + kSharedAlignment;
  static_assert(Base::kRowChunks == kChunksPerLine, "the 128-byte swizzle needs 128-byte stage rows");
  static_assert(kRowsPerWarpgroup % kWgmmaM == 0, "whole wgmma rows per warpgroup");
  static_assert(Loader::kThreads == kProducerThreads, "the loader is the copying warpgroup");
  static_assert(!TmaB || (BlockN <= kTmaMaxBox && Base::kStageBytes % kSharedAlignment == 0 && Base::kStageBytesA % kSharedAlignment == 0),
                "a B box the accelerator copies, at a swizzle-atom aligned address in every stage");
  static_assert(!Im2col || (TmaB && BlockM <= kTmaMaxBox), "an im2col box of at most 256 pixels, with the weights the accelerator's too");
};
// 128 x 128 with 6 stages (193 KB of shared memory), 256 x 128 with 4 (193 KB); and for channel
// counts that are multiples of 80 (YOLOv8x's 80, 160, 320, 640, which 128-wide tiles cover with up
// to 37 % of the columns wasted): 128 x 160 with 5 stages (181 KB), 256 x 80 with 5 (211 KB).
template <typename T>
using TileWs128x128 = WsWgmmaTileConfig<T, 128, 128, 6>;
template <typename T>
using TileWs256x128 = WsWgmmaTileConfig<T, 256, 128, 4>;
template <typename T>
using TileWs128x160 = WsWgmmaTileConfig<T, 128, 160, 5>;
template <typename T>
using TileWs256x80 = WsWgmmaTileConfig<T, 256, 80, 5>;
// The same 128 x 160 and 256 x 128 with the weights copied by the tensor memory accelerator: the
// copying warpgroup, which bounds the tiles above, then issues only the activations' copies.
template <typename T>
using TileWsTma128x160 = WsWgmmaTileConfig<T, 128, 160, 5, true>;
template <typename T>
using TileWsTma256x128 = WsWgmmaTileConfig<T, 256, 128, 4, true>;
// The same two with the activations the accelerator's as well (im2col mode).
template <typename T>
using TileWsIm2col128x160 = WsWgmmaTileConfig<T, 128, 160, 5, true, true>;
template <typename T>
using TileWsIm2col256x128 = WsWgmmaTileConfig<T, 256, 128, 4, true, true>;
// And 128 x 256 (4 stages, 193 KB): each multiplying warpgroup's m64n256 wgmma reads the fewest
// shared-memory bytes per multiply-accumulate of the shapes here (2026-12-08; on an H100 no faster
// than 256 x 128 where both fit the channels, so not what bounds these tiles: docs/benchmarks.md).
template <typename T>
using TileWsIm2col128x256 = WsWgmmaTileConfig<T, 128, 256, 4, true, true>;

}  // namespace netdef::cuda::igemm
