// activation: see activation.cuh.
#include "activation.cuh"
#include "op_device.cuh"

namespace netdef::cuda::ops {
namespace {

constexpr const char* kOp = "activation";

template <ir::Activation A>
__device__ __forceinline__ float activate(float v) {
  if constexpr (A == ir::Activation::Silu) return v / (1.0f + expf(-v));
  if constexpr (A == ir::Activation::Sigmoid) return 1.0f / (1.0f + expf(-v));
  if constexpr (A == ir::Activation::Relu) return fmaxf(v, 0.0f);
}

// Elements [start, count), one at a time.
template <typename T, ir::Activation A>
__global__ void activationScalarKernel(const T* x, T* y, const T* bias, int64_t start, int64_t count,
                                       int64_t channels, int64_t spatial) {
  for (int64_t i = start + globalThreadIndex(); i < count; i += globalThreadCount()) {
    float b = bias ? toFloat(bias[(i / spatial) % channels]) : 0.0f;
    y[i] = fromFloat<T>(activate<A>(toFloat(x[i]) + b));
  }
}

// Vectors [0, vectors): each lies inside one channel (spatial % Vec<T>::kSize == 0 when biased).
template <typename T, ir::Activation A>
__global__ void activationVectorKernel(const Vec<T>* x, Vec<T>* y, const T* bias, int64_t vectors,
                                       int64_t channels, int64_t spatial) {
  for (int64_t i = globalThreadIndex(); i < vectors; i += globalThreadCount()) {
    Vec<T> in = x[i];
    float b = bias ? toFloat(bias[(i * Vec<T>::kSize / spatial) % channels]) : 0.0f;
    Vec<T> out;
#pragma unroll
    for (int k = 0; k < Vec<T>::kSize; ++k) out.v[k] = fromFloat<T>(activate<A>(toFloat(in.v[k]) + b));
    y[i] = out;
  }
}

template <typename T, ir::Activation A>
void run(const ActivationParams& p, cudaStream_t stream) {
  const T* x = static_cast<const T*>(p.x);
  T* y = static_cast<T*>(p.y);
  const T* bias = static_cast<const T*>(p.bias);
  const int64_t count = p.batch * p.channels * p.spatial;
  constexpr int kWidth = Vec<T>::kSize;
  const bool vectorise = isAligned(x, kVectorBytes) && isAligned(y, kVectorBytes) && (!bias || p.spatial % kWidth == 0);
  int64_t scalarStart = 0;
  if (vectorise) {
    const int64_t vectors = count / kWidth;
    if (vectors > 0) {
      activationVectorKernel<T, A><<<gridFor(vectors, kElementwiseBlock), kElementwiseBlock, 0, stream>>>(
          reinterpret_cast<const Vec<T>*>(x), reinterpret_cast<Vec<T>*>(y), bias, vectors, p.channels, p.spatial);
      checkLaunch(kOp);
    }
    scalarStart = vectors * kWidth;
  }
  if (scalarStart < count) {
    activationScalarKernel<T, A><<<gridFor(count - scalarStart, kElementwiseBlock), kElementwiseBlock, 0, stream>>>(
        x, y, bias, scalarStart, count, p.channels, p.spatial);
    checkLaunch(kOp);
  }
}

template <typename T>
void runType(const ActivationParams& p, cudaStream_t stream) {
  switch (p.op) {
    case ir::Activation::Silu: return run<T, ir::Activation::Silu>(p, stream);
    case ir::Activation::Sigmoid: return run<T, ir::Activation::Sigmoid>(p, stream);
    case ir::Activation::Relu: return run<T, ir::Activation::Relu>(p, stream);
  }
  throwInvalid(kOp, "unknown activation");
}

}  // namespace

void launchActivation(const ActivationParams& p, cudaStream_t stream) {
  requireFloatType(p.dtype, kOp);
  require(p.batch >= 0 && p.channels >= 0 && p.spatial >= 0, kOp, "negative dimension");
  if (p.batch * p.channels * p.spatial == 0) return;
  require(p.x && p.y, kOp, "null x or y");
  if (p.dtype == ir::DType::Float32) return runType<float>(p, stream);
  return runType<__half>(p, stream);
}

}  // namespace netdef::cuda::ops
