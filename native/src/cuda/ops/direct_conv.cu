// direct_conv: see direct_conv.cuh.
#include <cfloat>
#include <type_traits>

#include "../fused_activation.cuh"
#include "direct_conv.cuh"
#include "op_device.cuh"

namespace netdef::cuda::ops {

// Shape: the receptive field's C, R and S known at compile time (Field<3, 3, 3>: the stem of
// YOLOv8 and most detectors; Field<16, 1, 1>: the DFL's 1x1 convolution over 16 bins), so that
// every tap's offset, bounds test and weight address folds into constants and the loops over taps
// unroll exactly; Field<0, 0, 0> reads them at run time from per-tap tables in shared memory (any
// C x R x S <= kMaxPatch).
template <int C, int R, int S>
struct Field {
  static constexpr int kC = C, kR = R, kS = S;
  static constexpr bool kFixed = C > 0;
  static constexpr int kPatchBound = kFixed ? C * R * S : static_cast<int>(kDirectConvMaxPatch);  // taps the unrolled loops run
  static_assert(kPatchBound <= kDirectConvMaxPatch, "a fixed field fits the register bound too");
};
using AnyField = Field<0, 0, 0>;
using StemField = Field<3, 3, 3>;
using DflField = Field<16, 1, 1>;

namespace {

constexpr const char* kOp = "direct_conv";
constexpr int kBlock = 128;  // threads (output pixels) per block
constexpr int kMaxPatch = static_cast<int>(kDirectConvMaxPatch);
constexpr int kTile = static_cast<int>(kDirectConvChannelTile);
constexpr int kGroup = static_cast<int>(kDirectConvGroup);
constexpr int kFloatsPerLoad = 4;  // one 16-byte shared-memory load of weights
static_assert(kGroup % kFloatsPerLoad == 0 && kTile % kGroup == 0, "a group is whole 16-byte loads, a tile whole groups");

struct alignas(kVectorBytes) Float4 { float v[kFloatsPerLoad]; };

// An int8 convolution's products are integers of at most 128 x 128; their sum over the largest
// field stays below 2^24, where float32 holds every integer: its accumulation is exact.
constexpr int kInt8Magnitude = 128;
constexpr int kFloatExactIntegers = 1 << 24;
static_assert(kMaxPatch * kInt8Magnitude * kInt8Magnitude <= kFloatExactIntegers, "int8 sums exact in float32");

// A group's channels of y (or the residual) at one pixel, stored (loaded) as one access of at
// most 16 bytes: float32 two per group, float16 one, int8 one of 8 bytes.
template <typename T>
struct ChunkOf {
  static constexpr int kSize = kGroup * sizeof(T) < kVectorBytes ? kGroup : kVectorBytes / static_cast<int>(sizeof(T));
  static constexpr int kBytes = kSize * static_cast<int>(sizeof(T));
  struct alignas(kBytes) Type { T v[kSize]; };
};

// A tap's value in the accumulation: x itself, or (an int8 convolution reading a float input, its
// Quantize folded in) x quantized at the input's scale, as the Quantize op does.
template <bool kQuantize, typename TIn>
__device__ __forceinline__ float tapValue(TIn v, float inputScale) {
  if constexpr (kQuantize) return toFloat(quantizeInt8(toFloat(v), inputScale));
  return toFloat(v);
}

// `vectorY`: y (and the residual) take 16-byte stores (loads) of a group's channels (host-checked).
// Index math is 32-bit (the host checks that pixels and one sample's offsets fit): 64-bit division
// and multiplication cost many instructions per thread, which the stem, a memory-light kernel over
// millions of pixels, pays for. Which taps fall inside x is two bit masks (kernel rows and columns)
// per thread rather than four comparisons per tap. F: the field's shape (Field). TW: the weights'
// type, int8 for an int8 convolution (whose bias is float32 and whose accumulator starts at 0, the
// scales and bias applied after); T: y's and the residual's.
template <typename TIn, typename TW, typename T, FusedActivation A, typename F>
__global__ void __launch_bounds__(kBlock) directConvKernel(DirectConvParams p, int pixels, bool vectorY) {
  constexpr bool kInt8 = std::is_same_v<TW, int8_t>;
  constexpr bool kQuantize = kInt8 && !std::is_same_v<TIn, int8_t>;
  using TBias = std::conditional_t<kInt8, float, TW>;
  __shared__ alignas(kVectorBytes) float weights[kMaxPatch * kTile];  // [tap][channel of the tile]
  __shared__ float bias[kTile];
  __shared__ float alpha[kInt8 ? kTile : 1];  // int8: inputScale * weightScales[k]
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
      field[i] = inside ? tapValue<kQuantize>(x[c * strideC + r * strideR + s * strideS], p.inputScale) : 0.0f;
    }
  } else {
#pragma unroll
    for (int i = 0; i < kMaxPatch; ++i) {
      field[i] = 0.0f;
      if (active && i < patch && ((rowInside >> tapRow[i]) & (colInside >> tapCol[i]) & 1u)) {
        field[i] = tapValue<kQuantize>(x[tapOffset[i]], p.inputScale);
      }
    }
  }

