// Tests igemm/igemm_conv (the int8 implicit-GEMM convolution) against a CPU reference:
//  - the raw int32 accumulator, exactly, for every geometry and every tile shape, in one slice and
//    split in three (split-K, the counters left at zero): 1x1, 3x3 and
//    5x5, stride 1 and 2, padding, odd H and W, batch > 1, pixel counts and channel counts that
//    end inside a tile, reductions longer than the pipeline, an input that is a channel range of a
//    wider tensor;
//  - the fused epilogue, the reference doing the same float32 operations: int8 requantization
//    (exact: ties to even, saturation), SiLU / sigmoid / ReLU, float16 output (within float16
//    rounding), float32 output (within the fast exp and reciprocal's ~1e-6), int8 and float16 residuals, output written into a channel range of a wider tensor
//    with the other channels left untouched, vector and element-wise stores, some split-K;
//  - the argument checks (typed errors, nothing launched).
// The device's SiLU and sigmoid (fused_activation.cuh: __expf, __fdividef) differ from std::exp
// by about 1e-6 relative, so an int8 output after SiLU
// or sigmoid may differ by one step where v / outputScale lies next to a tie: allowed for at most
// kMaxOffByOneFraction of the elements, never more than one step.
#include <algorithm>
#include <cstdio>
#include <iterator>
#include <cmath>
#include <cstring>

#include "cuda/igemm/igemm_conv.h"
#include "igemm_split_buffers.h"
#include "ops_test_util.h"

