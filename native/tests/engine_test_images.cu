// Tests CudaEngine::runImages (image_io.h) end to end on small engines whose output0 is the
// letterboxed input itself, reshaped to [B, 6, 32] (4 box channels, 2 classes, 32 anchors) and
// cast: images of different sizes letterboxed on the device into the input (float16, float32 or
// uint8), the captured forward, then the raw outputs or the candidates, each against the CPU
// references (letterbox_ref.h, candidates_ref.h) byte for byte; typed errors for bad geometry,
// a batch outside the range, and a working engine after them.
#include "candidates_ref.h"
#include "cuda/engine_build.h"
#include "engine_test_util.h"
#include "letterbox_ref.h"

namespace engine_test {
namespace {

using namespace netdef;
using namespace netdef::cuda;

constexpr int kSide = 8;
constexpr int kRows = 6, kAnchors = 32;  // 3 * 8 * 8 = 6 * 32

std::unique_ptr<CudaEngine> buildImageEngine(DType in, DType out) {
  CudaNetwork net;
  ITensor* x = net.addInput("images", in, Dims{{ir::kBatch, 3, kSide, kSide}});
  ILayer* flat = net.addShuffle(*x, Dims{{ir::kBatch, kRows, kAnchors}}, {});
  flat->setName("flatten");
  ILayer* cast = net.addCast(*flat->output(0), out);
  cast->setName("cast");
  net.markOutput(*cast->output(0), "output0");
  BuildOptions o;
  o.minBatch = 1;
  o.optBatch = 2;
  o.maxBatch = 4;
  const LayoutMode mode = LayoutMode::kRowMajor;
  return buildFromNetwork(net, o, {}, &mode);
}

struct TestImage {
  int width, height;
  std::vector<uint8_t> rgb;
  letterbox_ref::Geometry g;
};

ImageBatch toBatch(const std::vector<TestImage>& images) {
  ImageBatch b;
  for (const TestImage& im : images) {
    ImagePlacement p;
    p.offset = b.bytes.size();
    p.width = im.width;
    p.height = im.height;
    p.unpadWidth = im.g.unpadWidth;
    p.unpadHeight = im.g.unpadHeight;
    p.padLeft = im.g.padLeft;
    p.padTop = im.g.padTop;
    b.bytes.insert(b.bytes.end(), im.rgb.begin(), im.rgb.end());
    b.images.push_back(p);
  }
  return b;
}

// The output the engine must give: the reference letterbox in the input dtype, widened/narrowed to `out`.
std::vector<uint8_t> expectedOutput(const std::vector<TestImage>& images, DType in, DType out) {
  std::vector<uint8_t> all;
  for (const TestImage& im : images) {
    const auto hwc = letterbox_ref::letterboxHwc(im.rgb, im.width, im.height, im.g, kSide, kSide);
    const auto chw = letterbox_ref::toChw(hwc, kSide, kSide, in);
    const auto cast = ops_test::encode(ops_test::decode(chw, in), out);
    all.insert(all.end(), cast.begin(), cast.end());
  }
  return all;
}

void testOne(DType in, DType out, ops_test::Rng& rng) {
  const std::string label = std::string("runImages ") + ops::dtypeLabel(in) + " input, " + ops::dtypeLabel(out) + " output0";
  std::snprintf(crashContext(), 256, "%s", label.c_str());
  ops_test::runCase(label, [&] {
    auto e = buildImageEngine(in, out);
    std::vector<TestImage> images;
    for (auto [w, h] : {std::pair{13, 7}, {8, 8}, {3, 30}, {100, 61}}) {
      TestImage im{w, h, {}, letterbox_ref::geometry(w, h, kSide, kSide)};
      for (int i = 0; i < w * h * 3; ++i) im.rgb.push_back(static_cast<uint8_t>(rng.integer(0, 255)));
      images.push_back(std::move(im));
    }
    for (size_t n : {size_t{4}, size_t{1}, size_t{3}}) {
      const std::vector<TestImage> batch(images.begin(), images.begin() + static_cast<ptrdiff_t>(n));
      const std::string b = " batch " + std::to_string(n);
      const std::vector<uint8_t> want = expectedOutput(batch, in, out);
      ImageRunResult raw = e->runImages(toBatch(batch), std::nullopt);
      ops_test::checkBytes(label + b + " raw output0", raw.outputs.at("output0").data, want);
      const std::vector<float> seen = ops_test::decode(want, out);
      for (auto [conf, maxNms] : {std::pair{0.5f, int64_t{30000}}, {0.2f, int64_t{5}}, {0.0f, int64_t{0}}}) {
        CandidateQuery q;
        q.conf = conf;
        q.maxNms = maxNms;
        if (maxNms == 5) q.classes = std::vector<int32_t>{1};
        ImageRunResult got = e->runImages(toBatch(batch), q);
        std::vector<uint8_t> ref;
        std::vector<int32_t> counts;
        const std::vector<uint8_t> allowed{0, 1};
        for (size_t i = 0; i < n; ++i) {
          const auto r = candidates_ref::select(seen.data() + i * kRows * kAnchors, kRows, kAnchors, conf, maxNms, q.classes ? &allowed : nullptr);
          counts.push_back(static_cast<int32_t>(r.size()));
          const auto bytes = candidates_ref::bytes(r);
          ref.insert(ref.end(), bytes.begin(), bytes.end());
        }
        const std::string qn = b + " candidates conf " + std::to_string(conf) + " maxNms " + std::to_string(maxNms);
        ops_test::record(got.candidates && got.candidates->counts == counts, label + qn + " counts", "");
        if (got.candidates) ops_test::checkBytes(label + qn + " records", got.candidates->records, ref);
      }
    }
    ImageBatch bad = toBatch({images[0]});
    bad.images[0].padLeft = kSide;  // the resized image would start outside the input
    ops_test::expectError(label + ": geometry outside the input", kErrInvalidArgument, [&] { e->runImages(bad, std::nullopt); });
    ImageBatch big = toBatch({images[0], images[0], images[0], images[0], images[0]});
    ops_test::expectError(label + ": batch above the engine's max", kErrInvalidArgument, [&] { e->runImages(big, std::nullopt); });
    ImageBatch shortBytes = toBatch({images[0]});
    shortBytes.bytes.pop_back();
    ops_test::expectError(label + ": image bytes missing", kErrInvalidArgument, [&] { e->runImages(shortBytes, std::nullopt); });
    const std::vector<TestImage> again{images[1]};
    ops_test::checkBytes(label + ": runs again after the errors", e->runImages(toBatch(again), std::nullopt).outputs.at("output0").data,
                         expectedOutput(again, in, out));
  });
}

// The first runImages of a batch size on a fresh engine, where the arena hands the input's memory
// to a later tensor (x, then x + x, then (x + x) * 2 in x's place, cast to float32 into output0):
// the forward's capture, whose warm-up runs the network eagerly, must not come after the letterbox.
void testFirstCall(ops_test::Rng& rng) {
  const std::string label = "runImages: the first call of each batch size on a fresh engine";
  std::snprintf(crashContext(), 256, "%s", label.c_str());
  ops_test::runCase(label, [&] {
    CudaNetwork net;
    ITensor* x = net.addInput("images", DType::Float16, Dims{{ir::kBatch, 3, kSide, kSide}});
    ILayer* flat = net.addShuffle(*x, Dims{{ir::kBatch, kRows, kAnchors}}, {});
    flat->setName("flatten");
    ILayer* twice = net.addElementWise(*flat->output(0), *flat->output(0), ElementWiseOperation::Sum);
    twice->setName("twice");
    ILayer* four = net.addElementWise(*twice->output(0), *twice->output(0), ElementWiseOperation::Sum);
    four->setName("four");
    ILayer* cast = net.addCast(*four->output(0), DType::Float32);
    cast->setName("cast");
    net.markOutput(*cast->output(0), "output0");
    BuildOptions o;
    o.minBatch = 1;
    o.optBatch = 2;
    o.maxBatch = 2;
    const LayoutMode mode = LayoutMode::kRowMajor;
    auto e = buildFromNetwork(net, o, {}, &mode);
    std::vector<TestImage> images;
    for (auto [w, h] : {std::pair{13, 7}, {30, 3}}) {
      TestImage im{w, h, {}, letterbox_ref::geometry(w, h, kSide, kSide)};
      for (int i = 0; i < w * h * 3; ++i) im.rgb.push_back(static_cast<uint8_t>(rng.integer(0, 255)));
      images.push_back(std::move(im));
    }
    constexpr float kFactor = 4.0f;  // x + x, twice: exact in float16 for values in [0, 1]
    for (size_t n : {size_t{2}, size_t{1}}) {
      const std::vector<TestImage> batch(images.begin(), images.begin() + static_cast<ptrdiff_t>(n));
      std::vector<float> want = ops_test::decode(expectedOutput(batch, DType::Float16, DType::Float16), DType::Float16);
      for (float& v : want) v *= kFactor;
      ImageRunResult got = e->runImages(toBatch(batch), std::nullopt);
      ops_test::checkBytes(label + ", batch " + std::to_string(n), got.outputs.at("output0").data, ops_test::encode(want, DType::Float32));
    }
  });
}

}  // namespace

void testRunImages() {
  ops_test::Rng rng(99);
  testFirstCall(rng);
  testOne(DType::Float16, DType::Float32, rng);
  testOne(DType::Float32, DType::Float16, rng);
  testOne(DType::UInt8, DType::Float32, rng);
}

}  // namespace engine_test
