// The fused epilogue of the implicit-GEMM kernels (formula in igemm_conv.h). It runs after the
// main loop, on the block's accumulator tile staged in shared memory ([kBlockM][kAccPitch], chunks
// swizzled: igemm_acc_layout.h), so each thread finishes a run of consecutive channels of one pixel,
// read as 16-byte chunks, and stores it as one 16-byte vector (ConvArgs::vectorStore), or, for
// shapes that do not keep the alignment, one element at a time. Per element, in float32:
//   v = fma(float(acc), inputScale * weightScales[k], bias[k]); v = act(v);
//   v = fma(float(residual), residualScale, v); then the output conversion of OutT.
// OutT int32 stores the accumulator itself (the launcher allows no scales, activation or residual).
//
// Test: native/tests/ops_igemm_conv.cu (every output type, activation, residual type, vector and
// element paths, against a CPU reference doing the same float32 operations).
#pragma once

#include <cuda_fp16.h>

#include <type_traits>

#include "../fused_activation.cuh"
#include "../ops/op_device.cuh"
#include "igemm_args.cuh"
#include "igemm_tile.cuh"

namespace netdef::cuda::igemm {

__device__ __forceinline__ float toFloat(int8_t v) { return static_cast<float>(v); }
__device__ __forceinline__ float toFloat(__half v) { return __half2float(v); }
__device__ __forceinline__ float toFloat(int32_t v) { return static_cast<float>(v); }
__device__ __forceinline__ float toFloat(float v) { return v; }

// `count` consecutive elements of R at p (aligned to their size or 16 bytes) as floats.
template <typename R, int kCount>
__device__ __forceinline__ void loadAsFloat(const R* p, float (&out)[kCount]) {
  constexpr int kBytes = kCount * static_cast<int>(sizeof(R));
  constexpr int kWordBytes = 4, kPairBytes = 8;
  static_assert(kBytes % kWordBytes == 0, "4-, 8- or 16-byte pieces");
  constexpr int kPieceBytes = kBytes >= kChunkBytes ? kChunkBytes : kBytes >= kPairBytes ? kPairBytes : kWordBytes;
  constexpr int kPerPiece = kPieceBytes / static_cast<int>(sizeof(R));
#pragma unroll
  for (int piece = 0; piece < kCount / kPerPiece; ++piece) {
    alignas(kChunkBytes) R values[kPerPiece];
    if constexpr (kPieceBytes == kChunkBytes) {
      *reinterpret_cast<uint4*>(values) = *reinterpret_cast<const uint4*>(p + piece * kPerPiece);
    } else if constexpr (kPieceBytes == kPairBytes) {
      *reinterpret_cast<uint2*>(values) = *reinterpret_cast<const uint2*>(p + piece * kPerPiece);
    } else {
      *reinterpret_cast<uint32_t*>(values) = *reinterpret_cast<const uint32_t*>(p + piece * kPerPiece);
    }
#pragma unroll
    for (int j = 0; j < kPerPiece; ++j) out[piece * kPerPiece + j] = toFloat(values[j]);
  }
}

template <typename Cfg, typename OutT>
struct Epilogue {
  using Acc = typename Cfg::Acc;
  static constexpr bool kRaw = std::is_same_v<OutT, int32_t>;  // the raw accumulator, no epilogue
  static constexpr int kVector = kChunkBytes / static_cast<int>(sizeof(OutT));  // elements per store
  static_assert(Cfg::kBlockN % kVector == 0, "a tile row holds whole vectors");

  // Writes the register accumulators of one warp into the shared accumulator tile.
  __device__ __forceinline__ static void stage(Acc* tile, const Acc (&acc)[Cfg::kFragsM][Cfg::kFragsN][4], int warpRow,
                                               int warpCol, int lane) {
#pragma unroll
    for (int mi = 0; mi < Cfg::kFragsM; ++mi) stageStrip<Cfg::kFragsN>(tile, acc[mi][0], warpRow + mi * kMmaM, warpCol, lane);
  }

  // Writes one warp's 16-row strip of kBlocks 8-column blocks, at rows `row`.., columns `col`.. of
  // the tile, from mma.sync's accumulator fragments (wgmma's are the same, repeated along N):
  // frag[4j + e] is column 8j + 2 (lane % 4) + e % 2 of row lane / 4, 8 rows lower for e >= 2.
  // Each pair (an even column and the next) is one 8-byte store: adjacent in the swizzled layout too.
  template <int kBlocks>
  __device__ __forceinline__ static void stageStrip(Acc* tile, const Acc* frag, int row, int col, int lane) {
    struct alignas(2 * sizeof(Acc)) Pair { Acc v[2]; };
#pragma unroll
    for (int j = 0; j < kBlocks; ++j) {
      const int r = row + lane / 4, c = col + j * kMmaN + 2 * (lane % 4);
      *reinterpret_cast<Pair*>(tile + Cfg::accIndex(r, c)) = Pair{{frag[4 * j], frag[4 * j + 1]}};
      *reinterpret_cast<Pair*>(tile + Cfg::accIndex(r + kRowsBelow, c)) = Pair{{frag[4 * j + 2], frag[4 * j + 3]}};
    }
  }

