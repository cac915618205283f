// copy_strided: see copy_strided.cuh.
//
// Two kernels, chosen after the dimensions are put in dst memory order (descending |dst stride|, so
// that an NHWC copy indexed [N,C,H,W] is walked [N,H,W,C]), coalesced and, where the innermost dimension is
// contiguous on both sides, re-expressed in the widest unit (up to 16 bytes) the strides, the row
// length and both pointers allow:
//  - copyFlatKernel: one unit per index, kFlatUnroll indices per thread (all loads before the first
//    store), consecutive threads on consecutive indices. When the innermost dimension is contiguous
//    on both sides (concat, split, slice, NCHW and NHWC alike) a warp's accesses are consecutive
//    along each row and run on into the next row, so short rows are packed into one block and long
//    rows are spread over many, with no per-row launch geometry. Indices are decomposed with
//    multiply-shift division (FastDivmod), not hardware division.
//  - copyTileKernel: the innermost dimension differs between src and dst (a transpose such as
//    NCHW -> NHWC, [N,C,HW] -> [N,HW,C]): kTile x kTile tiles over the src-contiguous and the
//    dst-contiguous dimension, staged through shared memory (one column of padding against bank
//    conflicts), so that both the reads and the writes are coalesced. The remaining dimensions
//    are walked tile by tile.
#include "copy_strided.cuh"
#include "op_device.cuh"

#include <cstdlib>

namespace netdef::cuda::ops {
namespace {

constexpr const char* kOp = "copy_strided";
// Threads per block of the flat kernel.
constexpr int kFlatBlock = 256;
// Indices (units) each thread of the flat kernel copies per step.
constexpr int kFlatUnroll = 4;
// Side of a transpose tile, and the tile kernel's block: kTile x kTileRows threads.
constexpr int kTile = 32;
constexpr int kTileRows = 8;
// The tiled transpose is used when both tiled dimensions are at least this long; narrower ones
// would leave most of each tile idle (the flat kernel handles them).
constexpr int64_t kTileMinSide = 16;
// Upper bound on blocks of the grid-stride launches.
constexpr int64_t kMaxBlocks = 1 << 20;
// Widest unit tried first: one 16-byte access.
constexpr size_t kWidestUnit = 16;

// Division of unsigned 64-bit numerators by a fixed divisor d >= 1 with one high multiply
// (Granlund-Montgomery, valid for every numerator).
struct FastDivmod {
  uint64_t divisor = 1, magic = 1;
  int shift1 = 0, shift2 = 0;

