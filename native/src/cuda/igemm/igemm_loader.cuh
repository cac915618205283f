// Global -> shared copies of one pipeline stage, with cp.async:
//  - A, the implicit im2col of x: row m of the tile is output pixel (n, p, q); its reduction
//    index k = (r * S + s) * C + c reads x[n, p * strideH - padTop + r, q * strideW - padLeft + s, c],
//    zero where that lies in the padding, past the last pixel, or past R * S * C;
//  - B, the weights [K][R * S * C] as stored (row n = output channel), zero past K or R * S * C.
// Each thread copies one 16-byte chunk column (the same reduction indices for all its rows), so
// the (r, s, c) of its next chunk is carried from stage to stage by additions, with no division
// in the main loop (the first step's by division, in the constructor); C % (elements per chunk) == 0 keeps a chunk inside one (r, s).
//
// Test: through native/tests/ops_igemm_conv.cu (padding, strides, odd sizes, tile edges).
#pragma once

#include <climits>

#include "igemm_args.cuh"
#include "igemm_tile.cuh"

namespace netdef::cuda::igemm {

template <typename Cfg>
class TileLoader {
 public:
  using T = typename Cfg::Element;

  // Starts at reduction step `firstStep` (a split-K slice's first; 0 without split-K).
  __device__ __forceinline__ TileLoader(const ConvArgs& a, int tileM, int tileN, int thread, int firstStep)
      : chunk_(thread % Cfg::kRowChunks), row0_(thread / Cfg::kRowChunks), k_(firstStep * Cfg::kBlockK + chunk_ * Cfg::kElementsPerChunk) {
    const int pixels = a.outHeight * a.outWidth;
#pragma unroll
    for (int i = 0; i < Cfg::kRowsPerThreadA; ++i) {
      const int m = tileM + row0_ + i * Cfg::kRowsPerPass;
      if (m < a.gemmM) {
        const int n = m / pixels, rest = m - n * pixels;
        const int p = rest / a.outWidth, q = rest - p * a.outWidth;
        imageBase_[i] = static_cast<int64_t>(n) * a.height * a.width * a.xPixelStride;
        h0_[i] = p * a.strideH - a.padTop;
        w0_[i] = q * a.strideW - a.padLeft;
      } else {  // never inside the image
        imageBase_[i] = 0;
        h0_[i] = kOutside;
        w0_[i] = kOutside;
      }
    }
#pragma unroll
    for (int i = 0; i < Cfg::kRowsPerThreadB; ++i) {
      const int n = tileN + row0_ + i * Cfg::kRowsPerPass;
      weightRowValid_[i] = n < a.gemmN;
      weightRow_[i] = static_cast<const T*>(a.w) + static_cast<int64_t>(weightRowValid_[i] ? n : 0) * a.gemmK;
    }
    // k_ = (r_ * S + s_) * C + c_ (r_ may pass R: then k_ >= R * S * C); divisions once, here.
    const int rs = k_ / a.channels;
    c_ = k_ - rs * a.channels;
    r_ = rs / a.kernelW;
    s_ = rs - r_ * a.kernelW;
  }

  // Issues the copies of the current reduction step into one stage's A and B buffers.
  __device__ __forceinline__ void load(uint8_t* stageA, uint8_t* stageB, const ConvArgs& a) const {
    loadA(stageA, a);
    loadB(stageB, a);
  }

  // The A (activation) half of load().
  __device__ __forceinline__ void loadA(uint8_t* stageA, const ConvArgs& a) const {
    const bool kValid = k_ < a.gemmK;
    const T* x = static_cast<const T*>(a.x);
#pragma unroll
    for (int i = 0; i < Cfg::kRowsPerThreadA; ++i) {
      const int h = h0_[i] + r_, w = w0_[i] + s_;
      const bool valid = kValid && static_cast<unsigned>(h) < static_cast<unsigned>(a.height) &&
                         static_cast<unsigned>(w) < static_cast<unsigned>(a.width);
      const T* src = valid ? x + imageBase_[i] + (static_cast<int64_t>(h) * a.width + w) * a.xPixelStride + c_ : x;
      cpAsync16(stageA + Cfg::chunkOffset(row0_ + i * Cfg::kRowsPerPass, chunk_), src, valid);
    }
  }

  // The B (weight) half of load().
  __device__ __forceinline__ void loadB(uint8_t* stageB, const ConvArgs& a) const {
    const bool kValid = k_ < a.gemmK;
#pragma unroll
    for (int i = 0; i < Cfg::kRowsPerThreadB; ++i) {
      const bool valid = kValid && weightRowValid_[i];
      cpAsync16(stageB + Cfg::chunkOffset(row0_ + i * Cfg::kRowsPerPass, chunk_), valid ? weightRow_[i] + k_ : weightRow_[0],
                valid);
    }
  }

  // Moves to the next reduction step (kBlockK elements on).
  __device__ __forceinline__ void advance(const ConvArgs& a) {
    k_ += Cfg::kBlockK;
    c_ += Cfg::kBlockK;
    carry(a);
  }

 private:
  static constexpr int kOutside = INT_MIN / 2;

  // Normalises c_ into [0, C), stepping s_ and r_ (r_ may pass R: then k_ >= R * S * C).
  __device__ __forceinline__ void carry(const ConvArgs& a) {
    while (c_ >= a.channels) {
      c_ -= a.channels;
      if (++s_ == a.kernelW) {
        s_ = 0;
        ++r_;
      }
    }
  }

  int chunk_, row0_;
  int k_;                // reduction index of this thread's chunk
  int r_ = 0, s_ = 0, c_ = 0;  // its decomposition
  int64_t imageBase_[Cfg::kRowsPerThreadA];
  int h0_[Cfg::kRowsPerThreadA], w0_[Cfg::kRowsPerThreadA];
  const T* weightRow_[Cfg::kRowsPerThreadB];
  bool weightRowValid_[Cfg::kRowsPerThreadB];
};

}  // namespace netdef::cuda::igemm
