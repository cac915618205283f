// Helpers for the CUDA engine tests (engine_test.cu, engine_yolo_bench.cu): CPU references in
// double for the ops the test networks use (NCHW), a norm-relative comparison, weights and
// INetwork helpers. Reuses ops_test_util.h's harness (record, tally, Rng, encode/decode).
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "cuda/cuda_network.h"
#include "cuda/engine_api.h"
#include "ops_test_util.h"

namespace engine_test {

using netdef::ir::DType;
using Tensor4 = std::vector<double>;  // NCHW, shape kept by the caller

struct Shape4 {
  int64_t n, c, h, w;
  int64_t count() const { return n * c * h * w; }
};

// ‖got − ref‖ / ‖ref‖ <= tol (NaN fails), recorded as one case.
inline bool checkNorm(const std::string& name, const std::vector<float>& got, const std::vector<double>& ref, double tol) {
  if (got.size() != ref.size()) {
    ops_test::record(false, name, "size " + std::to_string(got.size()) + " != " + std::to_string(ref.size()));
    return false;
  }
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = static_cast<double>(got[i]) - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
  }
  const double rel = std::sqrt(num / (den > 0 ? den : 1));
  char detail[160];
  std::snprintf(detail, sizeof detail, "n=%zu rel err %.3g (tol %.1g)", ref.size(), rel, tol);
  const bool ok = rel <= tol;  // false for NaN
  ops_test::record(ok, name, detail);
  return ok;
}

struct ConvSpec {
  int64_t inC, outC, k, stride, pad, groups;
  bool bias;
  bool silu;
};

// y = silu?(conv(x, w) + b), double, NCHW, weights [outC, inC/groups, k, k]; also the magnitude
// sum |w x| + |b| per output (the scale an error is measured against).
inline Tensor4 convRef(const Tensor4& x, Shape4 s, const std::vector<double>& w, const std::vector<double>& b,
                       const ConvSpec& c, Shape4& out, std::vector<double>* magnitude = nullptr) {
  out = {s.n, c.outC, (s.h + 2 * c.pad - c.k) / c.stride + 1, (s.w + 2 * c.pad - c.k) / c.stride + 1};
  Tensor4 y(out.count());
  if (magnitude) magnitude->assign(out.count(), 0.0);
  const int64_t cpg = c.inC / c.groups, kpg = c.outC / c.groups;
  for (int64_t n = 0; n < out.n; ++n)
    for (int64_t k = 0; k < out.c; ++k)
      for (int64_t oy = 0; oy < out.h; ++oy)
        for (int64_t ox = 0; ox < out.w; ++ox) {
          double acc = c.bias ? b[k] : 0, mag = c.bias ? std::fabs(b[k]) : 0;
          const int64_t g = k / kpg;
          for (int64_t ci = 0; ci < cpg; ++ci)
            for (int64_t ky = 0; ky < c.k; ++ky)
              for (int64_t kx = 0; kx < c.k; ++kx) {
                const int64_t iy = oy * c.stride - c.pad + ky, ix = ox * c.stride - c.pad + kx;
                if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
                const double term = w[((k * cpg + ci) * c.k + ky) * c.k + kx] * x[((n * s.c + g * cpg + ci) * s.h + iy) * s.w + ix];
                acc += term;
                mag += std::fabs(term);
              }
          const size_t at = ((n * out.c + k) * out.h + oy) * out.w + ox;
          y[at] = c.silu ? acc / (1 + std::exp(-acc)) : acc;
          if (magnitude) (*magnitude)[at] = mag;
        }
  return y;
}

inline std::vector<double> toDouble(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

// Values as the device holds them in `t`, widened to double.
inline std::vector<double> held(const std::vector<float>& v, DType t) { return toDouble(ops_test::representable(v, t)); }

// Weights view over host floats already encoded in `t` (bytes must outlive the call that takes them).
inline netdef::Weights weights(const std::string& name, DType t, const std::vector<uint8_t>& bytes) {
  return netdef::Weights{name, t, bytes.data(), static_cast<int64_t>(bytes.size() / ops_test::sizeOf(t))};
}

inline netdef::ConvolutionParams convParams(int64_t k, int64_t stride, int64_t pad, int64_t groups) {
  return netdef::ConvolutionParams{{k, k}, {stride, stride}, {1, 1}, {pad, pad}, {pad, pad}, groups};
}

// Uniform weights with the scale that keeps activations near unit size (He-like).
inline std::vector<float> heWeights(ops_test::Rng& rng, int64_t count, int64_t fanIn) {
  const float a = std::sqrt(3.0f / static_cast<float>(fanIn));
  return rng.uniform(static_cast<size_t>(count), -a, a);
}

constexpr float kInputRange = 2.0f;  // inputs are uniform in [-kInputRange, kInputRange]

inline netdef::cuda::BuildOptions smallBatches() {
  netdef::cuda::BuildOptions o;
  o.minBatch = 1;
  o.optBatch = 2;
  o.maxBatch = 3;
  return o;
}

// What the tests are doing now, printed by the standalone main's crash handler.
inline char* crashContext() {
  static char context[256] = "";
  return context;
}

// Test groups (engine_test.cu), and the YOLOv8n-shaped timing run (engine_yolo_bench.cu).
void runEngineTests();
void testRunImages();  // engine_test_images.cu
void testInt8Engine();  // engine_test_int8.cu
void runYoloBench(const std::string& scale);  // "n" or "x"

}  // namespace engine_test
