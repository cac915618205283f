// Shape rules of the network-definition operations (see shape_rules.h).
#include "shape_rules.h"

#include <algorithm>
#include <cmath>

#include "../common/error.h"

namespace netdef {
namespace {

[[noreturn]] void invalid(const std::string& message) { throw Error(kErrInvalidArgument, message); }

}  // namespace

std::string formatDims(const Dims& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.d.size(); ++i) s += (i ? "," : "") + std::to_string(dims.d[i]);
  return s + "]";
}

std::string formatType(DType type, const Dims& dims) { return ir::dtypeName(type) + formatDims(dims); }

int64_t fixedVolume(const Dims& dims) {
  int64_t v = 1;
  for (int64_t d : dims.d) v *= d < 0 ? 1 : d;
  return v;
}

int64_t windowOutput(int64_t size, int64_t kernel, int64_t stride, int64_t padBefore, int64_t padAfter, int64_t dilation) {
  if (size < 0) return -1;
  if (stride < 1 || kernel < 1 || dilation < 1) invalid("kernel, stride and dilation must be positive");
  int64_t span = size + padBefore + padAfter - dilation * (kernel - 1) - 1;
  if (span < 0) invalid("input size " + std::to_string(size) + " is smaller than the window " + std::to_string(kernel));
  return span / stride + 1;
}

Dims convolutionDims(const Dims& x, int64_t outChannels, const ConvolutionParams& p) {
  return Dims{{x.d[0], outChannels, windowOutput(x.d[2], p.kernel[0], p.stride[0], p.prePadding[0], p.postPadding[0], p.dilation[0]),
               windowOutput(x.d[3], p.kernel[1], p.stride[1], p.prePadding[1], p.postPadding[1], p.dilation[1])}};
}

int normalizeAxis(int axis, size_t rank) {
  int r = static_cast<int>(rank);
  int a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= r) invalid("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return a;
}

Dims broadcastDims(const Dims& a, const Dims& b) {
  if (a.d.size() != b.d.size()) invalid("ranks differ: " + formatDims(a) + " and " + formatDims(b));
  Dims out{a.d};
  for (size_t i = 0; i < a.d.size(); ++i) {
    int64_t x = a.d[i], y = b.d[i];
    if (x == y || y == 1) out.d[i] = x;
    else if (x == 1) out.d[i] = y;
    else invalid("dimensions " + formatDims(a) + " and " + formatDims(b) + " do not broadcast");
  }
  return out;
}

Dims concatDims(const std::vector<const Dims*>& inputs, int axis) {
  if (inputs.empty()) invalid("concatenation of no tensors");
  const Dims& first = *inputs.front();
  int a = normalizeAxis(axis, first.d.size());
  Dims out{first.d};
  out.d[a] = 0;
  for (const Dims* in : inputs) {
    bool same = in->d.size() == first.d.size();
    for (size_t i = 0; same && i < first.d.size(); ++i) same = static_cast<int>(i) == a || in->d[i] == first.d[i];
    if (!same || in->d[a] < 0) invalid("cannot concatenate " + formatDims(*in) + " with " + formatDims(first) + " on axis " + std::to_string(a));
    out.d[a] += in->d[a];
  }
  return out;
}

Dims sliceDims(const Dims& input, const Dims& start, const Dims& size, const Dims& stride) {
  size_t rank = input.d.size();
  if (start.d.size() != rank || size.d.size() != rank || stride.d.size() != rank) invalid("slice parameters must have the input's rank");
  Dims out{size.d};
  for (size_t i = 0; i < rank; ++i) {
    if (size.d[i] < 0) {
      if (input.d[i] >= 0 || start.d[i] != 0 || stride.d[i] != 1) invalid("size -1 keeps only a whole dynamic axis");
      out.d[i] = input.d[i];
      continue;
    }
    if (stride.d[i] < 1 || start.d[i] < 0) invalid("slice start must be >= 0 and stride >= 1");
    int64_t last = start.d[i] + (size.d[i] - 1) * stride.d[i];
    if (input.d[i] >= 0 && size.d[i] > 0 && last >= input.d[i]) {
      invalid("slice " + formatDims(start) + " + " + formatDims(size) + " is out of " + formatDims(input));
    }
  }
  return out;
}

