// Tests ops/resize_nearest bit for bit against a CPU loop: YOLOv8's 2x upsampling, odd sizes,
// unequal factors, float32, float16 and int8.
#include "cuda/ops/resize_nearest.cuh"
#include "ops_test_util.h"

namespace ops_test {
namespace {

using netdef::cuda::ops::ResizeNearestParams;

constexpr uint32_t kSeed = 1005;
constexpr int kMinByte = 1, kMaxByte = 0xFE;  // never 0, never the poison byte

void runCaseFor(Rng& rng, DType t, int64_t outer, int64_t h, int64_t w, int64_t sh, int64_t sw) {
  const std::string name = std::string("resize_nearest ") + netdef::cuda::ops::dtypeLabel(t) + " " +
                           shapeName({outer, h, w}) + " x" + std::to_string(sh) + "," + std::to_string(sw);
  runCase(name, [&] {
    const size_t bytes = netdef::cuda::ops::elementBytes(t);
    std::vector<uint8_t> x(outer * h * w * bytes), ref(outer * h * sh * w * sw * bytes);
    for (uint8_t& b : x) b = static_cast<uint8_t>(rng.integer(kMinByte, kMaxByte));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t v = 0; v < h * sh; ++v)
        for (int64_t u = 0; u < w * sw; ++u)
          std::memcpy(&ref[((o * h * sh + v) * w * sw + u) * bytes], &x[((o * h + v / sh) * w + u / sw) * bytes], bytes);
    DeviceBuffer dx(x), dy(ref.size());
    dy.poison();
    ResizeNearestParams p;
    p.dtype = t;
    p.x = dx.get();
    p.y = dy.get();
    p.outer = outer;
    p.height = h;
    p.width = w;
    p.scaleH = sh;
    p.scaleW = sw;
    netdef::cuda::ops::launchResizeNearest(p, nullptr);
    syncDevice();
    checkBytes(name, dy.download(), ref);
  });
}

}  // namespace

void testResizeNearest() {
  Rng rng(kSeed);
  for (DType t : {DType::Float32, DType::Float16, DType::Int8}) {
    runCaseFor(rng, t, 2 * 16, 20, 20, 2, 2);
    runCaseFor(rng, t, 3, 7, 5, 2, 2);
    runCaseFor(rng, t, 2, 5, 9, 3, 1);
    runCaseFor(rng, t, 1, 1, 1, 4, 3);
  }
  expectError("resize_nearest rejects a zero scale", netdef::kErrInvalidArgument, [] {
    ResizeNearestParams p;
    p.scaleH = 0;
    netdef::cuda::ops::launchResizeNearest(p, nullptr);
  });
}

}  // namespace ops_test