namespace ops_test {
namespace {

using netdef::cuda::FusedActivation;
using netdef::cuda::igemm::IgemmConvParams;
using netdef::cuda::igemm::IgemmTile;
using netdef::cuda::igemm::igemmTileName;
using netdef::cuda::igemm::kIgemmTiles;
using netdef::cuda::igemm::launchIgemmConv;

constexpr uint32_t kSeed = 1212;
constexpr int kInt8Min = -128, kInt8Max = 127;
constexpr double kMaxOffByOneFraction = 1e-3;
constexpr double kFp16AbsFloor = 1e-4;  // absolute allowance of float16 outputs near zero
constexpr int kNoSuchTile = 200;  // no IgemmTile has this value
// float32 outputs: the same float operations, but the device's fast exp and reciprocal differ by about 1e-6.
constexpr double kFp32OutRtol = 1e-5;
constexpr double kFp32AbsFloor = 1e-6;
constexpr uint8_t kPoisonInt8 = 0x7B;   // storage outside the written channel range must keep it
constexpr int kChannelVector = 16;      // int8 channels of one 16-byte chunk
constexpr float kInputScale = 1.0f / 64;
// Output scale: the largest |v| maps to this many steps (slightly past 127: some saturate).
constexpr float kHeadroomSteps = 110.0f;
constexpr float kSaturatingSteps = 1000.0f;  // the saturation case: most outputs clamp
// Split-K: every raw case also in 3 slices (uneven: the last one shorter), and every kEpilogueSplitEvery-th
// epilogue case in kEpilogueSplits (the epilogue runs once, on the sum, in the last block).
constexpr int kRawSplits = 3;
constexpr int kEpilogueSplits = 4;
constexpr int kEpilogueSplitEvery = 3;

struct Geometry {
  int64_t n, h, w, c, k, r, s, stride, pad;
  int range = kInt8Max;      // x and w drawn from [-range, range]
  int64_t xExtra = 0;        // x lies in a tensor this many channels wider, at channel offset xExtra
  int64_t strideW = 0;       // the column stride where it differs from the row stride (0: stride)
  int64_t padW = -1;         // the left padding where it differs from the top one (-1: pad)
  int64_t sw() const { return strideW > 0 ? strideW : stride; }
  int64_t pw() const { return padW >= 0 ? padW : pad; }
};

int64_t outSize(int64_t in, int64_t kernel, int64_t stride, int64_t pad) { return (in + 2 * pad - kernel) / stride + 1; }

struct Problem {
  Geometry g;
  int64_t p = 0, q = 0, m = 0;  // output rows, columns, pixels (all samples)
  int64_t xStride = 0;
  std::vector<int8_t> x;  // [N, H, W, xStride]
  std::vector<int8_t> w;  // [K, R, S, C]
  std::vector<int32_t> acc;  // [M, K]
};

Problem makeProblem(Rng& rng, const Geometry& g) {
  Problem pr;
  pr.g = g;
  pr.p = outSize(g.h, g.r, g.stride, g.pad);
  pr.q = outSize(g.w, g.s, g.sw(), g.pw());
  pr.m = g.n * pr.p * pr.q;
  pr.xStride = g.c + g.xExtra;
  pr.x.resize(g.n * g.h * g.w * pr.xStride);
  for (auto& v : pr.x) v = static_cast<int8_t>(rng.integer(-g.range, g.range));
  pr.w.resize(g.k * g.r * g.s * g.c);
  for (auto& v : pr.w) v = static_cast<int8_t>(rng.integer(-g.range, g.range));
  pr.acc.assign(pr.m * g.k, 0);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t p = 0; p < pr.p; ++p)
      for (int64_t q = 0; q < pr.q; ++q) {
        int32_t* out = &pr.acc[((n * pr.p + p) * pr.q + q) * g.k];
        for (int64_t r = 0; r < g.r; ++r) {
          const int64_t h = p * g.stride - g.pad + r;
          if (h < 0 || h >= g.h) continue;
          for (int64_t s = 0; s < g.s; ++s) {
            const int64_t w = q * g.sw() - g.pw() + s;
            if (w < 0 || w >= g.w) continue;
            const int8_t* xv = &pr.x[((n * g.h + h) * g.w + w) * pr.xStride + g.xExtra];
            for (int64_t k = 0; k < g.k; ++k) {
              const int8_t* wv = &pr.w[((k * g.r + r) * g.s + s) * g.c];
              int32_t sum = 0;
              for (int64_t c = 0; c < g.c; ++c) sum += static_cast<int32_t>(xv[c]) * wv[c];
              out[k] += sum;
            }
          }
        }
      }
  return pr;
}

std::string geometryName(const Geometry& g) {
  char s[160];
  std::snprintf(s, sizeof s, "[%lld,%lld,%lld,%lld]->%lld k%lldx%lld s%lld p%lld%s%s", (long long)g.n, (long long)g.h,
                (long long)g.w, (long long)g.c, (long long)g.k, (long long)g.r, (long long)g.s, (long long)g.stride,
                (long long)g.pad, g.sw() != g.stride || g.pw() != g.pad ? " (columns: other stride and padding)" : "",
                g.xExtra ? " x-view" : "");
  return s;
}

template <typename T>
std::vector<uint8_t> bytesOf(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

IgemmConvParams baseParams(const Problem& pr, const DeviceBuffer& x, const DeviceBuffer& w, IgemmTile tile) {
  const Geometry& g = pr.g;
  IgemmConvParams p;
  p.batch = g.n;
  p.height = g.h;
  p.width = g.w;
  p.inChannels = g.c;
  p.outChannels = g.k;
  p.outHeight = pr.p;
  p.outWidth = pr.q;
  p.kernelH = g.r;
  p.kernelW = g.s;
  p.strideH = g.stride;
  p.strideW = g.sw();
  p.padTop = g.pad;
  p.padLeft = g.pw();
  p.x = x.as<int8_t>(g.xExtra);
  p.xPixelStride = pr.xStride;
  p.w = w.get();
  p.tile = tile;
  return p;
}

// " split-k N" for a launch that runs N > 1 slices, else "".
std::string splitLabel(const IgemmConvParams& p) {
  const int splits = netdef::cuda::igemm::igemmEffectiveSplits(p);
  return splits > 1 ? " split-k " + std::to_string(splits) : "";
}

// The first few int32 accumulators that differ, as (pixel m, channel n): got / want, to tell a
// layout error (rows or columns moved) from an arithmetic one.
void printMismatches(const std::vector<uint8_t>& got, const std::vector<int32_t>& want, int64_t channels) {
  constexpr int kShown = 8;
  int shown = 0;
  for (size_t i = 0; i < want.size() && shown < kShown; ++i) {
    int32_t v = 0;
    std::memcpy(&v, got.data() + i * sizeof(int32_t), sizeof v);
    if (v == want[i]) continue;
    std::printf("#   m %lld n %lld: %d, want %d\n", (long long)(i / channels), (long long)(i % channels), v, want[i]);
    ++shown;
  }
}

// After a split launch: every counter back at zero.
void checkCountersLeft(const std::string& name, const IgemmConvParams& p, const SplitBuffers& split) {
  if (netdef::cuda::igemm::igemmEffectiveSplits(p) < 2) return;
  const size_t left = split.countersLeft();
  record(left == 0, name + ": split-K counters back at zero", std::to_string(left) + " not zero");
}

void testRaw(const Problem& pr, const DeviceBuffer& x, const DeviceBuffer& w) {
  for (IgemmTile tile : netdef::cuda::igemm::igemmUsableTiles())
    for (int splits : {1, kRawSplits}) {
      IgemmConvParams p = baseParams(pr, x, w, tile);
      p.splits = splits;
      if (splits > 1 && netdef::cuda::igemm::igemmEffectiveSplits(p) < 2) continue;  // one reduction step: nothing to split
      const std::string name = std::string("igemm int32 ") + geometryName(pr.g) + " tile " + igemmTileName(tile) + splitLabel(p);
      runCase(name, [&] {
        DeviceBuffer y(pr.acc.size() * sizeof(int32_t));
        p.outType = DType::Int32;
        p.y = y.get();
        const SplitBuffers split(p);
        split.attach(p);
        y.poison();
        launchIgemmConv(p, nullptr);
        syncDevice();
        const std::vector<uint8_t> got = y.download();
        if (!checkBytes(name, got, bytesOf(pr.acc))) printMismatches(got, pr.acc, pr.g.k);
        checkCountersLeft(name, p, split);
      });
    }
}

enum class Scales { kRandom, kTies, kSaturating };
enum class Residual { kNone, kInt8, kFloat16 };

struct EpilogueCase {
  const char* label;
  DType out;
  FusedActivation act;
  bool bias;
  Scales scales;
  Residual residual;
  int64_t yOffset, yExtra;  // y lies in a tensor K + yExtra channels wide, at channel yOffset
  int64_t rOffset, rExtra;  // likewise the residual
};

const EpilogueCase kEpilogueCases[] = {
    {"int8 bias", DType::Int8, FusedActivation::kNone, true, Scales::kRandom, Residual::kNone, 0, 0, 0, 0},
    {"int8 bias silu", DType::Int8, FusedActivation::kSilu, true, Scales::kRandom, Residual::kNone, 0, 0, 0, 0},
    {"int8 ties to even", DType::Int8, FusedActivation::kNone, false, Scales::kTies, Residual::kNone, 0, 0, 0, 0},
    {"int8 saturating", DType::Int8, FusedActivation::kNone, true, Scales::kSaturating, Residual::kNone, 0, 0, 0, 0},
    {"fp16 bias silu", DType::Float16, FusedActivation::kSilu, true, Scales::kRandom, Residual::kNone, 0, 0, 0, 0},
    {"int8 silu + int8 residual, y view 16/+48", DType::Int8, FusedActivation::kSilu, true, Scales::kRandom, Residual::kInt8,
     16, 48, 32, 32},
    {"fp16 + fp16 residual, y view 8/+24", DType::Float16, FusedActivation::kNone, true, Scales::kRandom, Residual::kFloat16,
     8, 24, 0, 16},
    {"int8 relu + int8 residual, y view 3/+7 (element stores)", DType::Int8, FusedActivation::kRelu, true, Scales::kRandom,
     Residual::kInt8, 3, 7, 5, 9},
    {"fp16 sigmoid no bias, y view 1/+3 (element stores)", DType::Float16, FusedActivation::kSigmoid, false, Scales::kRandom,
     Residual::kNone, 1, 3, 0, 0},
    {"fp32 bias silu", DType::Float32, FusedActivation::kSilu, true, Scales::kRandom, Residual::kNone, 0, 0, 0, 0},
    {"fp32 silu + int8 residual, y view 4/+12", DType::Float32, FusedActivation::kSilu, true, Scales::kRandom, Residual::kInt8,
     4, 12, 16, 16},
    {"fp32 + fp16 residual, y view 8/+8", DType::Float32, FusedActivation::kNone, true, Scales::kRandom, Residual::kFloat16,
     8, 8, 0, 8},
    {"fp32 sigmoid no bias, y view 1/+3 (element stores)", DType::Float32, FusedActivation::kSigmoid, false, Scales::kRandom,
     Residual::kNone, 1, 3, 0, 0},
};

float activateRef(float v, FusedActivation a) {
  switch (a) {
    case FusedActivation::kSilu: return v / (1.0f + std::exp(-v));
    case FusedActivation::kSigmoid: return 1.0f / (1.0f + std::exp(-v));
    case FusedActivation::kRelu: return std::max(v, 0.0f);
    case FusedActivation::kNone: break;
  }
  return v;
}

int8_t quantizeRef(float v, float scale) {
  const float q = std::nearbyint(v / scale);
  return static_cast<int8_t>(std::min(std::max(q, static_cast<float>(kInt8Min)), static_cast<float>(kInt8Max)));
}

void testEpilogue(Rng& rng, const Problem& pr, const DeviceBuffer& x, const DeviceBuffer& w, const EpilogueCase& e,
                  IgemmTile tile, int splits) {
  const Geometry& g = pr.g;
  IgemmConvParams p = baseParams(pr, x, w, tile);
  p.splits = splits;
  const std::string name = std::string("igemm ") + e.label + " " + geometryName(g) + " tile " + igemmTileName(tile) + splitLabel(p);
  runCase(name, [&] {
    const int64_t K = g.k, M = pr.m;
    // Scales and bias.
    float inputScale = kInputScale;
    std::vector<float> wScale(K), bias(K, 0.0f);
    if (e.scales == Scales::kTies) {
      inputScale = 0.5f;  // v = acc / 2 exactly: every odd accumulator is a tie
      std::fill(wScale.begin(), wScale.end(), 1.0f);
    } else {
      wScale = rng.uniform(K, 0.5f / kInt8Max, 1.5f / kInt8Max);
    }
    float maxAbs = 0;
    for (int64_t i = 0; i < M * K; ++i)
      maxAbs = std::max(maxAbs, std::fabs(static_cast<float>(pr.acc[i]) * inputScale * wScale[i % K]));
    if (e.bias) bias = rng.uniform(K, -0.25f * maxAbs, 0.25f * maxAbs);
    float outScale = 1.0f;
    if (e.scales == Scales::kRandom) outScale = std::max(maxAbs, 1.0f) / kHeadroomSteps;
    if (e.scales == Scales::kSaturating) outScale = std::max(maxAbs, 1.0f) / kSaturatingSteps;
    // Residual, in its own wider storage.
    const int64_t rStride = K + e.rExtra;
    const float rScale = e.residual == Residual::kInt8 ? 0.5f * outScale : 1.0f;
    std::vector<float> residual(M * rStride, 0.0f);  // values as the device reads them
    if (e.residual == Residual::kInt8) {
      for (auto& v : residual) v = static_cast<float>(rng.integer(kInt8Min, kInt8Max));
    } else if (e.residual == Residual::kFloat16) {
      residual = representable(rng.uniform(M * rStride, -maxAbs, maxAbs), DType::Float16);
    }
    // Reference, the device's float32 operations in the same order.
    const int64_t yStride = K + e.yExtra;
    std::vector<float> ref(M * K);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t k = 0; k < K; ++k) {
        float v = std::fma(static_cast<float>(pr.acc[m * K + k]), inputScale * wScale[k], bias[k]);
        v = activateRef(v, e.act);
        if (e.residual != Residual::kNone) v = std::fma(residual[m * rStride + e.rOffset + k], rScale, v);
        ref[m * K + k] = v;
      }
    // Device buffers.
    const size_t outBytes = e.out == DType::Int8 ? 1 : e.out == DType::Float16 ? sizeof(__half) : sizeof(float);
    DeviceBuffer dScale(encode(wScale, DType::Float32)), dBias(encode(bias, DType::Float32));
    DeviceBuffer y(M * yStride * outBytes);
    std::vector<uint8_t> residualBytes;
    if (e.residual == Residual::kInt8) {
      residualBytes.resize(residual.size());
      for (size_t i = 0; i < residual.size(); ++i) residualBytes[i] = static_cast<uint8_t>(static_cast<int8_t>(residual[i]));
    } else if (e.residual == Residual::kFloat16) {
      residualBytes = encode(residual, DType::Float16);
    } else {
      residualBytes.resize(1);
    }
    DeviceBuffer dResidual(residualBytes);
    const SplitBuffers split(p);
    split.attach(p);
    p.inputScale = inputScale;
    p.weightScales = dScale.as<float>();
    p.bias = e.bias ? dBias.as<float>() : nullptr;
    p.activation = e.act;
    p.outType = e.out;
    p.outputScale = outScale;
    p.y = y.get();
    p.yPixelStride = yStride;
    p.yChannelOffset = e.yOffset;
    if (e.residual != Residual::kNone) {
      p.residual = dResidual.get();
      p.residualType = e.residual == Residual::kInt8 ? DType::Int8 : DType::Float16;
      p.residualScale = rScale;
      p.residualPixelStride = rStride;
      p.residualChannelOffset = e.rOffset;
    }
    y.poison(kPoisonInt8);
    launchIgemmConv(p, nullptr);
    syncDevice();
    checkCountersLeft(name, p, split);
    const std::vector<uint8_t> got = y.download();
    // Channels outside [yOffset, yOffset + K) keep the poison.
    size_t touched = 0;
    for (int64_t m = 0; m < M; ++m)
      for (int64_t c = 0; c < yStride; ++c) {
        if (c >= e.yOffset && c < e.yOffset + K) continue;
        for (size_t b = 0; b < outBytes; ++b) touched += got[(m * yStride + c) * outBytes + b] != kPoisonInt8;
      }
    if (touched) {
      record(false, name, std::to_string(touched) + " bytes outside the output's channel range were written");
      return;
    }
    if (e.out == DType::Int8) {
      size_t offByOne = 0, worse = 0, firstWorse = 0;
      for (int64_t m = 0; m < M; ++m)
        for (int64_t k = 0; k < K; ++k) {
          const int want = quantizeRef(ref[m * K + k], outScale);
          const int have = static_cast<int8_t>(got[m * yStride + e.yOffset + k]);
          if (have == want) continue;
          if (std::abs(have - want) == 1 && e.act != FusedActivation::kNone && e.act != FusedActivation::kRelu) {
            ++offByOne;
          } else if (worse++ == 0) {
            firstWorse = m * K + k;
          }
        }
      const bool ok = worse == 0 && offByOne <= kMaxOffByOneFraction * M * K;
      char detail[200];
      std::snprintf(detail, sizeof detail, "n=%lld, %zu off by one step, %zu worse%s", (long long)(M * K), offByOne, worse,
                    worse ? (" first at " + std::to_string(firstWorse)).c_str() : "");
      record(ok, name, detail);
      return;
    }
    std::vector<float> have(M * K);
    std::vector<double> want(M * K);
    const std::vector<float> all = decode(got, e.out);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t k = 0; k < K; ++k) {
        have[m * K + k] = all[m * yStride + e.yOffset + k];
        want[m * K + k] = ref[m * K + k];
      }
    if (e.out == DType::Float16) {
      checkClose(name, have, want, kFp16Rtol, kFp16AbsFloor);
    } else {
      checkClose(name, have, want, kFp32OutRtol, kFp32AbsFloor);
    }
  });
}

