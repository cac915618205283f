// Tests ops/detect_decode against the unfused Detect-head tail computed on the CPU in double:
// softmax over each side's bins, the DFL weights' sum, the anchor decode, the sigmoid, rounded to
// float16 exactly where the params' half* flags say the unfused graph stores float16. Cases:
// float32 and float16 levels and outputs, NCHW, NHWC, mixed and channel-view levels, several
// tiles spanning level boundaries, a class count that is not a multiple of the kernel's chunk,
// batch 2. Tolerances: boxes relative to the magnitude of the decode's terms (the anchor point
// plus the largest distance, times the stride), since x2 - x1 cancels: 1e-5 in float32, 4
// float16 steps (4 x 2^-11) where a float16 rounding may land one step apart; scores 1e-6 / 1e-3.
// The float16-decode case also checks that every box value is a float16 value (the rounding
// happened, the result is not more precise than the graph).
#include <algorithm>
#include <cmath>
#include <memory>

#include "cuda/ops/detect_decode.cuh"
#include "ops_test_util.h"

namespace ops_test {
namespace {

using netdef::cuda::ops::DetectDecodeParams;
using netdef::cuda::ops::kDetectBoxSides;

constexpr uint32_t kSeed = 1212;
constexpr double kBoxRtolFp32 = 1e-5;
constexpr double kBoxRtolFp16 = 4.0 / 2048;
constexpr float kLogitRange = 6.0f;

enum class LevelLayout { kNchw, kNhwc, kMixed, kChannelView };

struct Case {
  DType in = DType::Float32, out = DType::Float32, constants = DType::Float32;
  LevelLayout layout = LevelLayout::kNchw;
  std::vector<std::pair<int64_t, int64_t>> levels;  // height, width
  int64_t batch = 1, classes = 80;
  bool halfSoftmax = false, halfDistance = false, halfDecode = false, halfBox = false, halfScore = false;
};

double roundIf(double v, bool half) { return half ? representable({static_cast<float>(v)}, DType::Float16)[0] : v; }

std::string caseName(const Case& c) {
  static const char* const kLayouts[] = {"nchw", "nhwc", "mixed", "channel-view"};
  std::string s = std::string("detect_decode in ") + typeName(c.in) + " out " + typeName(c.out) + " " + kLayouts[static_cast<int>(c.layout)] +
                  " batch " + std::to_string(c.batch) + " classes " + std::to_string(c.classes) + " levels";
  for (const auto& l : c.levels) s += " " + std::to_string(l.first) + "x" + std::to_string(l.second);
  if (c.halfSoftmax || c.halfDistance || c.halfDecode || c.halfBox || c.halfScore) {
    s += " half:";
    if (c.halfSoftmax) s += " softmax";
    if (c.halfDistance) s += " distance";
    if (c.halfDecode) s += " decode";
    if (c.halfBox) s += " box";
    if (c.halfScore) s += " score";
  }
  return s;
}

void runDecodeCase(Rng& rng, const Case& c) {
  const std::string name = caseName(c);
  runCase(name, [&] {
    const int64_t bins = 16, boxChannels = kDetectBoxSides * bins, no = boxChannels + c.classes;
    const int64_t viewExtra = c.layout == LevelLayout::kChannelView ? 24 : 0;  // the root's other channels
    const int64_t viewOffset = viewExtra / 2;
    DetectDecodeParams p;
    p.inDtype = c.in;
    p.dflDtype = c.in;
    p.constDtype = c.constants;
    p.outDtype = c.out;
    p.batch = c.batch;
    p.bins = bins;
    p.classes = c.classes;
    p.halfSoftmax = c.halfSoftmax;
    p.halfDistance = c.halfDistance;
    p.halfDecode = c.halfDecode;
    p.halfBox = c.halfBox;
    p.halfScore = c.halfScore;
    p.levelCount = static_cast<int>(c.levels.size());

    // Levels: logits[level][((n * no + ch) * h + y) * w + x] logically, stored per layout.
    std::vector<std::vector<float>> logits;
    std::vector<std::unique_ptr<DeviceBuffer>> buffers;
    std::vector<float> points, strides;
    int64_t anchors = 0;
    for (size_t l = 0; l < c.levels.size(); ++l) anchors += c.levels[l].first * c.levels[l].second;
    points.assign(2 * anchors, 0);
    strides.assign(anchors, 0);
    int64_t a = 0;
    for (size_t l = 0; l < c.levels.size(); ++l) {
      const int64_t h = c.levels[l].first, w = c.levels[l].second, rootC = no + viewExtra;
      const bool nhwc = c.layout == LevelLayout::kNhwc || (c.layout == LevelLayout::kMixed && l % 2 == 0);
      logits.push_back(representable(rng.uniform(c.batch * no * h * w, -kLogitRange, kLogitRange), c.in));
      std::vector<float> stored(c.batch * rootC * h * w, 0.0f);
      int64_t st[4];
      if (nhwc) {
        st[0] = h * w * rootC, st[1] = 1, st[2] = w * rootC, st[3] = rootC;
      } else {
        st[0] = rootC * h * w, st[1] = h * w, st[2] = w, st[3] = 1;
      }
      for (int64_t n = 0; n < c.batch; ++n)
        for (int64_t ch = 0; ch < no; ++ch)
          for (int64_t y = 0; y < h; ++y)
            for (int64_t x = 0; x < w; ++x)
              stored[n * st[0] + (ch + viewOffset) * st[1] + y * st[2] + x * st[3]] = logits[l][((n * no + ch) * h + y) * w + x];
      buffers.push_back(std::make_unique<DeviceBuffer>(encode(stored, c.in)));
      p.levels[l].x = buffers.back()->as<uint8_t>(viewOffset * st[1] * sizeOf(c.in));
      p.levels[l].height = h;
      p.levels[l].width = w;
      for (int i = 0; i < 4; ++i) p.levels[l].strides[i] = st[i];
      const float stride = static_cast<float>(8 << l);
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x, ++a) {
          points[a] = static_cast<float>(x) + 0.5f;
          points[anchors + a] = static_cast<float>(y) + 0.5f;
          strides[a] = stride;
        }
    }
    std::vector<float> dfl(bins);
    for (int64_t r = 0; r < bins; ++r) dfl[r] = static_cast<float>(r);
    DeviceBuffer dDfl(encode(dfl, c.in)), dPoints(encode(points, c.constants)), dStrides(encode(strides, c.constants));
    DeviceBuffer dy(c.batch * (kDetectBoxSides + c.classes) * anchors * sizeOf(c.out));
    dy.poison();
    p.dfl = dDfl.get();
    p.anchors = dPoints.get();
    p.strides = dStrides.get();
    p.y = dy.get();
    netdef::cuda::ops::launchDetectDecode(p, nullptr);
    syncDevice();

    // The unfused graph, in double, rounded where it stores float16.
    std::vector<double> refBox, refScore, boxScale;
    std::vector<float> gotBox, gotScore;
    const std::vector<float> got = decode(dy.download(), c.out);
    const bool halfOut = c.out == DType::Float16;
    for (int64_t n = 0; n < c.batch; ++n) {
      a = 0;
      for (size_t l = 0; l < c.levels.size(); ++l) {
        const int64_t h = c.levels[l].first, w = c.levels[l].second;
        for (int64_t cell = 0; cell < h * w; ++cell, ++a) {
          auto logit = [&](int64_t ch) { return static_cast<double>(logits[l][(n * no + ch) * h * w + cell]); };
          double dist[kDetectBoxSides];
          for (int64_t s = 0; s < kDetectBoxSides; ++s) {
            double maxValue = -INFINITY, sum = 0, d = 0;
            for (int64_t r = 0; r < bins; ++r) maxValue = std::max(maxValue, logit(s * bins + r));
            for (int64_t r = 0; r < bins; ++r) sum += std::exp(logit(s * bins + r) - maxValue);
            for (int64_t r = 0; r < bins; ++r) d += roundIf(std::exp(logit(s * bins + r) - maxValue) / sum, c.halfSoftmax) * dfl[r];
            dist[s] = roundIf(d, c.halfDistance);
          }
          const double stride = strides[a];
          const double px = points[a], py = points[anchors + a];
          const double x1 = roundIf(px - dist[0], c.halfDecode), y1 = roundIf(py - dist[1], c.halfDecode);
          const double x2 = roundIf(px + dist[2], c.halfDecode), y2 = roundIf(py + dist[3], c.halfDecode);
          const double box[4] = {roundIf(roundIf(x1 + x2, c.halfDecode) / 2, c.halfDecode), roundIf(roundIf(y1 + y2, c.halfDecode) / 2, c.halfDecode),
                                 roundIf(x2 - x1, c.halfDecode), roundIf(y2 - y1, c.halfDecode)};
          const double scale = (std::max(px, py) + bins) * stride;
          for (int k = 0; k < 4; ++k) {
            refBox.push_back(roundIf(roundIf(box[k] * stride, c.halfDecode || c.halfBox), halfOut));
            boxScale.push_back(scale);
            gotBox.push_back(got[(n * (kDetectBoxSides + c.classes) + k) * anchors + a]);
          }
          for (int64_t k = 0; k < c.classes; ++k) {
            refScore.push_back(roundIf(1.0 / (1.0 + std::exp(-logit(boxChannels + k))), c.halfScore || halfOut));
            gotScore.push_back(got[(n * (kDetectBoxSides + c.classes) + kDetectBoxSides + k) * anchors + a]);
          }
        }
      }
    }
    const bool anyHalf = c.halfSoftmax || c.halfDistance || c.halfDecode || c.halfBox || halfOut;
    checkClose(name + " boxes", gotBox, refBox, anyHalf ? kBoxRtolFp16 : kBoxRtolFp32, 0.0, &boxScale);
    checkClose(name + " scores", gotScore, refScore, c.halfScore || halfOut ? kFp16Rtol : kFp32Rtol, atolFor(c.out));
    if (c.halfDecode && !halfOut) {
      size_t offGrid = 0;
      for (float v : gotBox) offGrid += representable({v}, DType::Float16)[0] != v ? 1 : 0;
      record(offGrid == 0, name + " boxes are float16 values", std::to_string(offGrid) + " of " + std::to_string(gotBox.size()) + " are not");
    }
  });
}

}  // namespace

