// direct_conv: see direct_conv.cuh.
#include "../fused_activation.cuh"
#include "direct_conv.cuh"
#include "op_device.cuh"

namespace netdef::cuda::ops {

// Shape: the receptive field's C, R and S known at compile time (Field<3, 3, 3>: the stem of
// YOLOv8 and most detectors), so that every tap's offset, bounds test and weight address folds
// into constants and the loops over taps unroll exactly; Field<0, 0, 0> reads them at run time
// from per-tap tables in shared memory (any C x R x S <= kMaxPatch).
template <int C, int R, int S>
struct Field {
  static constexpr int kC = C, kR = R, kS = S;
  static constexpr bool kFixed = C > 0;
  static constexpr int kPatchBound = kFixed ? C * R * S : static_cast<int>(kDirectConvMaxPatch);  // taps the unrolled loops run
  static_assert(kPatchBound <= kDirectConvMaxPatch, "a fixed field fits the register bound too");
};
using AnyField = Field<0, 0, 0>;
using StemField = Field<3, 3, 3>;

namespace {

constexpr const char* kOp = "direct_conv";
constexpr int kBlock = 128;  // threads (output pixels) per block
constexpr int kMaxPatch = static_cast<int>(kDirectConvMaxPatch);
constexpr int kTile = static_cast<int>(kDirectConvChannelTile);
constexpr int kGroup = static_cast<int>(kDirectConvGroup);
constexpr int kFloatsPerLoad = 4;  // one 16-byte shared-memory load of weights
static_assert(kGroup % kFloatsPerLoad == 0 && kTile % kGroup == 0, "a group is whole 16-byte loads, a tile whole groups");

struct alignas(kVectorBytes) Float4 { float v[kFloatsPerLoad]; };

// `vectorY`: y (and the residual) take 16-byte stores (loads) of a group's channels (host-checked).
// Index math is 32-bit (the host checks that pixels and one sample's offsets fit): 64-bit division
// and multiplication cost many instructions per thread, which the stem, a memory-light kernel over
// millions of pixels, pays for. Which taps fall inside x is two bit masks (kernel rows and columns)
// per thread rather than four comparisons per tap. F: the field's shape (Field).
template <typename TIn, typename T, FusedActivation A, typename F>
__global__ void __launch_bounds__(kBlock) directConvKernel(DirectConvParams p, int pixels, bool vectorY) {
  __shared__ alignas(kVectorBytes) float weights[kMaxPatch * kTile];  // [tap][channel of the tile]
  __shared__ float bias[kTile];
  __shared__ int tapOffset[F::kFixed ? 1 : kMaxPatch];  // within one sample, from the field's top-left cell
  __shared__ uint8_t tapRow[F::kFixed ? 1 : kMaxPatch], tapCol[F::kFixed ? 1 : kMaxPatch];  // the tap's kernel row and column
  const int kernelH = static_cast<int>(p.kernel[0]), kernelW = static_cast<int>(p.kernel[1]);
  const int dilationH = static_cast<int>(p.dilation[0]), dilationW = static_cast<int>(p.dilation[1]);
  const int rs = kernelH * kernelW;
  const int patch = F::kFixed ? F::kPatchBound : static_cast<int>(p.inChannels) * rs;
  if constexpr (!F::kFixed) {
    for (int i = threadIdx.x; i < patch; i += kBlock) {  // tap i = (c * R + r) * S + s, the KCRS order
      const int c = i / rs, r = i % rs / kernelW, s = i % kernelW;
      tapRow[i] = static_cast<uint8_t>(r);
      tapCol[i] = static_cast<uint8_t>(s);
      tapOffset[i] = static_cast<int>(c * p.xStrides[1] + r * dilationH * p.xStrides[2] + s * dilationW * p.xStrides[3]);
    }
    __syncthreads();
  }

  const int pixel = static_cast<int>(blockIdx.x) * kBlock + static_cast<int>(threadIdx.x);
  const bool active = pixel < pixels;
  const int outW = static_cast<int>(p.outWidth), outH = static_cast<int>(p.outHeight);
  const int ow = pixel % outW, rowOfBatch = pixel / outW, oh = rowOfBatch % outH, n = rowOfBatch / outH;
  const int ih0 = oh * static_cast<int>(p.stride[0]) - static_cast<int>(p.padding[0]);
  const int iw0 = ow * static_cast<int>(p.stride[1]) - static_cast<int>(p.padding[1]);
  uint32_t rowInside = 0, colInside = 0;  // bit r: kernel row r lands inside x (bit s: column s)
  for (int r = 0; r < kernelH; ++r) rowInside |= static_cast<uint32_t>(static_cast<unsigned>(ih0 + r * dilationH) < static_cast<unsigned>(p.height)) << r;
  for (int s = 0; s < kernelW; ++s) colInside |= static_cast<uint32_t>(static_cast<unsigned>(iw0 + s * dilationW) < static_cast<unsigned>(p.width)) << s;
  const TIn* x = static_cast<const TIn*>(p.x) + static_cast<int64_t>(n) * p.xStrides[0] + static_cast<int64_t>(ih0) * p.xStrides[2] +
                 static_cast<int64_t>(iw0) * p.xStrides[3];
  float field[F::kPatchBound];
  if constexpr (F::kFixed) {
    const int strideC = static_cast<int>(p.xStrides[1]), strideR = static_cast<int>(dilationH * p.xStrides[2]),
              strideS = static_cast<int>(dilationW * p.xStrides[3]);
#pragma unroll
    for (int i = 0; i < F::kPatchBound; ++i) {
      constexpr int kRS = F::kR * F::kS;
      const int c = i / kRS, r = i % kRS / F::kS, s = i % F::kS;  // constants once unrolled
      const bool inside = active && ((rowInside >> r) & (colInside >> s) & 1u);
      field[i] = inside ? toFloat(x[c * strideC + r * strideR + s * strideS]) : 0.0f;
    }
  } else {
#pragma unroll
    for (int i = 0; i < kMaxPatch; ++i) {
      field[i] = 0.0f;
      if (active && i < patch && ((rowInside >> tapRow[i]) & (colInside >> tapCol[i]) & 1u)) field[i] = toFloat(x[tapOffset[i]]);
    }
  }

  const T* w = static_cast<const T*>(p.w);
  const T* b = static_cast<const T*>(p.bias);
  const T* residual = static_cast<const T*>(p.residual);
  T* y = static_cast<T*>(p.y);
  const int64_t yPixel = static_cast<int64_t>(n) * p.yStrides[0] + static_cast<int64_t>(oh) * p.yStrides[2] + static_cast<int64_t>(ow) * p.yStrides[3];
  const int64_t rPixel = static_cast<int64_t>(n) * p.residualStrides[0] + static_cast<int64_t>(oh) * p.residualStrides[2] +
                         static_cast<int64_t>(ow) * p.residualStrides[3];
  for (int64_t k0 = 0; k0 < p.outChannels; k0 += kTile) {
    const int tile = static_cast<int>(p.outChannels - k0 < kTile ? p.outChannels - k0 : kTile);
    __syncthreads();  // the previous tile's weights are no longer read
    for (int j = threadIdx.x; j < tile * patch; j += kBlock) weights[j % patch * kTile + j / patch] = toFloat(w[k0 * patch + j]);
    for (int j = threadIdx.x; j < tile; j += kBlock) bias[j] = b ? toFloat(b[k0 + j]) : 0.0f;
    __syncthreads();
    if (!active) continue;
    for (int g0 = 0; g0 < tile; g0 += kGroup) {
      float acc[kGroup];
#pragma unroll
      for (int g = 0; g < kGroup; ++g) acc[g] = g0 + g < tile ? bias[g0 + g] : 0.0f;
#pragma unroll
      for (int i = 0; i < F::kPatchBound; ++i) {
        if (!F::kFixed && i >= patch) break;
#pragma unroll
        for (int q = 0; q < kGroup / kFloatsPerLoad; ++q) {
          const Float4 wv = *reinterpret_cast<const Float4*>(&weights[i * kTile + g0 + q * kFloatsPerLoad]);
#pragma unroll
          for (int e = 0; e < kFloatsPerLoad; ++e) acc[q * kFloatsPerLoad + e] = fmaf(field[i], wv.v[e], acc[q * kFloatsPerLoad + e]);
        }
      }
      const int64_t k = k0 + g0;
      if (vectorY) {  // kGroup channels, contiguous and aligned
        constexpr int kPer = Vec<T>::kSize;
#pragma unroll
        for (int q = 0; q < kGroup / kPer; ++q) {
          Vec<T> r{};
          if (residual) r = *reinterpret_cast<const Vec<T>*>(residual + rPixel + k + q * kPer);
          Vec<T> out;
#pragma unroll
          for (int e = 0; e < kPer; ++e) out.v[e] = fromFloat<T>(activate<A>(acc[q * kPer + e]) + (residual ? toFloat(r.v[e]) : 0.0f));
          *reinterpret_cast<Vec<T>*>(y + yPixel + k + q * kPer) = out;
        }
        continue;
      }
#pragma unroll
      for (int g = 0; g < kGroup; ++g) {
        if (g0 + g >= tile) break;
        const float r = residual ? toFloat(residual[rPixel + (k + g) * p.residualStrides[1]]) : 0.0f;
        y[yPixel + (k + g) * p.yStrides[1]] = fromFloat<T>(activate<A>(acc[g]) + r);
      }
    }
  }
}

// True when every group of kGroup channels at any pixel starts on a 16-byte boundary and lies
// contiguously: channel stride 1, the other strides and the pointer aligned, K whole groups.
bool vectorizable(const void* base, const int64_t* strides, int64_t channels, size_t elementBytes) {
  const int64_t perVector = static_cast<int64_t>(kVectorBytes / elementBytes);
  return isAligned(base, kVectorBytes) && strides[1] == 1 && channels % kGroup == 0 && strides[0] % perVector == 0 &&
         strides[2] % perVector == 0 && strides[3] % perVector == 0;
}

template <typename TIn, typename T>
void run(const DirectConvParams& p, cudaStream_t stream) {
  const int64_t pixels = p.batch * p.outHeight * p.outWidth;
  const int64_t blocks = (pixels + kBlock - 1) / kBlock;
  require(blocks * kBlock <= INT32_MAX, kOp, "too many output pixels for one launch (32-bit indices)");
  const bool vectorY = vectorizable(p.y, p.yStrides, p.outChannels, sizeof(T)) &&
                       (!p.residual || vectorizable(p.residual, p.residualStrides, p.outChannels, sizeof(T)));
  const bool stem = p.inChannels == StemField::kC && p.kernel[0] == StemField::kR && p.kernel[1] == StemField::kS;
  withActivation(p.activation, [&](auto a) {
    if (stem) {
      directConvKernel<TIn, T, decltype(a)::value, StemField><<<static_cast<unsigned>(blocks), kBlock, 0, stream>>>(p, static_cast<int>(pixels), vectorY);
    } else {
      directConvKernel<TIn, T, decltype(a)::value, AnyField><<<static_cast<unsigned>(blocks), kBlock, 0, stream>>>(p, static_cast<int>(pixels), vectorY);
    }
  });
  checkLaunch(kOp);
}

template <typename TIn>
void runOut(const DirectConvParams& p, cudaStream_t stream) {
  if (p.dtype == ir::DType::Float16) return run<TIn, __half>(p, stream);
  return run<TIn, float>(p, stream);
}

}  // namespace

void launchDirectConv(const DirectConvParams& p, cudaStream_t stream) {
  requireFloatType(p.inDtype, kOp);
  requireFloatType(p.dtype, kOp);
  require(p.batch >= 0, kOp, "negative batch");
  require(p.inChannels > 0 && p.outChannels > 0 && p.height > 0 && p.width > 0 && p.outHeight > 0 && p.outWidth > 0, kOp,
          "sizes must be positive");
  for (int i = 0; i < 2; ++i) require(p.kernel[i] > 0 && p.stride[i] > 0 && p.dilation[i] > 0, kOp, "kernel, stride and dilation must be positive");
  if (p.inChannels * p.kernel[0] * p.kernel[1] > kDirectConvMaxPatch) {
    throwInvalid(kOp, "C x R x S = " + std::to_string(p.inChannels * p.kernel[0] * p.kernel[1]) + " exceeds " +
                          std::to_string(kDirectConvMaxPatch));
  }
  if (p.batch == 0) return;
  require(p.x && p.w && p.y, kOp, "null x, w or y");
  {
    // One sample's taps are 32-bit offsets from the field's corner, and the rows and columns
    // the kernel computes in 32 bits too.
    int64_t extent = 0;
    const int64_t last[4] = {0, p.inChannels - 1, p.height - 1 + p.kernel[0] * p.dilation[0], p.width - 1 + p.kernel[1] * p.dilation[1]};
    for (int d = 1; d < 4; ++d) extent += last[d] * (p.xStrides[d] < 0 ? -p.xStrides[d] : p.xStrides[d]);
    require(extent <= INT32_MAX, kOp, "one sample of x spans more than 2^31 elements (32-bit tap offsets)");
    require(p.height + p.padding[0] + p.kernel[0] * p.dilation[0] <= INT32_MAX &&
                p.width + p.padding[1] + p.kernel[1] * p.dilation[1] <= INT32_MAX &&
                (p.outHeight - 1) * p.stride[0] <= INT32_MAX && (p.outWidth - 1) * p.stride[1] <= INT32_MAX,
            kOp, "rows or columns beyond 32-bit indices");
  }
  if (p.inDtype == ir::DType::Float16) return runOut<__half>(p, stream);
  return runOut<float>(p, stream);
}

}  // namespace netdef::cuda::ops