  // Finishes the staged tile into y (all threads of the block).
  __device__ __forceinline__ static void store(const Acc* tile, const ConvArgs& a, int tileM, int tileN) {
    if (a.vectorStore) {
      constexpr int kVectorsPerRow = Cfg::kBlockN / kVector;
      for (int i = threadIdx.x; i < Cfg::kBlockM * kVectorsPerRow; i += Cfg::kThreads) {
        const int row = i / kVectorsPerRow, col = (i % kVectorsPerRow) * kVector;
        const int m = tileM + row, n = tileN + col;
        if (m >= a.gemmM || n >= a.gemmN) continue;
        alignas(kChunkBytes) OutT out[kVector];
        finishVector(tile, row, col, a, m, n, out);
        *reinterpret_cast<uint4*>(static_cast<OutT*>(a.y) + m * a.yPixelStride + a.yChannelOffset + n) =
            *reinterpret_cast<const uint4*>(out);
      }
      return;
    }
    for (int i = threadIdx.x; i < Cfg::kBlockM * Cfg::kBlockN; i += Cfg::kThreads) {
      const int row = i / Cfg::kBlockN, col = i % Cfg::kBlockN;
      const int m = tileM + row, n = tileN + col;
      if (m >= a.gemmM || n >= a.gemmN) continue;
      static_cast<OutT*>(a.y)[m * a.yPixelStride + a.yChannelOffset + n] = finishOne(tile[Cfg::accIndex(row, col)], a, m, n);
    }
  }

 private:
  static constexpr int kRowsBelow = 8;  // d[2], d[3] lie 8 rows below d[0], d[1]

  __device__ __forceinline__ static float biasAt(const ConvArgs& a, int n) {
    if (!a.bias) return 0.0f;
    return a.biasHalf ? __half2float(static_cast<const __half*>(a.bias)[n]) : static_cast<const float*>(a.bias)[n];
  }

  __device__ __forceinline__ static OutT finishOne(Acc acc, const ConvArgs& a, int m, int n) {
    if constexpr (kRaw) {
      return acc;
    } else {
      float v = fmaf(toFloat(acc), a.inputScale * (a.weightScales ? a.weightScales[n] : 1.0f), biasAt(a, n));
      v = activate(v, a.activation);
      if (a.residualKind == ResidualKind::kInt8) {
        v = fmaf(toFloat(static_cast<const int8_t*>(a.residual)[m * a.residualPixelStride + a.residualChannelOffset + n]),
                 a.residualScale, v);
      } else if (a.residualKind == ResidualKind::kFloat16) {
        v = fmaf(toFloat(static_cast<const __half*>(a.residual)[m * a.residualPixelStride + a.residualChannelOffset + n]),
                 a.residualScale, v);
      }
      return ops::outputOf<OutT>(v, a.outputScale);  // int8: the Quantize op's rule; float16: rounded
    }
  }

  // Accumulators (row, col .. col + kVector - 1) of the tile, as 16-byte chunks (each chunk's four
  // accumulators stay together in the swizzled layout).
  __device__ __forceinline__ static void loadAccs(const Acc* tile, int row, int col, Acc (&accs)[kVector]) {
    static_assert(kVector % kAccPerChunk == 0, "an output vector spans whole accumulator chunks");
#pragma unroll
    for (int q = 0; q < kVector / kAccPerChunk; ++q)
      *reinterpret_cast<uint4*>(&accs[q * kAccPerChunk]) = *reinterpret_cast<const uint4*>(tile + Cfg::accIndex(row, col + q * kAccPerChunk));
  }

  __device__ __forceinline__ static void finishVector(const Acc* tile, int row, int col, const ConvArgs& a, int m, int n,
                                                      OutT (&out)[kVector]) {
    alignas(kChunkBytes) Acc accs[kVector];
    loadAccs(tile, row, col, accs);
    if constexpr (kRaw) {
#pragma unroll
      for (int j = 0; j < kVector; ++j) out[j] = accs[j];
    } else {
      float scale[kVector], bias[kVector], v[kVector];
      if (a.weightScales) {
        loadAsFloat<float, kVector>(a.weightScales + n, scale);
      } else {
#pragma unroll
        for (int j = 0; j < kVector; ++j) scale[j] = 1.0f;
      }
      if (a.bias && a.biasHalf) {
        loadAsFloat<__half, kVector>(static_cast<const __half*>(a.bias) + n, bias);
      } else if (a.bias) {
        loadAsFloat<float, kVector>(static_cast<const float*>(a.bias) + n, bias);
      } else {
#pragma unroll
        for (int j = 0; j < kVector; ++j) bias[j] = 0.0f;
      }
#pragma unroll
      for (int j = 0; j < kVector; ++j) v[j] = activate(fmaf(toFloat(accs[j]), a.inputScale * scale[j], bias[j]), a.activation);
      if (a.residualKind != ResidualKind::kNone) {
        float r[kVector];
        const int64_t at = m * a.residualPixelStride + a.residualChannelOffset + n;
        if (a.residualKind == ResidualKind::kInt8) {
          loadAsFloat<int8_t, kVector>(static_cast<const int8_t*>(a.residual) + at, r);
        } else {
          loadAsFloat<__half, kVector>(static_cast<const __half*>(a.residual) + at, r);
        }
#pragma unroll
        for (int j = 0; j < kVector; ++j) v[j] = fmaf(r[j], a.residualScale, v[j]);
      }
#pragma unroll
      for (int j = 0; j < kVector; ++j) out[j] = ops::outputOf<OutT>(v[j], a.outputScale);
    }
  }
};

}  // namespace netdef::cuda::igemm
