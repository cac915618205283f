// softmax: see softmax.cuh.
#include <cmath>

#include "op_device.cuh"
#include "softmax.cuh"

namespace netdef::cuda::ops {
namespace {

constexpr const char* kOp = "softmax";
constexpr int kSoftmaxBlock = 256;

// Three passes over the column (max, sum, write); x is read again rather than kept in registers,
// since the axis length is only known at run time.
template <typename T>
__global__ void softmaxKernel(const T* x, T* y, int64_t columns, int64_t axis, int64_t inner) {
  for (int64_t c = globalThreadIndex(); c < columns; c += globalThreadCount()) {
    const int64_t base = (c / inner) * axis * inner + c % inner;
    float maxValue = -INFINITY;
    for (int64_t k = 0; k < axis; ++k) maxValue = fmaxf(maxValue, toFloat(x[base + k * inner]));
    float sum = 0.0f;
    for (int64_t k = 0; k < axis; ++k) sum += expf(toFloat(x[base + k * inner]) - maxValue);
    const float inverse = 1.0f / sum;
    for (int64_t k = 0; k < axis; ++k) {
      const int64_t at = base + k * inner;
      y[at] = fromFloat<T>(expf(toFloat(x[at]) - maxValue) * inverse);
    }
  }
}

template <typename T>
void run(const SoftmaxParams& p, cudaStream_t stream) {
  const int64_t columns = p.outer * p.inner;
  softmaxKernel<T><<<gridFor(columns, kSoftmaxBlock), kSoftmaxBlock, 0, stream>>>(
      static_cast<const T*>(p.x), static_cast<T*>(p.y), columns, p.axis, p.inner);
  checkLaunch(kOp);
}

}  // namespace

void launchSoftmax(const SoftmaxParams& p, cudaStream_t stream) {
  requireFloatType(p.dtype, kOp);
  require(p.outer >= 0 && p.inner >= 0 && p.axis >= 1, kOp, "bad shape (axis must be >= 1)");
  if (p.outer * p.inner == 0) return;
  require(p.x && p.y, kOp, "null x or y");
  if (p.dtype == ir::DType::Float32) return run<float>(p, stream);
  return run<__half>(p, stream);
}

}  // namespace netdef::cuda::ops
