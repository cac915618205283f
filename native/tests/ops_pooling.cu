// Tests ops/pooling: max and average, float32 and float16 (and int8 max: integers, exact), SPPF's 5x5/1 pad 2, 2x2/2, 3x3/2 pad 1,
// asymmetric padding, windows that drop a remainder. The CPU loop does the kernel's float32
// operations in the kernel's order (max; or sum row-major, then divide by the full window), so
// results must match exactly, float16 outputs included.
#include <algorithm>
#include <cmath>

#include "cuda/ops/pooling.cuh"
#include "ops_test_util.h"

namespace ops_test {
namespace {

using netdef::cuda::ops::PoolingParams;
using netdef::ir::PoolingOp;

constexpr uint32_t kSeed = 1004;
constexpr float kFloatRange = 3.0f;
constexpr float kInt8Range = 128.0f;  // every int8 value, -128 and 127 included, after rounding

struct Geometry {
  int64_t n, c, h, w, kernel, stride;
  int64_t pad[4];  // top, left, bottom, right
};

std::vector<float> cpuPool(const std::vector<float>& x, const PoolingParams& p) {
  std::vector<float> y;
  for (int64_t plane = 0; plane < p.batch * p.channels; ++plane)
    for (int64_t oy = 0; oy < p.outHeight; ++oy)
      for (int64_t ox = 0; ox < p.outWidth; ++ox) {
        float acc = p.op == PoolingOp::Max ? -INFINITY : 0.0f;
        for (int64_t ky = 0; ky < p.kernel[0]; ++ky)
          for (int64_t kx = 0; kx < p.kernel[1]; ++kx) {
            const int64_t iy = oy * p.stride[0] - p.padding[0] + ky, ix = ox * p.stride[1] - p.padding[1] + kx;
            if (iy < 0 || iy >= p.height || ix < 0 || ix >= p.width) continue;
            const float v = x[(plane * p.height + iy) * p.width + ix];
            acc = p.op == PoolingOp::Max ? std::max(acc, v) : acc + v;
          }
        if (p.op == PoolingOp::Average) acc = acc / static_cast<float>(p.kernel[0] * p.kernel[1]);
        y.push_back(acc);
      }
  return y;
}

// Dense NCHW parameters of geometry g (pointers and strides left to the case).
PoolingParams paramsFor(DType t, PoolingOp op, const Geometry& g) {
  PoolingParams p;
  p.op = op;
  p.dtype = t;
  p.batch = g.n;
  p.channels = g.c;
  p.height = g.h;
  p.width = g.w;
  p.kernel[0] = p.kernel[1] = g.kernel;
  p.stride[0] = p.stride[1] = g.stride;
  std::copy(g.pad, g.pad + 4, p.padding);
  p.outHeight = netdef::cuda::ops::poolingOutputSize(g.h, g.kernel, g.stride, g.pad[0], g.pad[2]);
  p.outWidth = netdef::cuda::ops::poolingOutputSize(g.w, g.kernel, g.stride, g.pad[1], g.pad[3]);
  return p;
}

void runCaseFor(Rng& rng, DType t, PoolingOp op, const Geometry& g) {
  PoolingParams p = paramsFor(t, op, g);
  const std::string name = std::string("pooling ") + (op == PoolingOp::Max ? "max " : "avg ") + typeName(t) + " " +
                           shapeName({g.n, g.c, g.h, g.w}) + " k" + std::to_string(g.kernel) + " s" +
                           std::to_string(g.stride) + " pad " + shapeName({g.pad[0], g.pad[1], g.pad[2], g.pad[3]}) +
                           " -> " + shapeName({p.outHeight, p.outWidth});
  runCase(name, [&] {
    const float range = t == DType::Int8 ? kInt8Range : kFloatRange;
    const std::vector<float> x = representable(rng.uniform(g.n * g.c * g.h * g.w, -range, range), t);
    DeviceBuffer dx(encode(x, t)), dy(g.n * g.c * p.outHeight * p.outWidth * sizeOf(t));
    dy.poison();
    p.x = dx.get();
    p.y = dy.get();
    netdef::cuda::ops::launchPooling(p, nullptr);
    syncDevice();
    const std::vector<float> ref = representable(cpuPool(x, p), t);
    checkClose(name, decode(dy.download(), t), std::vector<double>(ref.begin(), ref.end()), 0.0, 0.0);
  });
}

// NHWC x, y written into channels [offset, offset + C) of an NHWC tensor `storage` channels wide
// (SPPF's pools writing into their concat's buffer): the same values as the dense NCHW case, and
// the channels around the range untouched. Aligned channel counts, strides and offsets take the
// kernel's 16-byte vector path, others its one-channel path.
// What the poison byte (0xFF) reads as in int8 (float types read NaN).
constexpr float kInt8Poison = -1.0f;

void runStridedCase(Rng& rng, DType t, PoolingOp op, const Geometry& g, int64_t storage, int64_t offset) {
  PoolingParams p = paramsFor(t, op, g);
  const int64_t oh = p.outHeight, ow = p.outWidth;
  const std::string name = std::string("pooling nhwc ") + (op == PoolingOp::Max ? "max " : "avg ") + typeName(t) + " " +
                           shapeName({g.n, g.c, g.h, g.w}) + " into channels " + std::to_string(offset) + "+" + std::to_string(g.c) +
                           " of " + std::to_string(storage);
  runCase(name, [&] {
    const std::vector<float> x = representable(rng.uniform(g.n * g.c * g.h * g.w, -kFloatRange, kFloatRange), t);
    std::vector<float> nhwc(x.size());
    for (int64_t n = 0; n < g.n; ++n)
      for (int64_t c = 0; c < g.c; ++c)
        for (int64_t i = 0; i < g.h * g.w; ++i) nhwc[(n * g.h * g.w + i) * g.c + c] = x[(n * g.c + c) * g.h * g.w + i];
    const int64_t xs[4] = {g.h * g.w * g.c, 1, g.w * g.c, g.c}, ys[4] = {oh * ow * storage, 1, ow * storage, storage};
    std::copy(xs, xs + 4, p.xStrides);
    std::copy(ys, ys + 4, p.yStrides);
    DeviceBuffer dx(encode(nhwc, t)), dy(g.n * oh * ow * storage * sizeOf(t));
    dy.poison();
    p.x = dx.get();
    p.y = static_cast<uint8_t*>(dy.get()) + offset * sizeOf(t);
    netdef::cuda::ops::launchPooling(p, nullptr);
    syncDevice();
    const std::vector<float> all = decode(dy.download(), t), ref = representable(cpuPool(x, p), t);
    std::vector<float> got;
    size_t touched = 0;
    for (int64_t n = 0; n < g.n; ++n)
      for (int64_t c = 0; c < storage; ++c)
        for (int64_t i = 0; i < oh * ow; ++i) {
          const float v = all[(n * oh * ow + i) * storage + c];
          if (c >= offset && c < offset + g.c) {
            got.push_back(v);
          } else {
            touched += (t == DType::Int8 ? v == kInt8Poison : std::isnan(v)) ? 0 : 1;
          }
        }
    // got is in (n, c, pixel) order, as cpuPool's planes.
    checkClose(name, got, std::vector<double>(ref.begin(), ref.end()), 0.0, 0.0);
    record(touched == 0, name + ": channels outside the range untouched", std::to_string(touched) + " changed");
  });
}

}  // namespace

void testPooling() {
  Rng rng(kSeed);
  const Geometry geometries[] = {
      {1, 8, 20, 20, 5, 1, {2, 2, 2, 2}},  // SPPF
      {2, 3, 9, 11, 2, 2, {0, 0, 0, 0}},   {2, 4, 13, 10, 3, 2, {1, 1, 1, 1}},
      {1, 3, 8, 9, 3, 1, {0, 1, 2, 1}},    {1, 2, 7, 7, 3, 3, {0, 0, 0, 0}},
  };
  for (DType t : {DType::Float32, DType::Float16})
    for (PoolingOp op : {PoolingOp::Max, PoolingOp::Average})
      for (const Geometry& g : geometries) runCaseFor(rng, t, op, g);
  for (const Geometry& g : geometries) runCaseFor(rng, DType::Int8, PoolingOp::Max, g);
  for (DType t : {DType::Float32, DType::Float16}) {
    runStridedCase(rng, t, PoolingOp::Max, geometries[0], 32, 16);  // SPPF into its concat: 16-byte vectors of channels
    runStridedCase(rng, t, PoolingOp::Average, geometries[2], 7, 2);
  }
  runStridedCase(rng, DType::Float16, PoolingOp::Max, geometries[0], 32, 4);  // 8-byte aligned: one channel per thread
  runStridedCase(rng, DType::Int8, PoolingOp::Max, Geometry{2, 32, 10, 10, 5, 1, {2, 2, 2, 2}}, 64, 16);  // int8 vectors of 16
  expectError("pooling refuses an int8 average", netdef::kErrInvalidArgument, [] {
    PoolingParams p;
    p.op = PoolingOp::Average;
    p.dtype = DType::Int8;
    netdef::cuda::ops::launchPooling(p, nullptr);
  });
  expectError("pooling rejects a wrong output size", netdef::kErrInvalidArgument, [] {
    PoolingParams p;
    p.height = p.width = 8;
    p.kernel[0] = p.kernel[1] = 2;
    p.stride[0] = p.stride[1] = 2;
    p.outHeight = p.outWidth = 3;
    netdef::cuda::ops::launchPooling(p, nullptr);
  });
}

}  // namespace ops_test
