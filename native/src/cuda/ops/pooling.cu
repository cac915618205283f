// pooling: see pooling.cuh.
#include <cmath>

#include "op_device.cuh"
#include "pooling.cuh"

namespace netdef::cuda::ops {
namespace {

constexpr const char* kOp = "pooling";
constexpr int kPoolingBlock = 256;

struct PoolGeometry {
  int64_t channels, height, width, outHeight, outWidth;
  int64_t kernelH, kernelW, strideH, strideW, padTop, padLeft;
  int64_t xs[4], ys[4];  // element strides: batch, channel, row, column
};

// Output element i, counted channel-fastest when kChannelsMinor (y is NHWC-like), else column-
// fastest; windows walked row-major, so the CPU reference can add in the same order. kVec > 1
// (channels-minor only): a thread computes kVec adjacent channels with one 16-byte load per window
// cell and one store (NHWC with aligned channel counts, strides and pointers: SPPF's pools), so
// the index arithmetic and the load instructions are spread over kVec channels.
template <typename T, ir::PoolingOp Op, bool kChannelsMinor, int kVec>
__global__ void poolingKernel(const T* x, T* y, int64_t count, PoolGeometry g) {
  static_assert(kVec == 1 || kChannelsMinor, "vectors run along contiguous channels");
  using V = Vec<T>;
  static_assert(kVec == 1 || kVec == V::kSize, "a vector is one 16-byte access");
  const int64_t groups = g.channels / kVec;
  for (int64_t i = globalThreadIndex(); i < count; i += globalThreadCount()) {
    int64_t c, ox, oy, n;
    if (kChannelsMinor) {
      c = (i % groups) * kVec;
      ox = (i / groups) % g.outWidth;
      oy = (i / (groups * g.outWidth)) % g.outHeight;
      n = i / (groups * g.outWidth * g.outHeight);
    } else {
      ox = i % g.outWidth;
      oy = (i / g.outWidth) % g.outHeight;
      c = (i / (g.outWidth * g.outHeight)) % g.channels;
      n = i / (g.outWidth * g.outHeight * g.channels);
    }
    const T* in = x + n * g.xs[0] + c * g.xs[1];
    const int64_t y0 = oy * g.strideH - g.padTop, x0 = ox * g.strideW - g.padLeft;
    float acc[kVec];
    for (int k = 0; k < kVec; ++k) acc[k] = Op == ir::PoolingOp::Max ? -INFINITY : 0.0f;
    for (int64_t ky = 0; ky < g.kernelH; ++ky) {
      const int64_t iy = y0 + ky;
      if (iy < 0 || iy >= g.height) continue;
      for (int64_t kx = 0; kx < g.kernelW; ++kx) {
        const int64_t ix = x0 + kx;
        if (ix < 0 || ix >= g.width) continue;
        const T* at = in + iy * g.xs[2] + ix * g.xs[3];
        V v;  // only v.v[0] used when kVec == 1
        if constexpr (kVec > 1) {
          v = *reinterpret_cast<const V*>(at);
        } else {
          v.v[0] = *at;
        }
        for (int k = 0; k < kVec; ++k) acc[k] = Op == ir::PoolingOp::Max ? fmaxf(acc[k], toFloat(v.v[k])) : acc[k] + toFloat(v.v[k]);
      }
    }
    V out;
    for (int k = 0; k < kVec; ++k) {
      if (Op == ir::PoolingOp::Average) acc[k] = acc[k] / static_cast<float>(g.kernelH * g.kernelW);
      out.v[k] = fromFloat<T>(acc[k]);
    }
    T* to = y + n * g.ys[0] + c * g.ys[1] + oy * g.ys[2] + ox * g.ys[3];
    if constexpr (kVec > 1) {
      *reinterpret_cast<V*>(to) = out;
    } else {
      *to = out.v[0];
    }
  }
}

// Whether the vector path applies: channels contiguous in x and y, every other stride, the channel
// count and both pointers keeping 16-byte alignment.
template <typename T>
bool vectorizable(const PoolingParams& p, const PoolGeometry& g) {
  constexpr int64_t kSize = Vec<T>::kSize;
  if (g.xs[1] != 1 || g.ys[1] != 1 || g.channels % kSize != 0 || !isAligned(p.x, kVectorBytes) || !isAligned(p.y, kVectorBytes)) return false;
  for (int i : {0, 2, 3})
    if (g.xs[i] % kSize != 0 || g.ys[i] % kSize != 0) return false;
  return true;
}

template <typename T, ir::PoolingOp Op>
void run(const PoolingParams& p, const PoolGeometry& g, cudaStream_t stream) {
  const int64_t count = p.batch * p.channels * g.outHeight * g.outWidth;
  const T* x = static_cast<const T*>(p.x);
  T* y = static_cast<T*>(p.y);
  if (vectorizable<T>(p, g)) {
    constexpr int kSize = Vec<T>::kSize;
    poolingKernel<T, Op, true, kSize><<<gridFor(count / kSize, kPoolingBlock), kPoolingBlock, 0, stream>>>(x, y, count / kSize, g);
  } else if (g.ys[1] == 1 && g.channels > 1) {
    poolingKernel<T, Op, true, 1><<<gridFor(count, kPoolingBlock), kPoolingBlock, 0, stream>>>(x, y, count, g);
  } else {
    poolingKernel<T, Op, false, 1><<<gridFor(count, kPoolingBlock), kPoolingBlock, 0, stream>>>(x, y, count, g);
  }
  checkLaunch(kOp);
}

// Given strides, or dense NCHW ones when all are zero.
void stridesOr(const int64_t* given, int64_t c, int64_t h, int64_t w, int64_t* out) {
  const bool none = given[0] == 0 && given[1] == 0 && given[2] == 0 && given[3] == 0;
  const int64_t dense[4] = {c * h * w, h * w, w, 1};
  for (int i = 0; i < 4; ++i) out[i] = none ? dense[i] : given[i];
}

template <typename T>
void runType(const PoolingParams& p, const PoolGeometry& g, cudaStream_t stream) {
  if (p.op == ir::PoolingOp::Max) return run<T, ir::PoolingOp::Max>(p, g, stream);
  return run<T, ir::PoolingOp::Average>(p, g, stream);
}

}  // namespace

void launchPooling(const PoolingParams& p, cudaStream_t stream) {
  require(p.op == ir::PoolingOp::Max || p.op == ir::PoolingOp::Average, kOp, "unknown pooling op");
  if (p.dtype == ir::DType::Int8) {
    require(p.op == ir::PoolingOp::Max, kOp, "int8 pools by max only (an average would need requantizing)");
  } else {
    requireFloatType(p.dtype, kOp);
  }
  require(p.batch >= 0 && p.channels >= 0 && p.height > 0 && p.width > 0, kOp, "bad input shape");
  require(p.kernel[0] > 0 && p.kernel[1] > 0 && p.stride[0] > 0 && p.stride[1] > 0, kOp, "kernel and stride must be > 0");
  for (int axis = 0; axis < 2; ++axis) {
    // A pad as large as the kernel would allow windows of padding only (PyTorch refuses pad > k/2).
    require(p.padding[axis] >= 0 && p.padding[axis + 2] >= 0, kOp, "negative padding");
    require(p.padding[axis] < p.kernel[axis] && p.padding[axis + 2] < p.kernel[axis], kOp, "padding must be < kernel");
  }
  const int64_t outH = poolingOutputSize(p.height, p.kernel[0], p.stride[0], p.padding[0], p.padding[2]);
  const int64_t outW = poolingOutputSize(p.width, p.kernel[1], p.stride[1], p.padding[1], p.padding[3]);
  if (outH != p.outHeight || outW != p.outWidth || outH <= 0 || outW <= 0) {
    throwInvalid(kOp, "output size " + std::to_string(p.outHeight) + "x" + std::to_string(p.outWidth) +
                          " does not match the computed " + std::to_string(outH) + "x" + std::to_string(outW));
  }
  if (p.batch * p.channels == 0) return;
  require(p.x && p.y, kOp, "null x or y");
  PoolGeometry g{p.channels, p.height, p.width, outH, outW, p.kernel[0], p.kernel[1], p.stride[0], p.stride[1], p.padding[0], p.padding[1], {}, {}};
  stridesOr(p.xStrides, p.channels, p.height, p.width, g.xs);
  stridesOr(p.yStrides, p.channels, outH, outW, g.ys);
  if (p.dtype == ir::DType::Float32) return runType<float>(p, g, stream);
  if (p.dtype == ir::DType::Int8) return run<int8_t, ir::PoolingOp::Max>(p, g, stream);
  return runType<__half>(p, g, stream);
}

}  // namespace netdef::cuda::ops
