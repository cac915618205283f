// Tests ops/copy_strided bit for bit against a CPU loop over the same index space: concat into
// channel ranges and slices out of one in NCHW and NHWC (large ones too), transposes (2-D, 4-D,
// rank 6, odd sizes that leave partial tiles, NCHW <-> NHWC), copies at pointers that are not
// 16-byte aligned, a broadcast read (stride 0), a reversed read (negative stride), for 1-, 2-, 4- and
// 8-byte elements. The whole destination buffer
// is compared, so unwritten elements (poison) and writes outside the ranges both fail.
#include <numeric>

#include "cuda/ops/copy_strided.cuh"
#include "ops_test_util.h"

namespace ops_test {
namespace {

using netdef::cuda::ops::CopyStridedParams;
using netdef::cuda::ops::Dims;
using Shape = std::vector<int64_t>;

constexpr uint32_t kSeed = 1003;
// Random source bytes avoid 0 and the poison byte, so an unwritten element never matches.
constexpr int kMinByte = 1, kMaxByte = 0xFE;

struct Copy {
  Shape shape, srcStrides, dstStrides;
  int64_t srcOffset = 0, dstOffset = 0;  // elements
};

Shape contiguous(const Shape& shape) {
  Shape s(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    s[i] = stride;
    stride *= shape[i];
  }
  return s;
}

int64_t countOf(const Shape& s) { return std::accumulate(s.begin(), s.end(), int64_t{1}, std::multiplies<>()); }

void cpuCopy(const Copy& c, size_t bytes, const std::vector<uint8_t>& src, std::vector<uint8_t>& dst) {
  for (int64_t i = 0; i < countOf(c.shape); ++i) {
    int64_t rest = i, s = c.srcOffset, d = c.dstOffset;
    for (size_t k = c.shape.size(); k-- > 0;) {
      const int64_t coord = rest % c.shape[k];
      rest /= c.shape[k];
      s += coord * c.srcStrides[k];
      d += coord * c.dstStrides[k];
    }
    std::memcpy(&dst[d * bytes], &src[s * bytes], bytes);
  }
}

// Runs every copy from one source buffer into one destination buffer and compares all of dst.
void runCopies(Rng& rng, const std::string& name, DType t, int64_t srcCount, int64_t dstCount, const std::vector<Copy>& copies) {
  runCase(name, [&] {
    const size_t bytes = netdef::cuda::ops::elementBytes(t);
    std::vector<uint8_t> src(srcCount * bytes), ref(dstCount * bytes, kPoisonByte);
    for (uint8_t& b : src) b = static_cast<uint8_t>(rng.integer(kMinByte, kMaxByte));
    DeviceBuffer dsrc(src), ddst(ref.size());
    ddst.poison();
    for (const Copy& c : copies) {
      CopyStridedParams p;
      p.dtype = t;
      p.src = static_cast<const uint8_t*>(dsrc.get()) + c.srcOffset * bytes;
      p.dst = static_cast<uint8_t*>(ddst.get()) + c.dstOffset * bytes;
      p.shape = Dims(c.shape);
      p.srcStrides = Dims(c.srcStrides);
      p.dstStrides = Dims(c.dstStrides);
      netdef::cuda::ops::launchCopyStrided(p, nullptr);
      cpuCopy(c, bytes, src, ref);
    }
    syncDevice();
    checkBytes(name, ddst.download(), ref);
  });
}

const char* label(DType t) { return netdef::cuda::ops::dtypeLabel(t); }

// Inputs [b, ci, h, w] laid one after another in src, concatenated along channels into dst.
void concatCase(Rng& rng, DType t, int64_t b, const Shape& channels, int64_t h, int64_t w) {
  const int64_t total = std::accumulate(channels.begin(), channels.end(), int64_t{0});
  const Shape outShape{b, total, h, w};
  std::vector<Copy> copies;
  int64_t srcOffset = 0, channelOffset = 0;
  for (int64_t c : channels) {
    const Shape shape{b, c, h, w};
    copies.push_back({shape, contiguous(shape), contiguous(outShape), srcOffset, channelOffset * h * w});
    srcOffset += countOf(shape);
    channelOffset += c;
  }
  runCopies(rng, std::string("copy_strided concat ") + label(t) + " " + shapeName(channels) + " -> " + shapeName(outShape),
            t, srcOffset, countOf(outShape), copies);
}

// Channels [begin, end) of [b, c, h, w] into a contiguous [b, end - begin, h, w].
void sliceCase(Rng& rng, DType t, const Shape& in, int64_t begin, int64_t end) {
  const Shape out{in[0], end - begin, in[2], in[3]};
  const Copy c{out, contiguous(in), contiguous(out), begin * in[2] * in[3], 0};
  runCopies(rng, std::string("copy_strided slice ") + label(t) + " " + shapeName(in) + " channels " +
                     std::to_string(begin) + ".." + std::to_string(end),
            t, countOf(in), countOf(out), {c});
}

// NHWC strides of a [b, c, h, w] shape (c innermost in memory).
Shape nhwcStrides(const Shape& s) { return {s[1] * s[2] * s[3], 1, s[3] * s[1], s[1]}; }

// Inputs [b, ci, h, w] stored NHWC one after another in src (each `shift` elements past the last),
// concatenated along channels into an NHWC dst starting `shift` elements into its buffer.
void nhwcConcatCase(Rng& rng, DType t, int64_t b, const Shape& channels, int64_t h, int64_t w, int64_t shift = 0) {
  const int64_t total = std::accumulate(channels.begin(), channels.end(), int64_t{0});
  const Shape outShape{b, total, h, w};
  std::vector<Copy> copies;
  int64_t srcOffset = shift, channelOffset = 0;
  for (int64_t c : channels) {
    const Shape shape{b, c, h, w};
    copies.push_back({shape, nhwcStrides(shape), nhwcStrides(outShape), srcOffset, shift + channelOffset});
    srcOffset += countOf(shape) + shift;
    channelOffset += c;
  }
  runCopies(rng, std::string("copy_strided NHWC concat ") + label(t) + " " + shapeName(channels) + " -> " +
                     shapeName(outShape) + " shift " + std::to_string(shift),
            t, srcOffset, countOf(outShape) + shift, copies);
}

// Channels [begin, end) of an NHWC [b, c, h, w] into a contiguous NHWC [b, end - begin, h, w].
void nhwcSliceCase(Rng& rng, DType t, const Shape& in, int64_t begin, int64_t end, int64_t shift = 0) {
  const Shape out{in[0], end - begin, in[2], in[3]};
  const Copy c{out, nhwcStrides(in), nhwcStrides(out), shift + begin, shift};
  runCopies(rng, std::string("copy_strided NHWC slice ") + label(t) + " " + shapeName(in) + " channels " +
                     std::to_string(begin) + ".." + std::to_string(end) + " shift " + std::to_string(shift),
            t, countOf(in) + shift, countOf(out) + shift, {c});
}

// dst = src transposed by perm (dst dimension k is src dimension perm[k]), dst contiguous.
void transposeCase(Rng& rng, DType t, const Shape& in, const Shape& perm, int64_t shift = 0) {
  const Shape inStrides = contiguous(in);
  Shape out(in.size()), srcStrides(in.size());
  for (size_t k = 0; k < in.size(); ++k) {
    out[k] = in[perm[k]];
    srcStrides[k] = inStrides[perm[k]];
  }
  runCopies(rng, std::string("copy_strided transpose ") + label(t) + " " + shapeName(in) + " perm " + shapeName(perm) +
                     (shift ? " shift " + std::to_string(shift) : std::string()),
            t, countOf(in) + shift, countOf(out) + shift, {{out, srcStrides, contiguous(out), shift, shift}});
}

}  // namespace

void testCopyStrided() {
  Rng rng(kSeed);
  for (DType t : {DType::Float32, DType::Float16, DType::Int8, DType::Int64}) {
    concatCase(rng, t, 2, {3, 5, 8}, 5, 7);
    concatCase(rng, t, 1, {16, 32}, 8, 8);
    concatCase(rng, t, 3, {4, 4, 4, 4}, 20, 20);
    sliceCase(rng, t, {2, 12, 5, 7}, 4, 9);
    sliceCase(rng, t, {1, 64, 16, 16}, 32, 64);
    transposeCase(rng, t, {33, 65}, {1, 0});
    transposeCase(rng, t, {2, 3, 4, 5}, {0, 2, 3, 1});
    transposeCase(rng, t, {2, 3, 1, 2, 3, 2}, {5, 4, 3, 2, 1, 0});
  }
  for (DType t : {DType::Float16, DType::Float32, DType::Int8}) {
    // Large copies whose rows are contiguous on both sides (the engine's concat and slice).
    concatCase(rng, t, 3, {64, 96}, 40, 40);
    concatCase(rng, t, 2, {7, 33, 1}, 13, 17);
    nhwcConcatCase(rng, t, 2, {3, 5, 8}, 5, 7);
    nhwcConcatCase(rng, t, 3, {64, 96}, 20, 20);
    nhwcConcatCase(rng, t, 2, {40, 24, 8}, 9, 11, 1);  // pointers off 16-byte alignment
    nhwcConcatCase(rng, t, 2, {17, 30}, 6, 5, 3);
    nhwcSliceCase(rng, t, {2, 64, 10, 12}, 16, 48);
    nhwcSliceCase(rng, t, {2, 50, 7, 9}, 13, 42, 1);
    sliceCase(rng, t, {3, 40, 33, 35}, 8, 31);
    // Transposes with partial tiles, NCHW <-> NHWC, and misaligned pointers.
    transposeCase(rng, t, {129, 67}, {1, 0});
    transposeCase(rng, t, {1000, 17}, {1, 0});
    transposeCase(rng, t, {5, 300}, {1, 0});
    transposeCase(rng, t, {3, 37, 19, 23}, {0, 2, 3, 1});  // NCHW -> NHWC
    transposeCase(rng, t, {2, 17, 33, 45}, {0, 3, 1, 2});  // NHWC -> NCHW
    transposeCase(rng, t, {4, 80, 20, 20}, {0, 2, 3, 1});
    transposeCase(rng, t, {3, 3, 40, 41}, {0, 2, 3, 1});  // 3 channels: too narrow for a tile
    transposeCase(rng, t, {2, 33, 5, 65}, {3, 1, 0, 2}, 1);
    transposeCase(rng, t, {64, 48}, {1, 0}, 3);
  }
  runCopies(rng, "copy_strided broadcast read float32 [7] -> [4,7]", DType::Float32, 7, 28, {{{4, 7}, {0, 1}, {7, 1}, 0, 0}});
  runCopies(rng, "copy_strided reversed read float16 [2,37]", DType::Float16, 74, 74, {{{2, 37}, {37, -1}, {37, 1}, 36, 0}});
  expectError("copy_strided rejects strides of another rank", netdef::kErrInvalidArgument, [] {
    CopyStridedParams p;
    p.shape = Dims{2, 3};
    p.srcStrides = Dims{3, 1};
    p.dstStrides = Dims{1};
    netdef::cuda::ops::launchCopyStrided(p, nullptr);
  });
}

}  // namespace ops_test