void testChecks() {
  // A valid 1x1 call on fake (aligned, never dereferenced) pointers, each test breaking one thing.
  alignas(16) static int8_t fake[64];
  static float fakeScales[4];
  auto valid = [] {
    IgemmConvParams p;
    p.batch = 1;
    p.height = p.width = 4;
    p.inChannels = kChannelVector;
    p.outChannels = kChannelVector;
    p.outHeight = p.outWidth = 4;
    p.x = fake;
    p.w = fake;
    p.y = fake;
    p.weightScales = fakeScales;
    return p;
  };
  record(netdef::cuda::igemm::checkIgemmConv(valid()).empty(), "igemm check accepts a valid call", "");
  struct Bad {
    const char* what;
    std::function<void(IgemmConvParams&)> breakIt;
  };
  const Bad bad[] = {
      {"C = 3", [](IgemmConvParams& p) { p.inChannels = 3; }},
      {"C = 24 (not a multiple of 16)", [](IgemmConvParams& p) { p.inChannels = 24; }},
      {"null x", [](IgemmConvParams& p) { p.x = nullptr; }},
      {"misaligned x", [](IgemmConvParams& p) { p.x = fake + 1; }},
      {"x pixel stride below C", [](IgemmConvParams& p) { p.xPixelStride = 8; }},
      {"float32 input", [](IgemmConvParams& p) { p.inType = DType::Float32; }},
      {"float16 bias with an int8 input", [](IgemmConvParams& p) { p.biasType = DType::Float16; }},
      {"uint8 output", [](IgemmConvParams& p) { p.outType = DType::UInt8; }},
      {"int32 output with an activation", [](IgemmConvParams& p) {
         p.outType = DType::Int32;
         p.activation = FusedActivation::kSilu;
       }},
      {"no weight scales", [](IgemmConvParams& p) { p.weightScales = nullptr; }},
      {"zero output scale", [](IgemmConvParams& p) { p.outputScale = 0.0f; }},
      {"NaN input scale", [](IgemmConvParams& p) { p.inputScale = std::nanf(""); }},
      {"y offset + K past the stride", [](IgemmConvParams& p) {
         p.yPixelStride = 2 * kChannelVector;
         p.yChannelOffset = kChannelVector + 1;
       }},
      {"float32 residual", [](IgemmConvParams& p) {
         p.residual = fake;
         p.residualType = DType::Float32;
       }},
      {"zero stride", [](IgemmConvParams& p) { p.strideH = 0; }},
      {"unknown tile", [](IgemmConvParams& p) { p.tile = static_cast<IgemmTile>(kNoSuchTile); }},
      {"splits 0", [](IgemmConvParams& p) { p.splits = 0; }},
      {"splits past the most", [](IgemmConvParams& p) { p.splits = netdef::cuda::igemm::kMaxIgemmSplits + 1; }},
      {"split-K without a workspace", [](IgemmConvParams& p) {
         p.kernelH = p.kernelW = 3;  // 9 x 16 channels: 2 reduction steps of 128
         p.padTop = p.padLeft = 1;
         p.splits = 2;
         p.splitCounters = reinterpret_cast<int*>(fake);
         p.splitCounterCount = 1;
       }},
      {"split-K without counters", [](IgemmConvParams& p) {
         p.kernelH = p.kernelW = 3;
         p.padTop = p.padLeft = 1;
         p.splits = 2;
         p.splitWorkspace = fake;
         p.splitWorkspaceBytes = sizeof(fake) * 1024;  // never dereferenced
       }},
  };
  for (const Bad& b : bad) {
    expectError(std::string("igemm rejects ") + b.what, netdef::kErrInvalidArgument, [&] {
      IgemmConvParams p = valid();
      b.breakIt(p);
      launchIgemmConv(p, nullptr);
    });
  }
}

}  // namespace

