// Tests ops/softmax: the DFL's [B, 16, 4*A] along axis 1, short and long axes, inner 1, an axis of
// one, float32 and float16, in place. Reference in double; the float32 tolerance is 1e-6 relative,
// or the worst-case float32 bound when larger: (axis - 1) roundings of the sum, two expf of up to
// 2 ulp (4 roundings each), the reciprocal and the product, i.e. (axis + 9) * 2^-24.
#include <algorithm>
#include <cmath>

#include "cuda/ops/softmax.cuh"
#include "ops_test_util.h"

namespace ops_test {
namespace {

using netdef::cuda::ops::SoftmaxParams;

constexpr uint32_t kSeed = 1006;
constexpr double kUnitRoundoff = 5.9604644775390625e-08;  // 2^-24, float32
constexpr int64_t kRoundingsBesideSum = 10;                // 2 expf x 4, reciprocal, product

void runCaseFor(Rng& rng, DType t, int64_t outer, int64_t axis, int64_t inner, bool inPlace) {
  const std::string name = std::string("softmax ") + typeName(t) + " " + shapeName({outer, axis, inner}) + " axis 1" +
                           (inPlace ? " in-place" : "");
  runCase(name, [&] {
    const int64_t count = outer * axis * inner;
    const std::vector<float> x = representable(rng.uniform(count, -8.0f, 8.0f), t);
    DeviceBuffer dx(encode(x, t)), dy(count * sizeOf(t));
    dy.poison();
    SoftmaxParams p;
    p.dtype = t;
    p.x = dx.get();
    p.y = inPlace ? dx.get() : dy.get();
    p.outer = outer;
    p.axis = axis;
    p.inner = inner;
    netdef::cuda::ops::launchSoftmax(p, nullptr);
    syncDevice();
    std::vector<double> ref(count);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        const float* column = &x[o * axis * inner + i];
        float maxValue = -INFINITY;
        for (int64_t k = 0; k < axis; ++k) maxValue = std::max(maxValue, column[k * inner]);
        double sum = 0;
        for (int64_t k = 0; k < axis; ++k) sum += std::exp(static_cast<double>(column[k * inner] - maxValue));
        for (int64_t k = 0; k < axis; ++k)
          ref[o * axis * inner + k * inner + i] = std::exp(static_cast<double>(column[k * inner] - maxValue)) / sum;
      }
    const double rtol = std::max(rtolFor(t), t == DType::Float32 ? (axis - 1 + kRoundingsBesideSum) * kUnitRoundoff : 0.0);
    checkClose(name, decode((inPlace ? dx : dy).download(), t), ref, rtol, atolFor(t));
  });
}

}  // namespace

void testSoftmax() {
  Rng rng(kSeed);
  const int64_t shapes[][3] = {{1, 16, 4 * 8400}, {2, 16, 4 * 21}, {5, 7, 1}, {3, 1000, 3}, {4, 1, 9}, {2, 33, 17}};
  for (DType t : {DType::Float32, DType::Float16})
    for (const auto& s : shapes) runCaseFor(rng, t, s[0], s[1], s[2], false);
  runCaseFor(rng, DType::Float16, 2, 16, 4 * 80, true);
  expectError("softmax rejects an empty axis", netdef::kErrInvalidArgument, [] {
    SoftmaxParams p;
    p.axis = 0;
    netdef::cuda::ops::launchSoftmax(p, nullptr);
  });
}

}  // namespace ops_test
