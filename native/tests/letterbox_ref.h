// CPU references for the image path (ops/letterbox, CudaEngine::runImages): a line-by-line C++
// port of vision/resize-linear.ts (OpenCV INTER_LINEAR in fixed point), vision/letterbox.ts's
// geometry and padding, and vision/tensor.ts's conversion tables (float32(byte / 255), float16 of
// that, or the byte). Doubles and floats are rounded where JavaScript rounds them (Math.fround,
// Float32Array stores); x86-64 g++ without -mfma contracts nothing.
#pragma once

#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ir/graph.h"

namespace letterbox_ref {

constexpr int kCoefScale = 2048;
constexpr int kChannels = 3;
constexpr uint8_t kPad = 114;

// roundHalfEven (resize-linear.ts) under the default rounding mode.
inline int roundHalfEven(double v) { return static_cast<int>(std::nearbyint(v)); }

struct Axis {
  std::vector<int> index, w0, w1;
};

inline Axis axisTable(int srcSize, int dstSize, bool clampFraction) {
  const double scale = 1 / (static_cast<double>(dstSize) / srcSize);
  Axis t;
  for (int d = 0; d < dstSize; ++d) {
    float f = static_cast<float>((d + 0.5) * scale - 0.5);
    int s = static_cast<int>(std::floor(f));
    f = static_cast<float>(static_cast<double>(f) - s);
    if (clampFraction && s < 0) {
      s = 0;
      f = 0;
    }
    if (clampFraction && s >= srcSize - 1) {
      s = srcSize - 1;
      f = 0;
    }
    t.index.push_back(s);
    t.w0.push_back(roundHalfEven(static_cast<double>(static_cast<float>(1.0 - f)) * kCoefScale));
    t.w1.push_back(roundHalfEven(static_cast<double>(f) * kCoefScale));
  }
  return t;
}

// resizeLinearU8 for 3 channels (equal sizes copy).
inline std::vector<uint8_t> resize(const std::vector<uint8_t>& src, int sw, int sh, int dw, int dh) {
  if (sw == dw && sh == dh) return src;
  const Axis cols = axisTable(sw, dw, true), rows = axisTable(sh, dh, false);
  auto hpass = [&](int y, std::vector<int>& out) {
    const int last = sw - 1;
    for (int dx = 0; dx < dw; ++dx) {
      const int sx = cols.index[dx];
      const int a0 = sx >= last ? kCoefScale : cols.w0[dx];
      const int a1 = sx >= last ? 0 : cols.w1[dx];
      const size_t p0 = (static_cast<size_t>(y) * sw + sx) * kChannels;
      const size_t p1 = sx >= last ? p0 : p0 + kChannels;
      for (int c = 0; c < kChannels; ++c) out[dx * kChannels + c] = src[p0 + c] * a0 + src[p1 + c] * a1;
    }
  };
  std::vector<uint8_t> dst(static_cast<size_t>(dw) * dh * kChannels);
  std::vector<int> d0(dw * kChannels), d1(dw * kChannels);
  for (int dy = 0; dy < dh; ++dy) {
    const int sy = rows.index[dy];
    const int y0 = std::min(std::max(sy, 0), sh - 1), y1 = std::min(std::max(sy + 1, 0), sh - 1);
    hpass(y0, d0);
    hpass(y1, d1);
    const int b0 = rows.w0[dy], b1 = rows.w1[dy];
    for (int x = 0; x < dw * kChannels; ++x) {
      const int v = (((b0 * (d0[x] >> 4)) >> 16) + ((b1 * (d1[x] >> 4)) >> 16) + 2) >> 2;
      dst[static_cast<size_t>(dy) * dw * kChannels + x] = static_cast<uint8_t>(v);
    }
  }
  return dst;
}

struct Geometry {
  int unpadWidth, unpadHeight, padLeft, padRight, padTop, padBottom, width, height;
};

inline double pyMod(double x, double n) { return std::fmod(std::fmod(x, n) + n, n); }

// letterboxGeometry (letterbox.ts) for a target [newH, newW].
inline Geometry geometry(int sw, int sh, int newH, int newW, bool autoMode = false, int stride = 32, bool scaleup = true) {
  double r = std::min(static_cast<double>(newH) / sh, static_cast<double>(newW) / sw);
  if (!scaleup) r = std::min(r, 1.0);
  Geometry g{};
  g.unpadWidth = roundHalfEven(sw * r);
  g.unpadHeight = roundHalfEven(sh * r);
  double dw = newW - g.unpadWidth, dh = newH - g.unpadHeight;
  if (autoMode) {
    dw = pyMod(dw, stride);
    dh = pyMod(dh, stride);
  }
  dw /= 2;
  dh /= 2;
  g.padTop = roundHalfEven(dh - 0.1);
  g.padBottom = roundHalfEven(dh + 0.1);
  g.padLeft = roundHalfEven(dw - 0.1);
  g.padRight = roundHalfEven(dw + 0.1);
  g.width = g.unpadWidth + g.padLeft + g.padRight;
  g.height = g.unpadHeight + g.padTop + g.padBottom;
  return g;
}

// The letterboxed image (HWC) inside an output of width x height (>= the geometry's own size).
inline std::vector<uint8_t> letterboxHwc(const std::vector<uint8_t>& src, int sw, int sh, const Geometry& g, int width, int height) {
  const std::vector<uint8_t> resized = resize(src, sw, sh, g.unpadWidth, g.unpadHeight);
  std::vector<uint8_t> out(static_cast<size_t>(width) * height * kChannels, kPad);
  for (int y = 0; y < g.unpadHeight; ++y) {
    std::memcpy(&out[(static_cast<size_t>(y + g.padTop) * width + g.padLeft) * kChannels],
                &resized[static_cast<size_t>(y) * g.unpadWidth * kChannels], static_cast<size_t>(g.unpadWidth) * kChannels);
  }
  return out;
}

// vision/tensor.ts: HWC bytes -> CHW elements of `t`, as raw bytes.
inline std::vector<uint8_t> toChw(const std::vector<uint8_t>& hwc, int width, int height, netdef::ir::DType t) {
  const size_t plane = static_cast<size_t>(width) * height;
  const size_t esize = t == netdef::ir::DType::Float32 ? 4 : t == netdef::ir::DType::Float16 ? 2 : 1;
  std::vector<uint8_t> out(plane * kChannels * esize);
  for (int c = 0; c < kChannels; ++c)
    for (size_t i = 0; i < plane; ++i) {
      const uint8_t v = hwc[i * kChannels + c];
      uint8_t* at = &out[(c * plane + i) * esize];
      const float f = static_cast<float>(v / 255.0);  // Math.fround(i / 255)
      if (t == netdef::ir::DType::Float32) {
        std::memcpy(at, &f, 4);
      } else if (t == netdef::ir::DType::Float16) {
        const __half h = __float2half_rn(f);
        std::memcpy(at, &h, 2);
      } else {
        *at = v;
      }
    }
  return out;
}

}  // namespace letterbox_ref