void testIgemmConv() {
  Rng rng(kSeed);
  const Geometry geometries[] = {
      {1, 8, 8, 16, 16, 1, 1, 1, 0},
      {2, 13, 11, 32, 48, 3, 3, 1, 1},
      {3, 15, 17, 48, 80, 3, 3, 2, 1},
      {1, 9, 15, 64, 200, 1, 1, 1, 0},            // K % 16 = 8: int8 stores element-wise, fp16 as vectors
      {2, 10, 10, 16, 24, 3, 3, 2, 1, 2},         // small values: int8 ties in the ties case
      {1, 9, 15, 96, 130, 1, 1, 1, 0, kInt8Max, 32},  // K % 8 = 2, x a channel range
      {2, 20, 20, 128, 256, 3, 3, 1, 1},          // 18 reduction steps: the pipeline wraps
      {1, 12, 12, 16, 32, 5, 5, 1, 2},
      {1, 10, 10, 160, 320, 3, 3, 1, 1},
      {2, 7, 7, 256, 64, 3, 3, 2, 1, kInt8Max, 16},
      // Rows and columns with different strides and padding (a swapped H and W would show).
      {2, 11, 14, 32, 48, 3, 3, 1, 1, kInt8Max, 0, 2, 0},
  };
  int caseIndex = 0;
  const std::vector<IgemmTile> tiles = netdef::cuda::igemm::igemmUsableTiles();
  if (tiles.size() < std::size(kIgemmTiles)) std::printf("# igemm: the wgmma tiles do not run on this GPU or build: not tested\n");
  for (const Geometry& g : geometries) {
    runCase("igemm " + geometryName(g), [&] {
      const Problem pr = makeProblem(rng, g);
      DeviceBuffer x(bytesOf(pr.x)), w(bytesOf(pr.w));
      testRaw(pr, x, w);
      for (const EpilogueCase& e : kEpilogueCases) {
        const int splits = caseIndex % kEpilogueSplitEvery == 0 ? kEpilogueSplits : 1;
        const IgemmTile tile = tiles[caseIndex++ % tiles.size()];
        testEpilogue(rng, pr, x, w, e, tile, splits);
      }
    });
  }
  testChecks();
}

}  // namespace ops_test
