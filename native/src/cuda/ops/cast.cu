// cast: see cast.cuh.
#include "cast.cuh"
#include "op_device.cuh"

namespace netdef::cuda::ops {
namespace {

constexpr const char* kOp = "cast";
// Elements per thread in the vectorised kernel: one 16-byte float32 access, 8 bytes of float16.
constexpr int kCastWidth = 4;

struct alignas(kVectorBytes) Float4 { float v[kCastWidth]; };
struct alignas(kCastWidth * sizeof(__half)) Half4 { __half v[kCastWidth]; };
struct alignas(kCastWidth) Byte4 { uint8_t v[kCastWidth]; };

template <typename From, typename To>
__device__ __forceinline__ To convert(From v) { return fromFloat<To>(toFloat(v)); }

template <typename From, typename To, typename VecFrom, typename VecTo>
__global__ void castVectorKernel(const VecFrom* x, VecTo* y, int64_t vectors) {
  for (int64_t i = globalThreadIndex(); i < vectors; i += globalThreadCount()) {
    const VecFrom in = x[i];
    VecTo out;
#pragma unroll
    for (int k = 0; k < kCastWidth; ++k) out.v[k] = convert<From, To>(in.v[k]);
    y[i] = out;
  }
}

template <typename From, typename To>
__global__ void castScalarKernel(const From* x, To* y, int64_t start, int64_t count) {
  for (int64_t i = start + globalThreadIndex(); i < count; i += globalThreadCount()) y[i] = convert<From, To>(x[i]);
}

template <typename From, typename To, typename VecFrom, typename VecTo>
void run(const CastParams& p, cudaStream_t stream) {
  const From* x = static_cast<const From*>(p.x);
  To* y = static_cast<To*>(p.y);
  int64_t start = 0;
  if (isAligned(x, sizeof(VecFrom)) && isAligned(y, sizeof(VecTo))) {
    const int64_t vectors = p.count / kCastWidth;
    if (vectors > 0) {
      castVectorKernel<From, To, VecFrom, VecTo><<<gridFor(vectors, kElementwiseBlock), kElementwiseBlock, 0, stream>>>(
          reinterpret_cast<const VecFrom*>(x), reinterpret_cast<VecTo*>(y), vectors);
      checkLaunch(kOp);
    }
    start = vectors * kCastWidth;
  }
  if (start < p.count) {
    castScalarKernel<From, To><<<gridFor(p.count - start, kElementwiseBlock), kElementwiseBlock, 0, stream>>>(
        x, y, start, p.count);
    checkLaunch(kOp);
  }
}

}  // namespace

void launchCast(const CastParams& p, cudaStream_t stream) {
  require(p.count >= 0, kOp, "negative count");
  if (p.from == p.to) {
    const size_t bytes = elementBytes(p.from);
    require(bytes > 0, kOp, "unknown dtype");
    if (p.count == 0) return;
    require(p.x && p.y, kOp, "null x or y");
    if (p.x == p.y) return;
    const cudaError_t err = cudaMemcpyAsync(p.y, p.x, bytes * p.count, cudaMemcpyDeviceToDevice, stream);
    if (err != cudaSuccess) throw Error(kErrBackend, std::string(kOp) + ": copy failed: " + cudaGetErrorString(err));
    return;
  }
  requireFloatType(p.to, kOp);
  if (p.from != ir::DType::UInt8) requireFloatType(p.from, kOp);  // uint8: image bytes into the network
  if (p.count == 0) return;
  require(p.x && p.y, kOp, "null x or y");
  if (p.from == ir::DType::UInt8) {
    if (p.to == ir::DType::Float32) return run<uint8_t, float, Byte4, Float4>(p, stream);
    return run<uint8_t, __half, Byte4, Half4>(p, stream);
  }
  if (p.from == ir::DType::Float32) return run<float, __half, Float4, Half4>(p, stream);
  return run<__half, float, Half4, Float4>(p, stream);
}

}  // namespace netdef::cuda::ops
