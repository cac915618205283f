// The convolution epilogue: see conv_epilogue.cuh.
#include <cuda_fp16.h>

#include "../common/error.h"
#include "conv_epilogue.cuh"
#include "fused_activation.cuh"
#include "ops/op_device.cuh"

namespace netdef::cuda {
namespace {

using ops::fromFloat;
using ops::toFloat;
using ops::Vec;

// Offset in y's storage of dense element i ([N, C, H, W] in the layout's order) when y is a
// channel range of a storage `storage` channels wide.
template <bool kNhwc>
__device__ __forceinline__ int64_t storageIndex(int64_t i, int64_t channels, int64_t pixels, int64_t storage) {
  if (storage == channels) return i;
  if (kNhwc) return i / channels * storage + i % channels;
  const int64_t per = channels * pixels;
  return i / per * storage * pixels + i % per;
}

// One vector per iteration. NHWC: the vector's first channel is (i * kSize) % channels and its
// bias is a vector too; NCHW: one channel per vector, (i * kSize / pixels) % channels. The
// residual vector lies at the same dense index in its own storage.
template <typename T, FusedActivation A, bool kNhwc>
__global__ void epilogueVector(Vec<T>* y, const T* bias, const T* residual, int64_t vectors, int64_t channels, int64_t pixels,
                               int64_t storage, int64_t residualStorage) {
  constexpr int kSize = Vec<T>::kSize;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < vectors; i += stride) {
    Vec<T>* at = y + storageIndex<kNhwc>(i * kSize, channels, pixels, storage) / kSize;
    Vec<T> v = *at;
    Vec<T> r{};
    if (residual) r = *reinterpret_cast<const Vec<T>*>(residual + storageIndex<kNhwc>(i * kSize, channels, pixels, residualStorage));
    Vec<T> b{};
    if (kNhwc && bias) b = *reinterpret_cast<const Vec<T>*>(bias + (i * kSize) % channels);
    const float perChannel = !kNhwc && bias ? toFloat(bias[(i * kSize / pixels) % channels]) : 0.0f;
#pragma unroll
    for (int k = 0; k < kSize; ++k) {
      const float add = kNhwc ? (bias ? toFloat(b.v[k]) : 0.0f) : perChannel;
      v.v[k] = fromFloat<T>(activate<A>(toFloat(v.v[k]) + add) + (residual ? toFloat(r.v[k]) : 0.0f));
    }
    *at = v;
  }
}

template <typename T, FusedActivation A, bool kNhwc>
__global__ void epilogueScalar(T* y, const T* bias, const T* residual, int64_t count, int64_t channels, int64_t pixels, int64_t storage,
                               int64_t residualStorage) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) {
    const int64_t c = kNhwc ? i % channels : (i / pixels) % channels;
    T* at = y + storageIndex<kNhwc>(i, channels, pixels, storage);
    const float r = residual ? toFloat(residual[storageIndex<kNhwc>(i, channels, pixels, residualStorage)]) : 0.0f;
    *at = fromFloat<T>(activate<A>(toFloat(*at) + (bias ? toFloat(bias[c]) : 0.0f)) + r);
  }
}

bool aligned(const void* p) { return ops::isAligned(p, ops::kVectorBytes); }

template <typename T, FusedActivation A, bool kNhwc>
void run(const ConvEpilogueParams& p, cudaStream_t stream) {
  constexpr int kSize = Vec<T>::kSize;
  T* y = static_cast<T*>(p.y);
  const T* bias = static_cast<const T*>(p.bias);
  const T* residual = static_cast<const T*>(p.residual);
  const int64_t count = p.batch * p.channels * p.pixels;
  const int64_t storage = p.storageChannels > 0 ? p.storageChannels : p.channels;
  const int64_t residualStorage = p.residualStorageChannels > 0 ? p.residualStorageChannels : p.channels;
  const bool vectorise = aligned(y) && (!bias || aligned(bias)) && (!residual || aligned(residual)) &&
                         (kNhwc ? p.channels % kSize == 0 && storage % kSize == 0 && residualStorage % kSize == 0 : p.pixels % kSize == 0);
  if (vectorise) {
    const int64_t vectors = count / kSize;
    epilogueVector<T, A, kNhwc><<<ops::gridFor(vectors, ops::kElementwiseBlock), ops::kElementwiseBlock, 0, stream>>>(
        reinterpret_cast<Vec<T>*>(y), bias, residual, vectors, p.channels, p.pixels, storage, residualStorage);
  } else {
    epilogueScalar<T, A, kNhwc><<<ops::gridFor(count, ops::kElementwiseBlock), ops::kElementwiseBlock, 0, stream>>>(
        y, bias, residual, count, p.channels, p.pixels, storage, residualStorage);
  }
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) throw Error(kErrBackend, std::string("conv epilogue: kernel launch failed: ") + cudaGetErrorString(err));
}

template <typename T, FusedActivation A>
void runLayout(const ConvEpilogueParams& p, cudaStream_t stream) {
  if (p.layout == Layout::kNhwc) return run<T, A, true>(p, stream);
  return run<T, A, false>(p, stream);
}

template <typename T>
void runActivation(const ConvEpilogueParams& p, cudaStream_t stream) {
  withActivation(p.activation, [&](auto a) { runLayout<T, decltype(a)::value>(p, stream); });
}

}  // namespace

void launchConvEpilogue(const ConvEpilogueParams& p, cudaStream_t stream) {
  if (p.activation == FusedActivation::kNone && !p.bias && !p.residual) return;
  if (p.batch * p.channels * p.pixels == 0) return;
  if (!p.y) throw Error(kErrInvalidArgument, "conv epilogue: null output");
  if (p.dtype == ir::DType::Float16) return runActivation<__half>(p, stream);
  if (p.dtype == ir::DType::Float32) return runActivation<float>(p, stream);
  throw Error(kErrInvalidArgument, "conv epilogue: float32 or float16 only");
}

}  // namespace netdef::cuda