  const TW* w = static_cast<const TW*>(p.w);
  const TBias* b = static_cast<const TBias*>(p.bias);
  const T* residual = static_cast<const T*>(p.residual);
  T* y = static_cast<T*>(p.y);
  const int64_t yPixel = static_cast<int64_t>(n) * p.yStrides[0] + static_cast<int64_t>(oh) * p.yStrides[2] + static_cast<int64_t>(ow) * p.yStrides[3];
  const int64_t rPixel = static_cast<int64_t>(n) * p.residualStrides[0] + static_cast<int64_t>(oh) * p.residualStrides[2] +
                         static_cast<int64_t>(ow) * p.residualStrides[3];
  for (int64_t k0 = 0; k0 < p.outChannels; k0 += kTile) {
    const int tile = static_cast<int>(p.outChannels - k0 < kTile ? p.outChannels - k0 : kTile);
    __syncthreads();  // the previous tile's weights are no longer read
    for (int j = threadIdx.x; j < tile * patch; j += kBlock) weights[j % patch * kTile + j / patch] = toFloat(w[k0 * patch + j]);
    for (int j = threadIdx.x; j < tile; j += kBlock) {
      bias[j] = b ? toFloat(b[k0 + j]) : 0.0f;
      if constexpr (kInt8) alpha[j] = p.inputScale * p.weightScales[k0 + j];
    }
    __syncthreads();
    if (!active) continue;
    for (int g0 = 0; g0 < tile; g0 += kGroup) {
      float acc[kGroup];
#pragma unroll
      for (int g = 0; g < kGroup; ++g) acc[g] = !kInt8 && g0 + g < tile ? bias[g0 + g] : 0.0f;
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
      // The activated value of the group's channel g (an int8 convolution's scales and bias first).
      auto activated = [&](int g) {
        if constexpr (kInt8) return activate<A>(fmaf(acc[g], alpha[g0 + g], bias[g0 + g]));
        return activate<A>(acc[g]);
      };
      const int64_t k = k0 + g0;
      if (vectorY) {  // kGroup channels, contiguous and aligned
        using Chunk = typename ChunkOf<T>::Type;
        constexpr int kPer = ChunkOf<T>::kSize;
#pragma unroll
        for (int q = 0; q < kGroup / kPer; ++q) {
          Chunk r{};
          if (residual) r = *reinterpret_cast<const Chunk*>(residual + rPixel + k + q * kPer);
          Chunk out;
#pragma unroll
          for (int e = 0; e < kPer; ++e) {
            const float v = activated(q * kPer + e);
            out.v[e] = outputOf<T>(residual ? v + toFloat(r.v[e]) : v, p.outputScale);
          }
          *reinterpret_cast<Chunk*>(y + yPixel + k + q * kPer) = out;
        }
        continue;
      }
#pragma unroll
      for (int g = 0; g < kGroup; ++g) {
        if (g0 + g >= tile) break;
        const float v = activated(g);
        const float r = residual ? toFloat(residual[rPixel + (k + g) * p.residualStrides[1]]) : 0.0f;
        y[yPixel + (k + g) * p.yStrides[1]] = outputOf<T>(residual ? v + r : v, p.outputScale);
      }
    }
  }
}

// True when every group of kGroup channels of T at any pixel starts on its chunk's boundary
// (ChunkOf) and lies contiguously: channel stride 1, the other strides and the pointer aligned, K
// whole groups.
template <typename T>
bool vectorizable(const void* base, const int64_t* strides, int64_t channels) {
  const int64_t perChunk = ChunkOf<T>::kSize;
  return isAligned(base, ChunkOf<T>::kBytes) && strides[1] == 1 && channels % kGroup == 0 && strides[0] % perChunk == 0 &&
         strides[2] % perChunk == 0 && strides[3] % perChunk == 0;
}

