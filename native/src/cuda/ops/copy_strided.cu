// copy_strided: see copy_strided.cuh.
#include "copy_strided.cuh"
#include "op_device.cuh"

namespace netdef::cuda::ops {
namespace {

constexpr const char* kOp = "copy_strided";
// Threads per block of both kernels.
constexpr int kCopyBlock = 256;
// A contiguous innermost dimension at least this long (in units) is copied by the row kernel.
constexpr int64_t kRowKernelMinInner = 32;
// Upper bound on grid.y of the row kernel (rows beyond it are strided over).
constexpr int64_t kMaxGridRows = 65535;
// Widest unit tried first: one 16-byte access.
constexpr size_t kWidestUnit = 16;

struct StridedMap {
  int rank;
  int64_t size[kMaxRank];
  int64_t src[kMaxRank];
  int64_t dst[kMaxRank];
};

// Offsets of index `i` over dimensions [0, dims) of m.
__device__ __forceinline__ void offsetsOf(const StridedMap& m, int dims, int64_t i, int64_t& src, int64_t& dst) {
  src = 0;
  dst = 0;
  for (int d = dims - 1; d >= 0; --d) {
    const int64_t coord = i % m.size[d];
    i /= m.size[d];
    src += coord * m.src[d];
    dst += coord * m.dst[d];
  }
}

// Any strides: one unit per thread, indices decomposed over every dimension.
template <typename U>
__global__ void copyGeneralKernel(const U* src, U* dst, int64_t count, StridedMap m) {
  for (int64_t i = globalThreadIndex(); i < count; i += globalThreadCount()) {
    int64_t s, d;
    offsetsOf(m, m.rank, i, s, d);
    dst[d] = src[s];
  }
}

// Innermost dimension contiguous on both sides: grid.y walks rows (outer indices), grid.x the row.
template <typename U>
__global__ void copyRowsKernel(const U* src, U* dst, int64_t rows, StridedMap m) {
  const int64_t inner = m.size[m.rank - 1];
  for (int64_t row = blockIdx.y; row < rows; row += gridDim.y) {
    int64_t s, d;
    offsetsOf(m, m.rank - 1, row, s, d);
    for (int64_t j = globalThreadIndex(); j < inner; j += globalThreadCount()) dst[d + j] = src[s + j];
  }
}

// Re-expresses a copy with a contiguous innermost dimension in the widest unit that every stride,
// the row length and both pointers allow. Returns the unit size in bytes.
size_t widen(Dims& shape, Dims& src, Dims& dst, size_t unit, const void* srcPtr, const void* dstPtr) {
  const int last = shape.rank - 1;
  if (last < 0 || src.v[last] != 1 || dst.v[last] != 1) return unit;
  for (size_t wide = kWidestUnit; wide > unit; wide /= 2) {
    const int64_t factor = static_cast<int64_t>(wide / unit);
    bool ok = shape.v[last] % factor == 0 && isAligned(srcPtr, wide) && isAligned(dstPtr, wide);
    for (int d = 0; ok && d < last; ++d) ok = src.v[d] % factor == 0 && dst.v[d] % factor == 0;
    if (!ok) continue;
    shape.v[last] /= factor;
    for (int d = 0; d < last; ++d) {
      src.v[d] /= factor;
      dst.v[d] /= factor;
    }
    return wide;
  }
  return unit;
}

template <typename U>
void run(const void* srcPtr, void* dstPtr, const Dims& shape, const Dims& src, const Dims& dst, cudaStream_t stream) {
  StridedMap m{};
  m.rank = shape.rank;
  for (int d = 0; d < shape.rank; ++d) {
    m.size[d] = shape.v[d];
    m.src[d] = src.v[d];
    m.dst[d] = dst.v[d];
  }
  const U* s = static_cast<const U*>(srcPtr);
  U* t = static_cast<U*>(dstPtr);
  const int last = m.rank - 1;
  if (last >= 0 && m.src[last] == 1 && m.dst[last] == 1 && m.size[last] >= kRowKernelMinInner) {
    const int64_t rows = shape.count() / m.size[last];
    const dim3 grid(gridFor(m.size[last], kCopyBlock), static_cast<unsigned>(std::min(rows, kMaxGridRows)));
    copyRowsKernel<U><<<grid, kCopyBlock, 0, stream>>>(s, t, rows, m);
  } else {
    const int64_t count = shape.count();
    copyGeneralKernel<U><<<gridFor(count, kCopyBlock), kCopyBlock, 0, stream>>>(s, t, count, m);
  }
  checkLaunch(kOp);
}

}  // namespace

void launchCopyStrided(const CopyStridedParams& p, cudaStream_t stream) {
  const size_t bytes = elementBytes(p.dtype);
  require(bytes > 0, kOp, "unknown dtype");
  requireShape(p.shape, kOp, "shape");
  if (p.srcStrides.rank != p.shape.rank || p.dstStrides.rank != p.shape.rank) {
    throwInvalid(kOp, "strides " + p.srcStrides.str() + " / " + p.dstStrides.str() + " do not match shape " + p.shape.str());
  }
  if (p.shape.count() == 0) return;
  require(p.src && p.dst, kOp, "null src or dst");
  for (int d = 0; d < p.shape.rank; ++d) {
    if (p.shape.v[d] > 1 && p.dstStrides.v[d] == 0) throwInvalid(kOp, "dst stride 0 along a dimension of size > 1");
  }
  Dims shape = p.shape, src = p.srcStrides, dst = p.dstStrides;
  Dims* lists[] = {&src, &dst};
  coalesceDims(shape, lists, 2);
  switch (widen(shape, src, dst, bytes, p.src, p.dst)) {
    case 1: return run<uint8_t>(p.src, p.dst, shape, src, dst, stream);
    case 2: return run<uint16_t>(p.src, p.dst, shape, src, dst, stream);
    case 4: return run<uint32_t>(p.src, p.dst, shape, src, dst, stream);
    case 8: return run<uint2>(p.src, p.dst, shape, src, dst, stream);
    case 16: return run<uint4>(p.src, p.dst, shape, src, dst, stream);
  }
  throw Error(kErrBackend, std::string(kOp) + ": no unit for element size " + std::to_string(bytes));
}

}  // namespace netdef::cuda::ops
