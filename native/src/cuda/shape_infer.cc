// Output shapes of the engine's ops: see shape_infer.h.
#include "shape_infer.h"

#include <algorithm>
#include <string>

#include "../common/error.h"

namespace netdef::cuda::shapes {
namespace {

constexpr int kSpatialRank = 4;  // convolution and pooling take [N, C, H, W]

[[noreturn]] void fail(const std::string& message) { throw Error(kErrInvalidArgument, message); }

bool isBatch(int64_t d) { return d == ir::kBatch; }

// floor((size + padding - dilation * (k - 1) - 1) / stride) + 1
int64_t windowOutput(int64_t size, int64_t k, int64_t stride, int64_t pre, int64_t post, int64_t dilation) {
  if (stride < 1 || k < 1 || dilation < 1) fail("kernel, stride and dilation must be positive");
  const int64_t out = (size + pre + post - dilation * (k - 1) - 1) / stride + 1;
  if (out < 1) fail("input " + std::to_string(size) + " is too small for window " + std::to_string(k));
  return out;
}

void requireRank(const Shape& x, size_t rank, const char* what) {
  if (x.size() != rank) fail(std::string(what) + " expects rank " + std::to_string(rank) + ", found " + toString(x));
}

int64_t fixedProduct(const Shape& s, size_t from) {
  int64_t p = 1;
  for (size_t i = from; i < s.size(); ++i) p *= s[i];
  return p;
}

}  // namespace

std::string toString(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + (isBatch(s[i]) ? std::string("batch") : std::to_string(s[i]));
  return out + "]";
}

int32_t normalizeAxis(int64_t axis, const Shape& x, const char* what) {
  const int64_t rank = static_cast<int64_t>(x.size());
  const int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) fail(std::string(what) + ": axis " + std::to_string(axis) + " is out of range for " + toString(x));
  if (a == 0 && !x.empty() && isBatch(x[0])) fail(std::string(what) + ": cannot operate along the batch axis");
  return static_cast<int32_t>(a);
}

Shape convolution(const Shape& x, const ConvAttrs& a) {
  requireRank(x, kSpatialRank, "convolution");
  const ConvolutionParams& p = a.params;
  if (p.groups < 1 || x[1] % p.groups != 0 || a.outChannels % p.groups != 0) {
    fail("channels " + std::to_string(x[1]) + " -> " + std::to_string(a.outChannels) + " are not divisible by groups " +
         std::to_string(p.groups));
  }
  return {x[0], a.outChannels,
          windowOutput(x[2], p.kernel[0], p.stride[0], p.prePadding[0], p.postPadding[0], p.dilation[0]),
          windowOutput(x[3], p.kernel[1], p.stride[1], p.prePadding[1], p.postPadding[1], p.dilation[1])};
}

Shape pooling(const Shape& x, const PoolingAttrs& a) {
  requireRank(x, kSpatialRank, "pooling");
  const PoolingParams& p = a.params;
  return {x[0], x[1], windowOutput(x[2], p.window[0], p.stride[0], p.prePadding[0], p.postPadding[0], 1),
          windowOutput(x[3], p.window[1], p.stride[1], p.prePadding[1], p.postPadding[1], 1)};
}

Shape broadcast(const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == db || db == 1) out[i] = da;
    else if (da == 1) out[i] = db;
    else fail("shapes " + toString(a) + " and " + toString(b) + " do not broadcast");
  }
  if (std::find(out.begin() + (out.empty() ? 0 : 1), out.end(), ir::kBatch) != out.end()) {
    fail("the batch must stay the first dimension: " + toString(a) + " with " + toString(b));
  }
  return out;
}

Shape concat(const std::vector<Shape>& xs, int32_t axis) {
  if (xs.empty()) fail("concatenation needs at least one input");
  const int32_t a = normalizeAxis(axis, xs[0], "concatenation");
  Shape out = xs[0];
  for (size_t k = 1; k < xs.size(); ++k) {
    const Shape& x = xs[k];
    bool same = x.size() == out.size();
    for (size_t i = 0; same && i < x.size(); ++i) same = static_cast<int32_t>(i) == a || x[i] == out[i];
    if (!same) fail("concatenation inputs " + toString(xs[0]) + " and " + toString(x) + " differ off axis " + std::to_string(a));
    out[a] += x[a];
  }
  return out;
}