void testDetectDecode() {
  Rng rng(kSeed);
  const std::vector<std::pair<int64_t, int64_t>> small{{8, 8}, {4, 4}, {2, 2}}, wide{{40, 40}, {20, 20}, {10, 10}};
  Case c;
  c.levels = small;
  runDecodeCase(rng, c);  // float32, NCHW
  c.layout = LevelLayout::kNhwc;
  c.batch = 2;
  runDecodeCase(rng, c);
  c.layout = LevelLayout::kMixed;
  c.classes = 70;  // one full chunk and a partial one
  runDecodeCase(rng, c);
  c.layout = LevelLayout::kChannelView;
  c.classes = 3;
  runDecodeCase(rng, c);

  // All-float16 (the tail of `*:fp16`: every intermediate float16, the output cast to float32).
  Case h;
  h.in = h.constants = DType::Float16;
  h.layout = LevelLayout::kNhwc;
  h.levels = wide;
  h.batch = 2;
  h.halfSoftmax = h.halfDistance = h.halfDecode = h.halfBox = h.halfScore = true;
  runDecodeCase(rng, h);
  h.out = DType::Float16;
  h.layout = LevelLayout::kNchw;
  runDecodeCase(rng, h);
  h.layout = LevelLayout::kNhwc;
  h.classes = 70;
  runDecodeCase(rng, h);

  // fp16-fp32-decode: float16 logits, softmax and distances; the decode and the output float32.
  Case m;
  m.in = DType::Float16;
  m.layout = LevelLayout::kNhwc;
  m.levels = wide;
  m.halfSoftmax = m.halfDistance = m.halfScore = true;
  runDecodeCase(rng, m);
  // A float32 decode whose result is stored in float16 later (halfBox alone).
  m.halfBox = true;
  m.levels = small;
  runDecodeCase(rng, m);

  expectError("detect_decode rejects more DFL bins than it holds", netdef::kErrInvalidArgument, [] {
    DetectDecodeParams p;
    p.levelCount = 1;
    p.bins = netdef::cuda::ops::kDetectDecodeMaxBins + 1;
    netdef::cuda::ops::launchDetectDecode(p, nullptr);
  });
  expectError("detect_decode rejects no levels", netdef::kErrInvalidArgument, [] {
    DetectDecodeParams p;
    netdef::cuda::ops::launchDetectDecode(p, nullptr);
  });
}

}  // namespace ops_test
