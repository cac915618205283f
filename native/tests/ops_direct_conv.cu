// Tests ops/direct_conv against a CPU loop in double: float32 and float16 weights and outputs,
// float32 input into a float16 convolution (a folded Cast), NCHW and NHWC inputs and outputs (the
// stem's NCHW -> NHWC), an output written into a channel range of a wider NHWC tensor (the
// channels around it must stay untouched), a residual, every activation, bias or none, strides,
// dilation, padding, more output channels than one shared-memory tile, channel counts that take the
// 16-byte stores and ones that do not. Tolerance: relative to the sum of the magnitudes that went
// into each output (float32: accumulation order; float16: the output's rounding).
// Int8 convolutions (int8 weights, per-channel scales, float32 bias): a float32 or float16 input
// quantized as it is read (some values saturating) or an int8 input; int8 (requantized), float16 and
// float32 outputs; the stem, the DFL's 16 -> 1 and a run-time field; into a channel range. The
// reference does the device's operations: the quantized input and the integer sum exactly, then
// the same float32 epilogue; an int8 output must match exactly, except that after SiLU or sigmoid
// (fast exp and reciprocal, about 1e-6) one step is allowed for at most kMaxOffByOneFraction of the
// elements. An int8 convolution refuses a residual and missing weight scales.
#include <cmath>

#include "cuda/conv_geometry.h"
#include "cuda/ops/direct_conv.cuh"
#include "ops_test_util.h"