Dims shuffleDims(const Dims& input, const Dims& reshape, const std::vector<int>& permutation) {
  Dims shape = input;
  if (!reshape.d.empty()) {
    long inferred = std::count(reshape.d.begin(), reshape.d.end(), -1);
    bool dynamic = std::any_of(input.d.begin(), input.d.end(), [](int64_t d) { return d < 0; });
    if (inferred > 1 || std::any_of(reshape.d.begin(), reshape.d.end(), [](int64_t d) { return d < -1; })) {
      invalid("reshape " + formatDims(reshape) + " has more than one -1 or a negative size");
    }
    int64_t have = fixedVolume(input), want = fixedVolume(reshape);
    shape = reshape;
    if (dynamic) {
      // The -1 carries the input's dynamic dimension; the fixed parts must match.
      if (inferred != 1 || have != want) invalid("cannot reshape " + formatDims(input) + " to " + formatDims(reshape));
    } else if (inferred == 1) {
      if (want == 0 || have % want != 0) invalid("cannot reshape " + formatDims(input) + " to " + formatDims(reshape));
      *std::find(shape.d.begin(), shape.d.end(), -1) = have / want;
    } else if (have != want) {
      invalid("cannot reshape " + formatDims(input) + " to " + formatDims(reshape) + ": element counts differ");
    }
  }
  if (permutation.empty()) return shape;
  std::vector<int> sorted(permutation);
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (sorted[i] != static_cast<int>(i) || sorted.size() != shape.d.size()) invalid("permutation is not one of rank " + std::to_string(shape.d.size()));
  }
  Dims out{shape.d};
  for (size_t i = 0; i < permutation.size(); ++i) out.d[i] = shape.d[permutation[i]];
  return out;
}

Dims resizeDims(const Dims& input, const std::vector<float>& scales) {
  if (scales.size() != input.d.size()) invalid("resize needs one scale per axis");
  Dims out{input.d};
  for (size_t i = 0; i < scales.size(); ++i) {
    float s = scales[i];
    if (s < 1 || std::floor(s) != s) invalid("nearest resize scales must be integers >= 1");
    if (s == 1) continue;
    if (input.d[i] < 0) invalid("cannot resize a dynamic dimension");
    out.d[i] = input.d[i] * static_cast<int64_t>(s);
  }
  return out;
}

Dims matMulDims(const Dims& a, const Dims& b) {
  size_t rank = a.d.size();
  if (rank < 2 || b.d.size() != rank) invalid("matrix multiply needs two inputs of one rank >= 2");
  if (a.d[rank - 1] != b.d[rank - 2]) invalid("inner dimensions differ: " + formatDims(a) + " x " + formatDims(b));
  Dims lead = broadcastDims(Dims{{a.d.begin(), a.d.end() - 2}}, Dims{{b.d.begin(), b.d.end() - 2}});
  lead.d.push_back(a.d[rank - 2]);
  lead.d.push_back(b.d[rank - 1]);
  return lead;
}

std::vector<Dims> nmsDims(const Dims& boxes, const Dims& scores, const NmsParams& p) {
  const size_t rank = 3;
  if (boxes.d.size() != rank || scores.d.size() != rank || boxes.d[2] != ir::kNmsBoxValues) {
    invalid("NMS takes boxes [batch, boxes, 4] and scores [batch, boxes, classes], found " + formatDims(boxes) + " and " + formatDims(scores));
  }
  if (boxes.d[0] != scores.d[0] || boxes.d[1] != scores.d[1]) {
    invalid("boxes " + formatDims(boxes) + " and scores " + formatDims(scores) + " must agree on [batch, boxes]");
  }
  if (p.maxOutputBoxesPerClass < 1) invalid("maxOutputBoxesPerClass must be at least 1");
  if (!(p.iouThreshold >= 0 && p.iouThreshold <= 1)) invalid("the IoU threshold must be in [0, 1]");
  if (!std::isfinite(p.scoreThreshold)) invalid("the score threshold must be finite");
  if (p.topKBoxLimit < 1 || p.topKBoxLimit > ir::kNmsTopKLimit) invalid("the TopK box limit must be in [1, " + std::to_string(ir::kNmsTopKLimit) + "]");
  return {Dims{{ir::kDataDependent, ir::kNmsIndexFields}}, Dims{}};
}

}  // namespace netdef
