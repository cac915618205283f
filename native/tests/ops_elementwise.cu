// Tests ops/elementwise: the six ops with NumPy broadcasting (same shapes, trailing vectors, both
// sides broadcast, scalars, rank 6), float32 and float16, in place, and shape errors.
#include <algorithm>
#include <cmath>

#include "cuda/ops/elementwise.cuh"
#include "ops_test_util.h"

namespace ops_test {
namespace {

using netdef::cuda::ops::Dims;
using netdef::cuda::ops::ElementwiseParams;
using netdef::ir::ElementWiseOp;
using Shape = std::vector<int64_t>;

constexpr uint32_t kSeed = 1002;

float apply(ElementWiseOp op, float a, float b) {  // in float32, as the kernel computes
  switch (op) {
    case ElementWiseOp::Add: return a + b;
    case ElementWiseOp::Sub: return a - b;
    case ElementWiseOp::Mul: return a * b;
    case ElementWiseOp::Div: return a / b;
    case ElementWiseOp::Max: return std::max(a, b);
    case ElementWiseOp::Min: return std::min(a, b);
  }
  return NAN;
}

const char* opName(ElementWiseOp op) {
  const char* names[] = {"add", "sub", "mul", "div", "max", "min"};
  return names[static_cast<int>(op)];
}

int64_t countOf(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Shape broadcast(const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
    const int64_t db = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
    out[i] = std::max(da, db);
  }
  return out;
}

// The element of contiguous `in` that output element `i` of shape `out` reads under broadcasting.
int64_t sourceIndex(const Shape& out, const Shape& in, int64_t i) {
  int64_t index = 0, stride = 1;
  for (size_t k = 0; k < out.size(); ++k) {
    const size_t d = out.size() - 1 - k;
    const int64_t coord = i % out[d];
    i /= out[d];
    if (k < in.size()) {
      const int64_t size = in[in.size() - 1 - k];
      if (size != 1) index += coord * stride;
      stride *= size;
    }
  }
  return index;
}

void runCaseFor(Rng& rng, DType t, ElementWiseOp op, const Shape& as, const Shape& bs, bool inPlace) {
  const Shape ys = broadcast(as, bs);
  const std::string name = std::string("elementwise ") + opName(op) + " " + typeName(t) + " " + shapeName(as) + " " +
                           shapeName(bs) + " -> " + shapeName(ys) + (inPlace ? " in-place" : "");
  runCase(name, [&] {
    const std::vector<float> a = representable(rng.uniform(countOf(as), -2.0f, 2.0f), t);
    const std::vector<float> b = representable(rng.uniform(countOf(bs), -2.0f, 2.0f), t);
    DeviceBuffer da(encode(a, t)), db(encode(b, t)), dy(countOf(ys) * sizeOf(t));
    dy.poison();
    ElementwiseParams p;
    p.op = op;
    p.dtype = t;
    p.a = da.get();
    p.b = db.get();
    p.y = inPlace ? da.get() : dy.get();
    p.aShape = Dims(as);
    p.bShape = Dims(bs);
    p.yShape = Dims(ys);
    netdef::cuda::ops::launchElementwise(p, nullptr);
    syncDevice();
    std::vector<double> ref(countOf(ys));
    for (int64_t i = 0; i < countOf(ys); ++i) ref[i] = apply(op, a[sourceIndex(ys, as, i)], b[sourceIndex(ys, bs, i)]);
    checkClose(name, decode((inPlace ? da : dy).download(), t), ref, rtolFor(t), atolFor(t));
  });
}

}  // namespace

void testElementwise() {
  Rng rng(kSeed);
  const std::pair<Shape, Shape> shapes[] = {
      {{2, 3, 5, 7}, {2, 3, 5, 7}}, {{2, 3, 5, 7}, {7}},     {{2, 3, 1, 7}, {1, 3, 5, 1}},
      {{2, 2, 841}, {2, 841}},      {{3, 17}, {}},           {{1}, {3, 4}},
      {{4, 1, 6}, {5, 1}},          {{2, 1, 3, 1, 2, 5}, {1, 4, 1, 3, 1, 5}},
  };
  for (DType t : {DType::Float32, DType::Float16})
    for (int op = 0; op <= static_cast<int>(ElementWiseOp::Min); ++op)
      for (const auto& s : shapes) runCaseFor(rng, t, static_cast<ElementWiseOp>(op), s.first, s.second, false);
  runCaseFor(rng, DType::Float16, ElementWiseOp::Add, {2, 16, 33}, {2, 16, 33}, true);
  runCaseFor(rng, DType::Float32, ElementWiseOp::Mul, {2, 4, 65}, {1, 4, 1}, true);

  expectError("elementwise rejects shapes that do not broadcast", netdef::kErrInvalidArgument, [] {
    ElementwiseParams p;
    p.aShape = Dims{2, 3};
    p.bShape = Dims{4};
    p.yShape = Dims{2, 3};
    netdef::cuda::ops::launchElementwise(p, nullptr);
  });
  expectError("elementwise rejects a wrong output shape", netdef::kErrInvalidArgument, [] {
    ElementwiseParams p;
    p.aShape = Dims{2, 3};
    p.bShape = Dims{3};
    p.yShape = Dims{3, 2};
    netdef::cuda::ops::launchElementwise(p, nullptr);
  });
}

}  // namespace ops_test