template <typename TIn, typename TW, typename T>
void run(const DirectConvParams& p, cudaStream_t stream) {
  const int64_t pixels = p.batch * p.outHeight * p.outWidth;
  const int64_t blocks = (pixels + kBlock - 1) / kBlock;
  require(blocks * kBlock <= INT32_MAX, kOp, "too many output pixels for one launch (32-bit indices)");
  const bool vectorY = vectorizable<T>(p.y, p.yStrides, p.outChannels) &&
                       (!p.residual || vectorizable<T>(p.residual, p.residualStrides, p.outChannels));
  auto is = [&](auto field) {
    using F = decltype(field);
    return p.inChannels == F::kC && p.kernel[0] == F::kR && p.kernel[1] == F::kS;
  };
  withActivation(p.activation, [&](auto a) {
    if (is(StemField{})) {
      directConvKernel<TIn, TW, T, decltype(a)::value, StemField><<<static_cast<unsigned>(blocks), kBlock, 0, stream>>>(p, static_cast<int>(pixels), vectorY);
    } else if (is(DflField{})) {
      directConvKernel<TIn, TW, T, decltype(a)::value, DflField><<<static_cast<unsigned>(blocks), kBlock, 0, stream>>>(p, static_cast<int>(pixels), vectorY);
    } else {
      directConvKernel<TIn, TW, T, decltype(a)::value, AnyField><<<static_cast<unsigned>(blocks), kBlock, 0, stream>>>(p, static_cast<int>(pixels), vectorY);
    }
  });
  checkLaunch(kOp);
}

// A float convolution: weights, bias, y and the residual in its dtype.
template <typename TIn>
void runFloat(const DirectConvParams& p, cudaStream_t stream) {
  if (p.dtype == ir::DType::Float16) return run<TIn, __half, __half>(p, stream);
  return run<TIn, float, float>(p, stream);
}

// An int8 convolution, by the output's dtype.
template <typename TIn>
void runInt8(const DirectConvParams& p, cudaStream_t stream) {
  if (p.outDtype == ir::DType::Int8) return run<TIn, int8_t, int8_t>(p, stream);
  if (p.outDtype == ir::DType::Float16) return run<TIn, int8_t, __half>(p, stream);
  return run<TIn, int8_t, float>(p, stream);
}

bool positiveScale(float s) { return s > 0 && s <= FLT_MAX; }

void checkTypes(const DirectConvParams& p) {
  if (p.dtype != ir::DType::Int8) {
    requireFloatType(p.inDtype, kOp);
    requireFloatType(p.dtype, kOp);
    require(p.outDtype == p.dtype, kOp, "a float convolution's output is in its dtype");
    return;
  }
  require(p.inDtype == ir::DType::Int8 || p.inDtype == ir::DType::Float32 || p.inDtype == ir::DType::Float16, kOp,
          "an int8 convolution reads int8, float32 or float16");
  require(p.outDtype == ir::DType::Int8 || p.outDtype == ir::DType::Float32 || p.outDtype == ir::DType::Float16, kOp,
          "an int8 convolution writes int8, float32 or float16");
  require(positiveScale(p.inputScale), kOp, "an int8 convolution needs a positive, finite input scale");
  require(p.outDtype != ir::DType::Int8 || positiveScale(p.outputScale), kOp, "an int8 output needs a positive, finite output scale");
  require(p.residual == nullptr, kOp, "an int8 convolution takes no residual here");
}

}  // namespace

void launchDirectConv(const DirectConvParams& p, cudaStream_t stream) {
  checkTypes(p);
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
  require(p.dtype != ir::DType::Int8 || p.weightScales, kOp, "an int8 convolution needs its weight scales");
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
  if (p.dtype == ir::DType::Int8) {
    if (p.inDtype == ir::DType::Int8) return runInt8<int8_t>(p, stream);
    if (p.inDtype == ir::DType::Float16) return runInt8<__half>(p, stream);
    return runInt8<float>(p, stream);
  }
  if (p.inDtype == ir::DType::Float16) return runFloat<__half>(p, stream);
  return runFloat<float>(p, stream);
}

}  // namespace netdef::cuda::ops