Shape slice(const Shape& x, const SliceAttrs& s) {
  if (s.start.size() != x.size() || s.size.size() != x.size() || s.stride.size() != x.size()) {
    fail("slice start/size/stride must have the input's rank " + std::to_string(x.size()));
  }
  Shape out(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    if (isBatch(x[i]) || isBatch(s.size[i])) {
      if (!(isBatch(x[i]) && isBatch(s.size[i]) && s.start[i] == 0 && s.stride[i] == 1)) {
        fail("a slice must keep the whole batch (size -1, start 0, stride 1)");
      }
      out[i] = ir::kBatch;
      continue;
    }
    const int64_t last = s.start[i] + (s.size[i] - 1) * s.stride[i];
    if (s.start[i] < 0 || s.size[i] < 1 || s.stride[i] < 1 || last >= x[i]) {
      fail("slice of axis " + std::to_string(i) + " (start " + std::to_string(s.start[i]) + ", size " +
           std::to_string(s.size[i]) + ", stride " + std::to_string(s.stride[i]) + ") leaves " + toString(x));
    }
    out[i] = s.size[i];
  }
  return out;
}

Shape resize(const Shape& x, const ResizeAttrs& a) {
  if (a.scales.size() != x.size()) fail("resize needs one scale per axis of " + toString(x));
  Shape out(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const float s = a.scales[i];
    const int64_t factor = static_cast<int64_t>(s);
    if (s < 1 || static_cast<float>(factor) != s) fail("resize scales must be positive integers (nearest)");
    if (isBatch(x[i])) {
      if (factor != 1) fail("resize cannot scale the batch");
      out[i] = ir::kBatch;
    } else {
      out[i] = x[i] * factor;
    }
  }
  return out;
}

Shape shuffle(const Shape& x, const ShuffleAttrs& a) {
  Shape shape = x;
  if (!a.reshape.empty()) {
    const bool inBatched = !x.empty() && isBatch(x[0]);
    const bool outBatched = isBatch(a.reshape[0]);
    for (size_t i = 1; i < a.reshape.size(); ++i) {
      if (a.reshape[i] < 1) fail("reshape " + toString(a.reshape) + ": only the first dimension may be the batch");
    }
    if (inBatched != outBatched) fail("reshape " + toString(a.reshape) + " must keep the batch of " + toString(x));
    const size_t from = inBatched ? 1 : 0;
    if (fixedProduct(x, from) != fixedProduct(a.reshape, from)) {
      fail("cannot reshape " + toString(x) + " to " + toString(a.reshape) + ": element counts differ");
    }
    shape = a.reshape;
  }
  if (!a.permutation.empty()) {
    if (a.permutation.size() != shape.size()) fail("permutation rank differs from " + toString(shape));
    std::vector<bool> seen(shape.size(), false);
    Shape out(shape.size());
    for (size_t i = 0; i < shape.size(); ++i) {
      const int32_t p = a.permutation[i];
      if (p < 0 || p >= static_cast<int32_t>(shape.size()) || seen[p]) fail("invalid permutation");
      seen[p] = true;
      out[i] = shape[p];
    }
    if (isBatch(shape[0]) && a.permutation[0] != 0) fail("the batch must stay the first dimension");
    shape = out;
  }
  return shape;
}

Shape matmul(const Shape& a, const Shape& b) {
  if (a.size() < 2 || b.size() < 2) fail("matrix multiply needs rank >= 2, found " + toString(a) + " and " + toString(b));
  const int64_t k = a[a.size() - 1];
  if (k != b[b.size() - 2] || isBatch(k)) fail("matrix multiply " + toString(a) + " x " + toString(b) + ": inner dimensions differ");
  Shape lead = broadcast(Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2));
  lead.push_back(a[a.size() - 2]);
  lead.push_back(b[b.size() - 1]);
  if (lead.size() > 2 && (isBatch(lead[lead.size() - 2]) || isBatch(lead[lead.size() - 1]))) {
    fail("the batch must stay the first dimension");
  }
  return lead;
}

}  // namespace netdef::cuda::shapes