  FastDivmod() = default;
  explicit FastDivmod(uint64_t d) : divisor(d) {
    int l = 0;
    while (l < 64 && (uint64_t{1} << l) < d) ++l;  // l = ceil(log2 d)
    const unsigned __int128 pow = static_cast<unsigned __int128>(1) << l;
    magic = static_cast<uint64_t>(((static_cast<unsigned __int128>(1) << 64) * (pow - d)) / d + 1);
    shift1 = l > 0 ? 1 : 0;
    shift2 = l > 0 ? l - 1 : 0;
  }
  __device__ __forceinline__ uint64_t div(uint64_t n) const {
    const uint64_t t = __umul64hi(magic, n);
    return (t + ((n - t) >> shift1)) >> shift2;
  }
};

// An index space of rank <= kMaxRank: sizes (as divisors) and strides of src and dst.
struct StridedMap {
  int rank;
  FastDivmod size[kMaxRank];
  int64_t src[kMaxRank];
  int64_t dst[kMaxRank];
};

// Offsets of index `i` over dimensions [0, rank) of m (the outermost takes what is left).
__device__ __forceinline__ void offsetsOf(const StridedMap& m, uint64_t i, int64_t& src, int64_t& dst) {
  src = 0;
  dst = 0;
  for (int d = m.rank - 1; d > 0; --d) {
    const uint64_t q = m.size[d].div(i);
    const int64_t coord = static_cast<int64_t>(i - q * m.size[d].divisor);
    i = q;
    src += coord * m.src[d];
    dst += coord * m.dst[d];
  }
  src += static_cast<int64_t>(i) * m.src[0];
  dst += static_cast<int64_t>(i) * m.dst[0];
}

// Any strides: unit i of the index space (row-major) per thread and step, kFlatUnroll per step.
template <typename U>
__global__ void __launch_bounds__(kFlatBlock) copyFlatKernel(const U* __restrict__ src, U* __restrict__ dst,
                                                             uint64_t count, StridedMap m) {
  const uint64_t step = static_cast<uint64_t>(gridDim.x) * kFlatBlock * kFlatUnroll;
  for (uint64_t base = static_cast<uint64_t>(blockIdx.x) * kFlatBlock * kFlatUnroll + threadIdx.x; base < count;
       base += step) {
    U v[kFlatUnroll];
    int64_t to[kFlatUnroll];
#pragma unroll
    for (int k = 0; k < kFlatUnroll; ++k) {
      const uint64_t i = base + static_cast<uint64_t>(k) * kFlatBlock;
      if (i < count) {
        int64_t s;
        offsetsOf(m, i, s, to[k]);
        v[k] = src[s];
      }
    }
#pragma unroll
    for (int k = 0; k < kFlatUnroll; ++k) {
      if (base + static_cast<uint64_t>(k) * kFlatBlock < count) dst[to[k]] = v[k];
    }
  }
}

// A transpose: dimension `b` is the one contiguous in src, `a` the one contiguous in dst; `outer`
// holds every other dimension. Tiles are numbered (outer, tile along b, tile along a), a fastest.
struct TileMap {
  int64_t sizeA, sizeB;
  int64_t srcA, srcB, dstA, dstB;
  FastDivmod tilesA, tilesB;
  uint64_t tiles;
  StridedMap outer;  // rank 0 when there are no other dimensions
};

template <typename U>
__global__ void __launch_bounds__(kTile* kTileRows) copyTileKernel(const U* __restrict__ src, U* __restrict__ dst,
                                                                   TileMap t) {
  __shared__ U tile[kTile][kTile + 1];  // [b][a]; the padding column spreads a column over the banks
  const int tx = threadIdx.x, ty = threadIdx.y;
  for (uint64_t id = blockIdx.x; id < t.tiles; id += gridDim.x) {
    const uint64_t rest = t.tilesA.div(id);
    const int64_t a0 = static_cast<int64_t>(id - rest * t.tilesA.divisor) * kTile;
    const uint64_t outerIndex = t.tilesB.div(rest);
    const int64_t b0 = static_cast<int64_t>(rest - outerIndex * t.tilesB.divisor) * kTile;
    int64_t s = 0, d = 0;
    if (t.outer.rank > 0) offsetsOf(t.outer, outerIndex, s, d);
    // Read: threads along b (src-contiguous).
    const int64_t b = b0 + tx;
    if (b < t.sizeB) {
#pragma unroll
      for (int r = ty; r < kTile; r += kTileRows) {
        const int64_t a = a0 + r;
        if (a < t.sizeA) tile[tx][r] = src[s + b * t.srcB + a * t.srcA];
      }
    }
    __syncthreads();
    // Write: threads along a (dst-contiguous).
    const int64_t a = a0 + tx;
    if (a < t.sizeA) {
#pragma unroll
      for (int r = ty; r < kTile; r += kTileRows) {
        const int64_t bw = b0 + r;
        if (bw < t.sizeB) dst[d + a * t.dstA + bw * t.dstB] = tile[r][tx];
      }
    }
    __syncthreads();
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

StridedMap mapOf(const Dims& shape, const Dims& src, const Dims& dst) {
  StridedMap m{};
  m.rank = shape.rank;
  for (int d = 0; d < shape.rank; ++d) {
    m.size[d] = FastDivmod(static_cast<uint64_t>(shape.v[d]));
    m.src[d] = src.v[d];
    m.dst[d] = dst.v[d];
  }
  return m;
}

// Drops dimensions of size 1 and orders the rest by descending |dst stride| (then |src stride|),
// so that the innermost dimension walked is the one contiguous in dst. The set of (src, dst) element
// pairs is unchanged.
void orderByDst(Dims& shape, Dims& src, Dims& dst) {
  Dims s, a, b;
  for (int d = 0; d < shape.rank; ++d) {
    if (shape.v[d] == 1) continue;
    const int64_t key = std::abs(dst.v[d]), tie = std::abs(src.v[d]);
    int k = s.rank++;
    a.rank = b.rank = s.rank;
    for (; k > 0 && (std::abs(b.v[k - 1]) < key || (std::abs(b.v[k - 1]) == key && std::abs(a.v[k - 1]) < tie)); --k) {
      s.v[k] = s.v[k - 1];
      a.v[k] = a.v[k - 1];
      b.v[k] = b.v[k - 1];
    }
    s.v[k] = shape.v[d];
    a.v[k] = src.v[d];
    b.v[k] = dst.v[d];
  }
  shape = s;
  src = a;
  dst = b;
}

unsigned blocksFor(uint64_t work, uint64_t perBlock) {
  return static_cast<unsigned>(std::max<uint64_t>(1, std::min<uint64_t>((work + perBlock - 1) / perBlock, kMaxBlocks)));
}

// The dimension with stride 1 and the largest size in `strides`, or -1.
int unitStrideDim(const Dims& shape, const Dims& strides) {
  int best = -1;
  for (int d = 0; d < shape.rank; ++d)
    if (strides.v[d] == 1 && (best < 0 || shape.v[d] > shape.v[best])) best = d;
  return best;
}

// Launches the tiled transpose when the innermost dimensions of src and dst differ and both are
// long enough; returns false (nothing launched) otherwise.
template <typename U>
bool tryTile(const void* srcPtr, void* dstPtr, const Dims& shape, const Dims& src, const Dims& dst, cudaStream_t stream) {
  const int a = unitStrideDim(shape, dst), b = unitStrideDim(shape, src);
  if (a < 0 || b < 0 || a == b || shape.v[a] < kTileMinSide || shape.v[b] < kTileMinSide) return false;
  TileMap t{};
  t.sizeA = shape.v[a];
  t.sizeB = shape.v[b];
  t.srcA = src.v[a];
  t.srcB = src.v[b];
  t.dstA = dst.v[a];
  t.dstB = dst.v[b];
  const uint64_t tilesA = (t.sizeA + kTile - 1) / kTile, tilesB = (t.sizeB + kTile - 1) / kTile;
  t.tilesA = FastDivmod(tilesA);
  t.tilesB = FastDivmod(tilesB);
  Dims os, oSrc, oDst;
  for (int d = 0; d < shape.rank; ++d) {
    if (d == a || d == b) continue;
    os.v[os.rank++] = shape.v[d];
    oSrc.v[oSrc.rank++] = src.v[d];
    oDst.v[oDst.rank++] = dst.v[d];
  }
  t.outer = mapOf(os, oSrc, oDst);
  t.tiles = tilesA * tilesB * static_cast<uint64_t>(os.count());
  copyTileKernel<U><<<blocksFor(t.tiles, 1), dim3(kTile, kTileRows), 0, stream>>>(static_cast<const U*>(srcPtr),
                                                                                   static_cast<U*>(dstPtr), t);
  return true;
}

template <typename U>
void run(const void* srcPtr, void* dstPtr, const Dims& shape, const Dims& src, const Dims& dst, cudaStream_t stream) {
  const int last = shape.rank - 1;
  const bool rows = last < 0 || (src.v[last] == 1 && dst.v[last] == 1);
  if (rows || !tryTile<U>(srcPtr, dstPtr, shape, src, dst, stream)) {
    const uint64_t count = static_cast<uint64_t>(shape.count());
    copyFlatKernel<U><<<blocksFor(count, uint64_t{kFlatBlock} * kFlatUnroll), kFlatBlock, 0, stream>>>(
        static_cast<const U*>(srcPtr), static_cast<U*>(dstPtr), count, mapOf(shape, src, dst));
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
  orderByDst(shape, src, dst);
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
