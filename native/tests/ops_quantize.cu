// Tests ops/quantize and ops/dequantize exactly: per tensor and per channel (activation axis 1,
// weight axis 0), float32 and float16, with ties (x / scale exactly k + 0.5, which must round to
// even) and saturation (|x / scale| > 127). int8 outputs are checked after two different poisons,
// so an unwritten element cannot match. Near ties: half-integer multiples of scales that are not
// powers of two and their float neighbours, against the host's IEEE division.
#include <algorithm>
#include <cmath>

#include "cuda/ops/dequantize.cuh"
#include "cuda/ops/quantize.cuh"
#include "ops_test_util.h"

namespace ops_test {
namespace {

using netdef::cuda::ops::DequantizeParams;
using netdef::cuda::ops::QuantizeParams;

constexpr uint32_t kSeed = 1008;
constexpr float kInt8Min = -128.0f, kInt8Max = 127.0f;
// Power-of-two scale used to place exact ties: x = (k + 0.5) * kTieScale.
constexpr float kTieScale = 0.0625f;
constexpr int kTieEvery = 5;  // one input in this many is a tie
const int kPoisons[] = {0x00, 0xFF};

struct Layout {
  std::vector<int64_t> shape;
  int axis;  // -1: per tensor
};

int64_t innerOf(const Layout& l) {
  int64_t inner = 1;
  for (size_t d = l.axis + 1; d < l.shape.size(); ++d) inner *= l.shape[d];
  return inner;
}

void runQuantize(Rng& rng, DType t, const Layout& l) {
  const std::string name = std::string("quantize ") + typeName(t) + " " + shapeName(l.shape) +
                           (l.axis < 0 ? " per-tensor" : " axis " + std::to_string(l.axis));
  runCase(name, [&] {
    int64_t count = 1;
    for (int64_t d : l.shape) count *= d;
    const int64_t channels = l.axis < 0 ? 1 : l.shape[l.axis], inner = l.axis < 0 ? 1 : innerOf(l);
    std::vector<float> scales = rng.uniform(channels, 0.01f, 0.05f);
    scales[0] = kTieScale;
    std::vector<float> x = rng.uniform(count, -6.0f, 6.0f);  // |x / scale| up to 600: saturates
    for (int64_t i = 0; i < count; i += kTieEvery) {
      const float k = static_cast<float>(rng.integer(-20, 20));
      if (channels == 1 || (i / inner) % channels == 0) x[i] = (k + 0.5f) * kTieScale;
    }
    x = representable(x, t);
    std::vector<uint8_t> ref(count);
    for (int64_t i = 0; i < count; ++i) {
      const float q = std::nearbyint(x[i] / scales[channels == 1 ? 0 : (i / inner) % channels]);
      ref[i] = static_cast<uint8_t>(static_cast<int8_t>(std::min(std::max(q, kInt8Min), kInt8Max)));
    }
    DeviceBuffer dx(encode(x, t)), ds(encode(scales, DType::Float32)), dy(count);
    QuantizeParams p;
    p.dtype = t;
    p.x = dx.get();
    p.y = dy.as<int8_t>();
    p.scales = ds.as<float>();
    p.count = count;
    p.channels = channels;
    p.inner = inner;
    for (int poison : kPoisons) {
      dy.poison(poison);
      netdef::cuda::ops::launchQuantize(p, nullptr);
      syncDevice();
      checkBytes(name + " poison " + std::to_string(poison), dy.download(), ref);
    }
  });
}

void runDequantize(Rng& rng, DType t, const Layout& l) {
  const std::string name = std::string("dequantize ") + typeName(t) + " " + shapeName(l.shape) +
                           (l.axis < 0 ? " per-tensor" : " axis " + std::to_string(l.axis));
  runCase(name, [&] {
    int64_t count = 1;
    for (int64_t d : l.shape) count *= d;
    const int64_t channels = l.axis < 0 ? 1 : l.shape[l.axis], inner = l.axis < 0 ? 1 : innerOf(l);
    const std::vector<float> scales = rng.uniform(channels, 0.001f, 0.1f);
    std::vector<uint8_t> q(count);
    std::vector<float> ref(count);
    for (int64_t i = 0; i < count; ++i) {
      int64_t v = rng.integer(-128, 126);
      v += v >= 0;  // never 0
      q[i] = static_cast<uint8_t>(static_cast<int8_t>(v));
      ref[i] = static_cast<float>(v) * scales[channels == 1 ? 0 : (i / inner) % channels];
    }
    ref = representable(ref, t);
    DeviceBuffer dq(q), ds(encode(scales, DType::Float32)), dy(count * sizeOf(t));
    dy.poison();
    DequantizeParams p;
    p.to = t;
    p.x = dq.as<int8_t>();
    p.y = dy.get();
    p.scales = ds.as<float>();
    p.count = count;
    p.channels = channels;
    p.inner = inner;
    netdef::cuda::ops::launchDequantize(p, nullptr);
    syncDevice();
    checkBytes(name, dy.download(), encode(ref, t));
  });
}

// Quantize against the host's IEEE division, per tensor in float32, on the values where a rounding
// other than the quotient's (a multiplication by the scale's inverse, say) would part from it: a half-integer's multiple of the scale and its float neighbours a few
// steps either side, over the whole int8 range and past the saturation edges (128.5, 129); scales
// that are not powers of two; a scale whose inverse is subnormal and a subnormal scale (whose
// inverse overflows).
void runQuantizeNearTies() {
  constexpr float kScales[] = {0.0137f, 0.3f, 1.0f / 3.0f, 7.1e-3f, 2.5e-3f, 3.0e38f, 1.0e-39f};
  constexpr int kUlpsEachSide = 4;
  constexpr int kPastRange = 131;  // half-integers from -131.5 to 130.5
  for (float scale : kScales) {
    const std::string name = "quantize near ties, scale " + std::to_string(scale);
    runCase(name, [&] {
      std::vector<float> x;
      for (int k = -kPastRange; k < kPastRange; ++k) {
        for (float at : {(static_cast<float>(k) + 0.5f) * scale, static_cast<float>(k) * scale}) {
          float below = at, above = at;
          x.push_back(at);
          for (int u = 0; u < kUlpsEachSide; ++u) {
            below = std::nextafter(below, -INFINITY);
            above = std::nextafter(above, INFINITY);
            x.push_back(below);
            x.push_back(above);
          }
        }
      }
      std::vector<uint8_t> ref(x.size());
      for (size_t i = 0; i < x.size(); ++i) {
        const float q = std::nearbyint(x[i] / scale);
        ref[i] = static_cast<uint8_t>(static_cast<int8_t>(std::min(std::max(q, kInt8Min), kInt8Max)));
      }
      const auto count = static_cast<int64_t>(x.size());
      const std::vector<float> scales{scale};
      DeviceBuffer dx(encode(x, DType::Float32)), ds(encode(scales, DType::Float32)), dy(count);
      QuantizeParams p;
      p.dtype = DType::Float32;
      p.x = dx.get();
      p.y = dy.as<int8_t>();
      p.scales = ds.as<float>();
      p.count = count;
      p.channels = 1;
      p.inner = 1;
      for (int poison : kPoisons) {
        dy.poison(poison);
        netdef::cuda::ops::launchQuantize(p, nullptr);
        syncDevice();
        checkBytes(name + " poison " + std::to_string(poison), dy.download(), ref);
      }
    });
  }
}

}  // namespace

void testQuantize() {
  Rng rng(kSeed);
  const Layout layouts[] = {{{2, 6, 5, 7}, -1}, {{2, 6, 5, 7}, 1}, {{16, 3, 3, 3}, 0}, {{1, 1001}, -1}, {{3, 5}, 1}};
  for (DType t : {DType::Float32, DType::Float16})
    for (const Layout& l : layouts) {
      runQuantize(rng, t, l);
      runDequantize(rng, t, l);
    }
  runQuantizeNearTies();
  expectError("quantize rejects a count that is not a multiple of channels * inner", netdef::kErrInvalidArgument, [] {
    QuantizeParams p;
    p.count = 10;
    p.channels = 3;
    p.inner = 1;
    netdef::cuda::ops::launchQuantize(p, nullptr);
  });
}

}  // namespace ops_test
