// dequantize: see dequantize.cuh.
#include "dequantize.cuh"
#include "op_device.cuh"

namespace netdef::cuda::ops {
namespace {

constexpr const char* kOp = "dequantize";
constexpr int kDequantizeBlock = 256;

template <typename T>
__global__ void dequantizeKernel(const int8_t* x, T* y, const float* scales, int64_t count, int64_t channels,
                                 int64_t inner) {
  for (int64_t i = globalThreadIndex(); i < count; i += globalThreadCount()) {
    const float scale = scales[channels == 1 ? 0 : (i / inner) % channels];
    y[i] = fromFloat<T>(static_cast<float>(x[i]) * scale);
  }
}

template <typename T>
void run(const DequantizeParams& p, cudaStream_t stream) {
  dequantizeKernel<T><<<gridFor(p.count, kDequantizeBlock), kDequantizeBlock, 0, stream>>>(
      p.x, static_cast<T*>(p.y), p.scales, p.count, p.channels, p.inner);
  checkLaunch(kOp);
}

}  // namespace

void launchDequantize(const DequantizeParams& p, cudaStream_t stream) {
  requireFloatType(p.to, kOp);
  requireScaleLayout(p.count, p.channels, p.inner, p.scales, kOp);
  if (p.count == 0) return;
  require(p.x && p.y, kOp, "null x or y");
  if (p.to == ir::DType::Float32) return run<float>(p, stream);
  return run<__half>(p, stream);
}

}  // namespace netdef::cuda::ops
