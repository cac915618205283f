// Device-side helpers shared by the ops' .cu files (never included by host-compiled code):
// float/half conversion to the fp32 compute type, 16-byte vectors, and grid sizing for
// grid-stride loops.
//
// Test: exercised through every op's test in native/tests/ops_*.cu.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace netdef::cuda::ops {

// Threads per block of the one-dimensional elementwise-style kernels.
inline constexpr int kElementwiseBlock = 256;
// Upper bound on blocks of a grid-stride launch (enough to fill any current GPU many times over).
inline constexpr int64_t kMaxGridBlocks = 65535;
// Bytes of one vectorised access.
inline constexpr int kVectorBytes = 16;

// Blocks for a grid-stride loop over `n` items with `block` threads each.
inline unsigned gridFor(int64_t n, int block) {
  int64_t blocks = (n + block - 1) / block;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min(blocks, kMaxGridBlocks)));
}

inline bool isAligned(const void* p, size_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

__device__ __forceinline__ int64_t globalThreadIndex() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t globalThreadCount() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

__device__ __forceinline__ float toFloat(float v) { return v; }
__device__ __forceinline__ float toFloat(__half v) { return __half2float(v); }
__device__ __forceinline__ float toFloat(uint8_t v) { return static_cast<float>(v); }  // exact
__device__ __forceinline__ float toFloat(int8_t v) { return static_cast<float>(v); }   // exact

template <typename T>
__device__ __forceinline__ T fromFloat(float v);
template <>
__device__ __forceinline__ float fromFloat<float>(float v) { return v; }
template <>
__device__ __forceinline__ __half fromFloat<__half>(float v) { return __float2half_rn(v); }
// int8: rounded half to even and saturated (exact for the integers an int8 max pool yields).
template <>
__device__ __forceinline__ int8_t fromFloat<int8_t>(float v) {
  constexpr float kMin = -128.0f, kMax = 127.0f;
  return static_cast<int8_t>(__float2int_rn(fminf(fmaxf(v, kMin), kMax)));
}

// v quantized to int8 at `scale`: IEEE division whatever the build flags, then rounded half to
// even and saturated (the Quantize op's rule, and the int8 convolutions' requantization). (A
// division-free version, v times the scale's inverse with the division only near ties, was exact
// but measured no faster on an H100 on 2026-12-08: docs/benchmarks.md.)
__device__ __forceinline__ int8_t quantizeInt8(float v, float scale) {
  constexpr int kMin = -128, kMax = 127;
  const int q = __float2int_rn(__fdiv_rn(v, scale));
  return static_cast<int8_t>(min(max(q, kMin), kMax));
}

// A float32 result converted to the output type T: int8 requantized at `outputScale` (quantizeInt8),
// float16 rounded to nearest, float32 kept (the int8 convolutions' and the direct kernel's outputs).
template <typename T>
__device__ __forceinline__ T outputOf(float v, float outputScale) {
  if constexpr (std::is_same_v<T, int8_t>) return quantizeInt8(v, outputScale);
  return fromFloat<T>(v);
}

// kVectorBytes worth of T, loaded and stored as one 16-byte access.
template <typename T>
struct alignas(kVectorBytes) Vec {
  static constexpr int kSize = kVectorBytes / sizeof(T);
  T v[kSize];
};

}  // namespace netdef::cuda::ops
