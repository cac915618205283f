// Tests ops/direct_conv against a CPU loop in double: float32 and float16 weights and outputs,
// float32 input into a float16 convolution (a folded Cast), NCHW and NHWC inputs and outputs (the
// stem's NCHW -> NHWC), an output written into a channel range of a wider NHWC tensor (the
// channels around it must stay untouched), a residual, every activation, bias or none, strides,
// dilation, padding, more output channels than one shared-memory tile, channel counts that take the
// 16-byte stores and ones that do not. Tolerance: relative to the sum of the magnitudes that went
// into each output (float32: accumulation order; float16: the output's rounding).
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

double activate(double v, FusedActivation a) {
  switch (a) {
    case FusedActivation::kSilu: return v / (1.0 + std::exp(-v));
    case FusedActivation::kSigmoid: return 1.0 / (1.0 + std::exp(-v));
    case FusedActivation::kRelu: return v > 0 ? v : 0.0;
    case FusedActivation::kNone: return v;
  }
  return v;
}

// Element strides (n, c, h, w) of a tensor of `storage` channels.
void strides(bool nhwc, int64_t storage, int64_t h, int64_t w, int64_t* s) {
  netdef::cuda::storageStrides(nhwc ? netdef::cuda::Layout::kNhwc : netdef::cuda::Layout::kRowMajor, storage, h, w, s);
}

void runDirect(Rng& rng, const Case& t) {
  DirectConvParams p;
  p.inDtype = t.in;
  p.dtype = t.dtype;
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
  const int64_t oh = p.outHeight, ow = p.outWidth, storage = t.outStorage > 0 ? t.outStorage : t.k;
  strides(t.nhwcIn, t.c, t.h, t.w, p.xStrides);
  strides(t.nhwcOut, storage, oh, ow, p.yStrides);
  strides(t.nhwcOut, t.k, oh, ow, p.residualStrides);
  const std::string name = std::string("direct_conv ") + typeName(t.in) + "->" + typeName(t.dtype) + " " +
                           shapeName({t.n, t.c, t.h, t.w}) + (t.nhwcIn ? " nhwc" : " nchw") + " k" + std::to_string(t.k) + " " +
                           std::to_string(t.kernel) + "x" + std::to_string(t.kernel) + "/s" + std::to_string(t.stride) + " pad " +
                           std::to_string(t.pad) + " dil " + std::to_string(t.dilation) + " act " +
                           netdef::cuda::fusedActivationName(t.act) + (t.bias ? " bias" : "") + (t.residual ? " residual" : "") +
                           (t.nhwcOut ? " -> nhwc" : " -> nchw") +
                           (t.outStorage ? " [channels " + std::to_string(t.outOffset) + "+" + std::to_string(t.k) + " of " +
                                               std::to_string(storage) + "]"
                                         : "");
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
    for (int64_t n = 0; n < t.n; ++n)
      for (int64_t k = 0; k < storage; ++k)
        for (int64_t y0 = 0; y0 < oh; ++y0)
          for (int64_t x0 = 0; x0 < ow; ++x0) {
            const int64_t at = n * p.yStrides[0] + k * p.yStrides[1] + y0 * p.yStrides[2] + x0 * p.yStrides[3];
            const int64_t kk = k - t.outOffset;
            if (kk < 0 || kk >= t.k) {
              touched += std::isnan(all[at]) ? 0 : 1;
              continue;
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
          }
    if (checkClose(name, got, ref, t.dtype == DType::Float16 ? kFp16ConvRtol : kFp32ConvRtol, 0.0, &scale) && t.outStorage) {
      record(touched == 0, name + ": channels outside the range untouched", std::to_string(touched) + " changed");
    }
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
  expectError("direct_conv refuses C x R x S above its maximum", netdef::kErrInvalidArgument, [] {
    DirectConvParams p;
    p.inChannels = 4;
    p.kernel[0] = p.kernel[1] = 3;  // 36 taps
    netdef::cuda::ops::launchDirectConv(p, nullptr);
  });
}

}  // namespace ops_test
