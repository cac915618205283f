// quantize: see quantize.cuh.
#include "op_device.cuh"
#include "quantize.cuh"

namespace netdef::cuda::ops {
namespace {

constexpr const char* kOp = "quantize";
constexpr int kQuantizeBlock = 256;

template <typename T>
__global__ void quantizeKernel(const T* x, int8_t* y, const float* scales, int64_t count, int64_t channels,
                               int64_t inner) {
  for (int64_t i = globalThreadIndex(); i < count; i += globalThreadCount()) {
    const float scale = scales[channels == 1 ? 0 : (i / inner) % channels];
    y[i] = quantizeInt8(toFloat(x[i]), scale);
  }
}

template <typename T>
void run(const QuantizeParams& p, cudaStream_t stream) {
  quantizeKernel<T><<<gridFor(p.count, kQuantizeBlock), kQuantizeBlock, 0, stream>>>(
      static_cast<const T*>(p.x), p.y, p.scales, p.count, p.channels, p.inner);
  checkLaunch(kOp);
}

}  // namespace

void launchQuantize(const QuantizeParams& p, cudaStream_t stream) {
  requireFloatType(p.dtype, kOp);
  requireScaleLayout(p.count, p.channels, p.inner, p.scales, kOp);
  if (p.count == 0) return;
  require(p.x && p.y, kOp, "null x or y");
  if (p.dtype == ir::DType::Float32) return run<float>(p, stream);
  return run<__half>(p, stream);
}

}  // namespace netdef::cuda::ops
