// resize_nearest: see resize_nearest.cuh.
#include "op_device.cuh"
#include "resize_nearest.cuh"

namespace netdef::cuda::ops {
namespace {

constexpr const char* kOp = "resize_nearest";
constexpr int kResizeBlock = 256;

struct ResizeGeometry {
  int64_t height, width, scaleH, scaleW;
};

template <typename U>
__global__ void resizeNearestKernel(const U* x, U* y, int64_t count, ResizeGeometry g) {
  const int64_t outW = g.width * g.scaleW, outH = g.height * g.scaleH;
  for (int64_t i = globalThreadIndex(); i < count; i += globalThreadCount()) {
    const int64_t u = i % outW;
    const int64_t v = (i / outW) % outH;
    const int64_t plane = i / (outW * outH);
    y[i] = x[(plane * g.height + v / g.scaleH) * g.width + u / g.scaleW];
  }
}

template <typename U>
void run(const ResizeNearestParams& p, cudaStream_t stream) {
  const ResizeGeometry g{p.height, p.width, p.scaleH, p.scaleW};
  const int64_t count = p.outer * p.height * p.scaleH * p.width * p.scaleW;
  resizeNearestKernel<U><<<gridFor(count, kResizeBlock), kResizeBlock, 0, stream>>>(
      static_cast<const U*>(p.x), static_cast<U*>(p.y), count, g);
  checkLaunch(kOp);
}

}  // namespace

void launchResizeNearest(const ResizeNearestParams& p, cudaStream_t stream) {
  const size_t bytes = elementBytes(p.dtype);
  require(bytes > 0, kOp, "unknown dtype");
  require(p.outer >= 0 && p.height >= 0 && p.width >= 0, kOp, "negative dimension");
  require(p.scaleH >= 1 && p.scaleW >= 1, kOp, "scales must be integers >= 1");
  if (p.outer * p.height * p.width == 0) return;
  require(p.x && p.y, kOp, "null x or y");
  switch (bytes) {
    case 1: return run<uint8_t>(p, stream);
    case 2: return run<uint16_t>(p, stream);
    case 4: return run<uint32_t>(p, stream);
    case 8: return run<uint64_t>(p, stream);
  }
  throw Error(kErrBackend, std::string(kOp) + ": no unit for element size " + std::to_string(bytes));
}

}  // namespace netdef::cuda::ops
