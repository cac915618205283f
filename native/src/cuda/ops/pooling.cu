// pooling: see pooling.cuh.
#include <cmath>

#include "op_device.cuh"
#include "pooling.cuh"

namespace netdef::cuda::ops {
namespace {

constexpr const char* kOp = "pooling";
constexpr int kPoolingBlock = 256;

struct PoolGeometry {
  int64_t height, width, outHeight, outWidth;
  int64_t kernelH, kernelW, strideH, strideW, padTop, padLeft;
};

// Output element i of planes [batch*channels, outHeight, outWidth]; windows walked row-major, so
// the CPU reference can add in the same order.
template <typename T, ir::PoolingOp Op>
__global__ void poolingKernel(const T* x, T* y, int64_t count, PoolGeometry g) {
  for (int64_t i = globalThreadIndex(); i < count; i += globalThreadCount()) {
    const int64_t ox = i % g.outWidth;
    const int64_t oy = (i / g.outWidth) % g.outHeight;
    const int64_t plane = i / (g.outWidth * g.outHeight);
    const T* in = x + plane * g.height * g.width;
    const int64_t y0 = oy * g.strideH - g.padTop, x0 = ox * g.strideW - g.padLeft;
    float acc = Op == ir::PoolingOp::Max ? -INFINITY : 0.0f;
    for (int64_t ky = 0; ky < g.kernelH; ++ky) {
      const int64_t iy = y0 + ky;
      if (iy < 0 || iy >= g.height) continue;
      for (int64_t kx = 0; kx < g.kernelW; ++kx) {
        const int64_t ix = x0 + kx;
        if (ix < 0 || ix >= g.width) continue;
        const float v = toFloat(in[iy * g.width + ix]);
        acc = Op == ir::PoolingOp::Max ? fmaxf(acc, v) : acc + v;
      }
    }
    if (Op == ir::PoolingOp::Average) acc = acc / static_cast<float>(g.kernelH * g.kernelW);
    y[i] = fromFloat<T>(acc);
  }
}

template <typename T, ir::PoolingOp Op>
void run(const PoolingParams& p, const PoolGeometry& g, cudaStream_t stream) {
  const int64_t count = p.batch * p.channels * g.outHeight * g.outWidth;
  poolingKernel<T, Op><<<gridFor(count, kPoolingBlock), kPoolingBlock, 0, stream>>>(
      static_cast<const T*>(p.x), static_cast<T*>(p.y), count, g);
  checkLaunch(kOp);
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
  const PoolGeometry g{p.height, p.width, outH, outW, p.kernel[0], p.kernel[1],
                       p.stride[0], p.stride[1], p.padding[0], p.padding[1]};
  if (p.dtype == ir::DType::Float32) return runType<float>(p, g, stream);
  if (p.dtype == ir::DType::Int8) return run<int8_t, ir::PoolingOp::Max>(p, g, stream);
  return runType<__half>(p, g, stream);
}

}  // namespace netdef::cuda::ops
