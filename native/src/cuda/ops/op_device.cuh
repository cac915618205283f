// Device-side helpers shared by the ops' .cu files (never included by host-compiled code):
// float/half conversion to the fp32 compute type, 16-byte vectors, and grid sizing for
// grid-stride loops.
//
// Test: exercised through every op's test in native/tests/ops_*.cu.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cfloat>
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

// Quantization to int8 at one scale: the IEEE quotient v / scale (whatever the build flags),
// rounded half to even and saturated (the Quantize op's rule, and the int8 convolutions'
// requantization). Bit-exact with that rule, but for almost every value without the division and
// the float-to-int conversion: the quotient is estimated as p = v * inverse (inverse = 1 / scale
// rounded, computed once per quantizer). Against the rounded quotient q, p errs by less than
// |q| * 2^-22 (three roundings of 2^-24 relative), so by less than 2^-14 wherever |p| <=
// kExactBelow. Rounding to the nearest integer changes only at half-integers, so p and q round
// alike unless p lies within kTieMargin (2^-12, well above that error) of one. Beyond kExactBelow
// both saturate (q is then beyond 128.5 too). p rounds to an integer by adding and subtracting
// kRoundMagic (1.5 * 2^23: sums of magnitude below 2^22 land where float32's step is 1, rounded half
// to even), whose bits then hold the integer. Explicitly rounded operations (__fmul_rn, __fadd_rn),
// so no contraction into an fma changes p.
//
// The estimate has no branch; a group of values quantized together (operator() on an array: a
// 16-byte vector of outputs, a convolution's field) takes one branch, to the division, for the
// values near a tie, NaN, and every value of a scale whose inverse is not a normal float
// (subnormal or overflowing). (A first version branched per value: int8 outputs then ran slower
// than with the division, 504 against 570 TOPS on an H100's 3x3 320->320 80x80 batch-32 layer.)
struct Int8Quantizer {
  static constexpr float kExactBelow = 129.0f;
  static constexpr float kTieMargin = 1.0f / 4096.0f;
  static constexpr float kHalf = 0.5f;
  static constexpr float kRoundMagic = 12582912.0f;
  static constexpr int kMin = -128, kMax = 127;
  float scale, inverse;
  bool fast;  // inverse is a normal float: the estimate's error bound holds

  __device__ __forceinline__ explicit Int8Quantizer(float s) {
    scale = s;
    inverse = __fdiv_rn(1.0f, s);
    const float magnitude = fabsf(inverse);
    fast = magnitude >= FLT_MIN && magnitude <= FLT_MAX;
  }

  template <int kCount>
  __device__ __forceinline__ void operator()(const float (&v)[kCount], int8_t (&q)[kCount]) const {
    static_assert(kCount <= 32, "one bit per value");
    uint32_t divide = 0;  // bit j: v[j] takes the division
#pragma unroll
    for (int j = 0; j < kCount; ++j) {
      const float p = __fmul_rn(v[j], inverse), magnitude = fabsf(p);
      const float shifted = __fadd_rn(p, kRoundMagic), rounded = __fsub_rn(shifted, kRoundMagic);
      const bool inRange = magnitude <= kExactBelow, beyond = magnitude > kExactBelow;  // both false for NaN
      const bool nearTie = fabsf(fabsf(__fsub_rn(p, rounded)) - kHalf) < kTieMargin;
      const int estimate = inRange ? __float_as_int(shifted) - __float_as_int(kRoundMagic) : (p > 0.0f ? kMax : kMin);
      q[j] = saturate(estimate);
      divide |= static_cast<uint32_t>(!fast || (inRange ? nearTie : !beyond)) << j;
    }
    if (divide) {
#pragma unroll
      for (int j = 0; j < kCount; ++j)
        if ((divide >> j) & 1u) q[j] = saturate(__float2int_rn(__fdiv_rn(v[j], scale)));
    }
  }

  __device__ __forceinline__ int8_t operator()(float v) const {
    const float one[1] = {v};
    int8_t q[1];
    (*this)(one, q);
    return q[0];
  }

 private:
  __device__ __forceinline__ static int8_t saturate(int q) { return static_cast<int8_t>(min(max(q, kMin), kMax)); }
};

// kCount float32 results converted to T: int8 requantized at `quantize`'s scale (in one group),
// float16 rounded to nearest, float32 kept (the int8 convolutions' and the direct kernel's outputs).
template <typename T, int kCount>
__device__ __forceinline__ void convertAll(const float (&v)[kCount], const Int8Quantizer& quantize, T (&out)[kCount]) {
  if constexpr (std::is_same_v<T, int8_t>) {
    quantize(v, out);
  } else {
#pragma unroll
    for (int j = 0; j < kCount; ++j) out[j] = fromFloat<T>(v[j]);
  }
}

// v quantized to int8 at `scale` (Int8Quantizer's rule; callers quantizing many values at one scale
// keep one Int8Quantizer, which computes the inverse once).
__device__ __forceinline__ int8_t quantizeInt8(float v, float scale) { return Int8Quantizer(scale)(v); }

// kVectorBytes worth of T, loaded and stored as one 16-byte access.
template <typename T>
struct alignas(kVectorBytes) Vec {
  static constexpr int kSize = kVectorBytes / sizeof(T);
  T v[kSize];
};

}  // namespace netdef::cuda::ops