namespace ops_test {
namespace {

using netdef::cuda::FusedActivation;
using netdef::cuda::ops::DirectConvParams;

constexpr uint32_t kSeed = 1017;
constexpr float kRange = 1.0f;
constexpr double kFp32ConvRtol = 1e-5;  // a few dozen float32 FMAs in another order, and the fast exp and reciprocal (~1e-6)
constexpr double kFp16ConvRtol = 2e-3;  // float16 output rounding (2^-11) with room for the activation

struct Case {
  DType in, dtype;
  FusedActivation act;
  int64_t n, c, h, w, k, kernel, stride, pad, dilation;
  bool nhwcIn, nhwcOut, bias, residual;
  int64_t outStorage = 0, outOffset = 0;  // NHWC output in a channel range: storage channels and first channel
};

// The activation in F: double for the float reference, float for the int8 one (the device's
// epilogue operations in float32).
template <typename F>
F activate(F v, FusedActivation a) {
  constexpr F kOne = 1, kZero = 0;
  switch (a) {
    case FusedActivation::kSilu: return v / (kOne + std::exp(-v));
    case FusedActivation::kSigmoid: return kOne / (kOne + std::exp(-v));
    case FusedActivation::kRelu: return v > 0 ? v : kZero;
    case FusedActivation::kNone: return v;
  }
  return v;
}

// Element strides (n, c, h, w) of a tensor of `storage` channels.
void strides(bool nhwc, int64_t storage, int64_t h, int64_t w, int64_t* s) {
  netdef::cuda::storageStrides(nhwc ? netdef::cuda::Layout::kNhwc : netdef::cuda::Layout::kRowMajor, storage, h, w, s);
}

// A case's output storage channels (a channel range of a wider tensor, or its own K).
template <typename C>
int64_t storageOf(const C& t) {
  return t.outStorage > 0 ? t.outStorage : t.k;
}

// The geometry both kinds of case share: input dtype, activation, sizes, kernel, output size and
// the x and y strides.
template <typename C>
DirectConvParams geometryOf(const C& t) {
  DirectConvParams p;
  p.inDtype = t.in;
  p.activation = t.act;
  p.batch = t.n;
  p.inChannels = t.c;
  p.height = t.h;
  p.width = t.w;
  p.outChannels = t.k;
  for (int i = 0; i < 2; ++i) {
    p.kernel[i] = t.kernel;
    p.stride[i] = t.stride;
    p.dilation[i] = t.dilation;
    p.padding[i] = t.pad;
  }
  p.outHeight = (t.h + 2 * t.pad - t.dilation * (t.kernel - 1) - 1) / t.stride + 1;
  p.outWidth = (t.w + 2 * t.pad - t.dilation * (t.kernel - 1) - 1) / t.stride + 1;
  strides(t.nhwcIn, t.c, t.h, t.w, p.xStrides);
  strides(t.nhwcOut, storageOf(t), p.outHeight, p.outWidth, p.yStrides);
  return p;
}

// The case's shape, layouts and epilogue for its name; `extra` goes before the output layout.
template <typename C>
std::string caseLabel(const C& t, const std::string& extra) {
  return shapeName({t.n, t.c, t.h, t.w}) + (t.nhwcIn ? " nhwc" : " nchw") + " k" + std::to_string(t.k) + " " + std::to_string(t.kernel) +
         "x" + std::to_string(t.kernel) + "/s" + std::to_string(t.stride) + " pad " + std::to_string(t.pad) + " dil " +
         std::to_string(t.dilation) + " act " + netdef::cuda::fusedActivationName(t.act) + (t.bias ? " bias" : "") + extra +
         (t.nhwcOut ? " -> nhwc" : " -> nchw") +
         (t.outStorage ? " [channels " + std::to_string(t.outOffset) + "+" + std::to_string(t.k) + " of " + std::to_string(storageOf(t)) + "]"
                       : "");
}

// Visits every element of y's storage as f(at, n, kk, y0, x0): its element offset, and its channel
// within the output (outside [0, K) for the storage's other channels).
template <typename C, typename F>
void forEachStored(const C& t, const DirectConvParams& p, F f) {
  for (int64_t n = 0; n < t.n; ++n)
    for (int64_t k = 0; k < storageOf(t); ++k)
      for (int64_t y0 = 0; y0 < p.outHeight; ++y0)
        for (int64_t x0 = 0; x0 < p.outWidth; ++x0)
          f(n * p.yStrides[0] + k * p.yStrides[1] + y0 * p.yStrides[2] + x0 * p.yStrides[3], n, k - t.outOffset, y0, x0);
}

void runDirect(Rng& rng, const Case& t) {
  DirectConvParams p = geometryOf(t);
  p.dtype = t.dtype;
  p.outDtype = t.dtype;
  const int64_t oh = p.outHeight, ow = p.outWidth, storage = storageOf(t);
  strides(t.nhwcOut, t.k, oh, ow, p.residualStrides);
  const std::string name = std::string("direct_conv ") + typeName(t.in) + "->" + typeName(t.dtype) + " " +
                           caseLabel(t, t.residual ? " residual" : "");
  runCase(name, [&] {
    // Logical values (NCHW order), as the device holds them.
    const std::vector<float> x = representable(rng.uniform(t.n * t.c * t.h * t.w, -kRange, kRange), t.in);
    const std::vector<float> w = representable(rng.uniform(t.k * t.c * t.kernel * t.kernel, -kRange, kRange), t.dtype);
    const std::vector<float> b = representable(rng.uniform(t.k, -kRange, kRange), t.dtype);
    const std::vector<float> r = representable(rng.uniform(t.n * t.k * oh * ow, -kRange, kRange), t.dtype);
    std::vector<float> xPhysical(x.size());
    for (int64_t i = 0; i < static_cast<int64_t>(x.size()); ++i) {
      const int64_t xw = i % t.w, xh = i / t.w % t.h, xc = i / (t.w * t.h) % t.c, xn = i / (t.w * t.h * t.c);
      xPhysical[xn * p.xStrides[0] + xc * p.xStrides[1] + xh * p.xStrides[2] + xw * p.xStrides[3]] = x[i];
    }
    std::vector<float> rPhysical(r.size());
    for (int64_t i = 0; i < static_cast<int64_t>(r.size()); ++i) {
      const int64_t x0 = i % ow, y0 = i / ow % oh, k = i / (ow * oh) % t.k, n = i / (ow * oh * t.k);
      rPhysical[n * p.residualStrides[0] + k * p.residualStrides[1] + y0 * p.residualStrides[2] + x0 * p.residualStrides[3]] = r[i];
    }
    DeviceBuffer dx(encode(xPhysical, t.in)), dw(encode(w, t.dtype)), db(encode(b, t.dtype)), dr(encode(rPhysical, t.dtype));
    DeviceBuffer dy(t.n * storage * oh * ow * sizeOf(t.dtype));
    dy.poison();
    p.x = dx.get();
    p.w = dw.get();
    p.bias = t.bias ? db.get() : nullptr;
    p.residual = t.residual ? dr.get() : nullptr;
    p.y = static_cast<uint8_t*>(dy.get()) + t.outOffset * sizeOf(t.dtype);
    netdef::cuda::ops::launchDirectConv(p, nullptr);
    syncDevice();
    const std::vector<float> all = decode(dy.download(), t.dtype);
    std::vector<float> got;
    std::vector<double> ref, scale;
    size_t touched = 0;  // elements outside the output's channel range that changed
    forEachStored(t, p, [&](int64_t at, int64_t n, int64_t kk, int64_t y0, int64_t x0) {
      if (kk < 0 || kk >= t.k) {
        touched += std::isnan(all[at]) ? 0 : 1;
        return;
      }
      double sum = t.bias ? b[kk] : 0.0, magnitude = std::fabs(sum);
      for (int64_t c = 0; c < t.c; ++c)
        for (int64_t i = 0; i < t.kernel; ++i)
          for (int64_t j = 0; j < t.kernel; ++j) {
            const int64_t ih = y0 * t.stride - t.pad + i * t.dilation, iw = x0 * t.stride - t.pad + j * t.dilation;
            if (ih < 0 || ih >= t.h || iw < 0 || iw >= t.w) continue;
            const double term = static_cast<double>(x[((n * t.c + c) * t.h + ih) * t.w + iw]) * w[((kk * t.c + c) * t.kernel + i) * t.kernel + j];
            sum += term;
            magnitude += std::fabs(term);
          }
      const double res = t.residual ? r[((n * t.k + kk) * oh + y0) * ow + x0] : 0.0;
      const double want = activate(sum, t.act) + res;
      got.push_back(all[at]);
      ref.push_back(want);
      scale.push_back(magnitude + std::fabs(res) + std::fabs(want));
    });
    if (checkClose(name, got, ref, t.dtype == DType::Float16 ? kFp16ConvRtol : kFp32ConvRtol, 0.0, &scale) && t.outStorage) {
      record(touched == 0, name + ": channels outside the range untouched", std::to_string(touched) + " changed");
    }
  });
}

constexpr int kInt8Min = -128, kInt8Max = 127;
constexpr float kInt8InputScale = 1.0f / 110;  // inputs in [-kRange * 1.25, ...] reach past 127 steps: some saturate
constexpr float kInt8InputRange = 1.25f;
constexpr float kOutputSteps = 100.0f;          // the largest output magnitude is this many int8 steps
constexpr double kMaxOffByOneFraction = 0.01;

struct Int8Case {
  DType in, out;
  FusedActivation act;
  int64_t n, c, h, w, k, kernel, stride, pad, dilation;
  bool nhwcIn, nhwcOut, bias;
  int64_t outStorage = 0, outOffset = 0;
};

int quantizeRef(float v, float scale) {
  const float q = std::nearbyint(v / scale);  // IEEE float division, ties to even (the default rounding mode)
  return static_cast<int>(std::min(std::max(q, static_cast<float>(kInt8Min)), static_cast<float>(kInt8Max)));
}

void runDirectInt8(Rng& rng, const Int8Case& t) {
  DirectConvParams p = geometryOf(t);
  p.dtype = DType::Int8;
  p.outDtype = t.out;
  const int64_t oh = p.outHeight, ow = p.outWidth, storage = storageOf(t);
  const std::string name = std::string("direct_conv int8 ") + typeName(t.in) + (t.in == DType::Int8 ? "" : " quantized") + "->" +
                           typeName(t.out) + " " + caseLabel(t, "");
  runCase(name, [&] {
    // x as the device holds it (NCHW order here) and its quantized integers.
    std::vector<float> x;
    std::vector<int> q;
    if (t.in == DType::Int8) {
      for (int64_t i = 0; i < t.n * t.c * t.h * t.w; ++i) x.push_back(static_cast<float>(rng.integer(kInt8Min, kInt8Max)));
      for (float v : x) q.push_back(static_cast<int>(v));
    } else {
      x = representable(rng.uniform(t.n * t.c * t.h * t.w, -kInt8InputRange, kInt8InputRange), t.in);
      for (float v : x) q.push_back(quantizeRef(v, kInt8InputScale));
    }
    std::vector<float> w;
    for (int64_t i = 0; i < t.k * t.c * t.kernel * t.kernel; ++i) w.push_back(static_cast<float>(rng.integer(-kInt8Max, kInt8Max)));
    const std::vector<float> wScale = rng.uniform(t.k, 0.5f / kInt8Max, 1.5f / kInt8Max);
    std::vector<float> bias(t.k, 0.0f);
    if (t.bias) bias = rng.uniform(t.k, -kRange, kRange);
    // Reference: the exact integer sum, then the device's float32 epilogue.
    std::vector<float> ref(t.n * t.k * oh * ow);  // NCHW order
    float maxAbs = 0;
    for (int64_t n = 0; n < t.n; ++n)
      for (int64_t k = 0; k < t.k; ++k)
        for (int64_t y0 = 0; y0 < oh; ++y0)
          for (int64_t x0 = 0; x0 < ow; ++x0) {
            int64_t acc = 0;
            for (int64_t c = 0; c < t.c; ++c)
              for (int64_t i = 0; i < t.kernel; ++i)
                for (int64_t j = 0; j < t.kernel; ++j) {
                  const int64_t ih = y0 * t.stride - t.pad + i * t.dilation, iw = x0 * t.stride - t.pad + j * t.dilation;
                  if (ih < 0 || ih >= t.h || iw < 0 || iw >= t.w) continue;
                  acc += q[((n * t.c + c) * t.h + ih) * t.w + iw] * static_cast<int64_t>(w[((k * t.c + c) * t.kernel + i) * t.kernel + j]);
                }
            const float v = activate<float>(std::fma(static_cast<float>(acc), kInt8InputScale * wScale[k], bias[k]), t.act);
            ref[((n * t.k + k) * oh + y0) * ow + x0] = v;
            maxAbs = std::max(maxAbs, std::fabs(v));
          }
    const float outScale = std::max(maxAbs, 1e-3f) / kOutputSteps;
    std::vector<float> xPhysical(x.size());
    for (int64_t i = 0; i < static_cast<int64_t>(x.size()); ++i) {
      const int64_t xw = i % t.w, xh = i / t.w % t.h, xc = i / (t.w * t.h) % t.c, xn = i / (t.w * t.h * t.c);
      xPhysical[xn * p.xStrides[0] + xc * p.xStrides[1] + xh * p.xStrides[2] + xw * p.xStrides[3]] = x[i];
    }
    DeviceBuffer dx(encode(xPhysical, t.in)), dw(encode(w, DType::Int8)), ds(encode(wScale, DType::Float32)), db(encode(bias, DType::Float32));
    DeviceBuffer dy(t.n * storage * oh * ow * sizeOf(t.out));
    dy.poison();
    p.x = dx.get();
    p.w = dw.get();
    p.weightScales = ds.as<float>();
    p.inputScale = kInt8InputScale;
    p.outputScale = outScale;
    p.bias = t.bias ? db.get() : nullptr;
    p.y = static_cast<uint8_t*>(dy.get()) + t.outOffset * sizeOf(t.out);
    netdef::cuda::ops::launchDirectConv(p, nullptr);
    syncDevice();
    const std::vector<uint8_t> bytes = dy.download();
    const std::vector<float> all = decode(bytes, t.out);
    std::vector<float> got;
    std::vector<double> want;
    size_t touched = 0, offByOne = 0, worse = 0;
    forEachStored(t, p, [&](int64_t at, int64_t n, int64_t kk, int64_t y0, int64_t x0) {
      if (kk < 0 || kk >= t.k) {
        for (size_t b = 0; b < sizeOf(t.out); ++b) touched += bytes[at * sizeOf(t.out) + b] != kPoisonByte;
        return;
      }
      const float v = ref[((n * t.k + kk) * oh + y0) * ow + x0];
      if (t.out != DType::Int8) {
        got.push_back(all[at]);
        want.push_back(v);
        return;
      }
      const int diff = std::abs(static_cast<int>(all[at]) - quantizeRef(v, outScale));
      const bool fastExp = t.act == FusedActivation::kSilu || t.act == FusedActivation::kSigmoid;
      offByOne += diff == 1 && fastExp;
      worse += diff > 1 || (diff == 1 && !fastExp);
    });
    if (touched) {
      record(false, name, std::to_string(touched) + " bytes outside the output's channel range were written");
      return;
    }
    if (t.out == DType::Int8) {
      const size_t total = static_cast<size_t>(t.n * t.k * oh * ow);
      record(worse == 0 && offByOne <= kMaxOffByOneFraction * total, name,
             "n=" + std::to_string(total) + ", " + std::to_string(offByOne) + " off by one step, " + std::to_string(worse) + " worse");
      return;
    }
    checkClose(name, got, want, t.out == DType::Float16 ? kFp16ConvRtol : kFp32ConvRtol, kFp32Atol);
  });
}

void testInt8Refusals() {
  auto base = [] {
    DirectConvParams p;
    p.inDtype = DType::Float32;
    p.dtype = DType::Int8;
    p.outDtype = DType::Int8;
    p.inChannels = 3;
    p.kernel[0] = p.kernel[1] = 3;
    p.inputScale = p.outputScale = 1.0f;
    return p;
  };
  static float scale = 1.0f;
  static int8_t storage[16];
  expectError("direct_conv refuses an int8 convolution's residual", netdef::kErrInvalidArgument, [&] {
    DirectConvParams p = base();
    p.x = p.w = p.y = storage;
    p.weightScales = &scale;
    p.residual = storage;
    netdef::cuda::ops::launchDirectConv(p, nullptr);
  });
  expectError("direct_conv refuses an int8 convolution without weight scales", netdef::kErrInvalidArgument, [&] {
    DirectConvParams p = base();
    p.x = p.w = p.y = storage;
    netdef::cuda::ops::launchDirectConv(p, nullptr);
  });
  expectError("direct_conv refuses an int8 output without an output scale", netdef::kErrInvalidArgument, [&] {
    DirectConvParams p = base();
    p.outputScale = 0;
    netdef::cuda::ops::launchDirectConv(p, nullptr);
  });
  expectError("direct_conv refuses a float convolution writing another dtype", netdef::kErrInvalidArgument, [&] {
    DirectConvParams p = base();
    p.dtype = DType::Float16;
    netdef::cuda::ops::launchDirectConv(p, nullptr);
  });
}

}  // namespace

void testDirectConv() {
  Rng rng(kSeed);
  using A = FusedActivation;
  const DType f32 = DType::Float32, f16 = DType::Float16;
  const Case cases[] = {
      // The stem as YOLOv8 has it (3x3/2 pad 1): n (K 16) and x (K 80, two shared-memory tiles).
      {f32, f32, A::kSilu, 2, 3, 17, 19, 16, 3, 2, 1, 1, false, false, true, false},
      {f16, f16, A::kSilu, 2, 3, 17, 19, 16, 3, 2, 1, 1, false, true, true, false},
      {f32, f16, A::kSilu, 3, 3, 20, 16, 16, 3, 2, 1, 1, false, true, true, false},
      {f32, f16, A::kSilu, 1, 3, 21, 22, 80, 3, 2, 1, 1, false, true, true, false},
      {f32, f32, A::kSilu, 1, 3, 21, 22, 80, 3, 2, 1, 1, false, true, true, false},
      // Into a channel range of a wider NHWC tensor, with a residual, 16-byte stores (offset 8 of 40).
      {f16, f16, A::kRelu, 2, 3, 9, 9, 16, 3, 1, 1, 1, false, true, true, true, 40, 8},
      // ...and at an offset that is no 16-byte boundary (element stores).
      {f16, f16, A::kNone, 1, 3, 9, 9, 16, 3, 1, 1, 1, false, true, true, true, 21, 3},
      // The stem's compile-time field (C = 3, 3x3) with dilation, an NHWC input and three groups of outputs.
      {f32, f16, A::kSilu, 2, 3, 15, 13, 24, 3, 1, 2, 2, true, true, true, false},
      // K not a multiple of the group, NHWC input, dilation, no bias, sigmoid.
      {f16, f16, A::kSigmoid, 2, 2, 12, 11, 12, 3, 1, 2, 2, true, true, false, false},
      {f32, f32, A::kSigmoid, 2, 2, 12, 11, 12, 3, 1, 2, 2, true, false, false, true},
      // The DFL's 1x1 convolution: 16 channels into 1.
      {f16, f16, A::kNone, 2, 16, 4, 50, 1, 1, 1, 0, 1, false, false, false, false},
      {f32, f32, A::kNone, 2, 16, 4, 50, 1, 1, 1, 0, 1, false, false, false, false},
      // One channel, 5x5 (25 taps), NCHW out, float16 input into float32.
      {f16, f32, A::kNone, 2, 1, 13, 10, 9, 5, 1, 2, 1, false, false, true, false},
  };
  for (const Case& c : cases) runDirect(rng, c);
  const DType i8 = DType::Int8;
  const Int8Case int8Cases[] = {
      // All-int8's stem: the float32 NCHW network input quantized as it is read, int8 NHWC out (8-byte stores).
      {f32, i8, A::kSilu, 2, 3, 17, 19, 16, 3, 2, 1, 1, false, true, true},
      // yolov8x's stem width (two shared-memory tiles), float16 input, ReLU (exact), no bias.
      {f16, i8, A::kRelu, 1, 3, 21, 22, 80, 3, 2, 1, 1, false, true, false},
      // float32 and float16 outputs, NCHW and NHWC.
      {f32, f32, A::kSilu, 2, 3, 13, 11, 16, 3, 2, 1, 1, false, false, true},
      {f32, f16, A::kSigmoid, 2, 3, 13, 11, 24, 3, 1, 1, 1, true, true, true},
      // All-int8's DFL: the softmax's float output quantized as read, 1x1 16 -> 1 into float32.
      {f32, f32, A::kNone, 2, 16, 4, 50, 1, 1, 1, 0, 1, false, false, false},
      {f16, f32, A::kNone, 1, 16, 4, 40, 1, 1, 1, 0, 1, false, false, false},
      // An int8 input: the DFL's 1x1 16 -> 1 into float32, and a run-time field (C = 2, dilation 2).
      {i8, f32, A::kNone, 2, 16, 4, 50, 1, 1, 1, 0, 1, false, false, false},
      {i8, f16, A::kRelu, 2, 2, 12, 11, 24, 3, 1, 2, 2, true, true, true},
      // Into channels of a wider int8 NHWC tensor: at an 8-byte boundary (8 of 40) and at none (3 of 21).
      {i8, i8, A::kNone, 2, 3, 9, 9, 16, 3, 1, 1, 1, false, true, true, 40, 8},
      {f32, i8, A::kSilu, 1, 3, 9, 9, 16, 3, 1, 1, 1, false, true, true, 21, 3},
  };
  for (const Int8Case& c : int8Cases) runDirectInt8(rng, c);
  testInt8Refusals();
  expectError("direct_conv refuses C x R x S above its maximum", netdef::kErrInvalidArgument, [] {
    DirectConvParams p;
    p.inChannels = 4;
    p.kernel[0] = p.kernel[1] = 3;  // 36 taps
    netdef::cuda::ops::launchDirectConv(p, nullptr);
  });
}

}  // namespace ops_test
