// Tests ops/candidates against candidates_ref.h: float32 and float16 outputs of YOLOv8's shape
// (80 classes, 8400 anchors) and small ones; predict's conf 0.25, a dense 0.001 with a top-k that
// cuts through many equal scores (scores are quantized so ties are common), NaN columns, a class
// filter (with ids outside the classes), maxNms 0, one class. Counts and records must be equal
// byte for byte.
#include "candidates_ref.h"
#include "cuda/ops/candidates.cuh"
#include "ops_test_util.h"

namespace ops_test {
namespace {

using netdef::cuda::ops::CandidateParams;
using netdef::cuda::ops::CandidateRecord;

constexpr uint32_t kSeed = 777;

struct Case {
  const char* name;
  DType dtype;
  int batch, nc, anchors;
  float conf;
  int64_t maxNms;
  std::vector<int32_t> classes;  // empty: no filter
  bool filter;
};

// Scores in [0, 1) quantized to 1/256 (many ties), mostly low; a few NaN columns; boxes anywhere.
std::vector<float> prediction(Rng& rng, const Case& c) {
  const int channels = 4 + c.nc;
  std::vector<float> v(static_cast<size_t>(c.batch) * channels * c.anchors);
  for (int b = 0; b < c.batch; ++b)
    for (int ch = 0; ch < channels; ++ch)
      for (int a = 0; a < c.anchors; ++a) {
        float x;
        if (ch < 4) {
          x = static_cast<float>(rng.integer(0, 640000)) / 1000.0f;
        } else {
          const int64_t r = rng.integer(0, 999);
          x = static_cast<float>(r < 990 ? rng.integer(0, 40) : rng.integer(0, 255)) / 256.0f;
        }
        v[(static_cast<size_t>(b) * channels + ch) * c.anchors + a] = x;
      }
  // NaN in a class row of some anchors (one that would otherwise pass, too)
  for (int b = 0; b < c.batch; ++b)
    for (int k = 0; k < 5 && k < c.anchors; ++k) {
      const int a = static_cast<int>(rng.integer(0, c.anchors - 1));
      const int ch = 4 + static_cast<int>(rng.integer(0, c.nc - 1));
      v[(static_cast<size_t>(b) * channels + 4) * c.anchors + a] = 0.9f;
      v[(static_cast<size_t>(b) * channels + ch) * c.anchors + a] = NAN;
    }
  return v;
}

void runOne(Rng& rng, const Case& c) {
  runCase(c.name, [&] {
    const int channels = 4 + c.nc;
    const std::vector<uint8_t> x = encode(prediction(rng, c), c.dtype);
    const std::vector<float> seen = decode(x, c.dtype);
    std::vector<uint8_t> mask;
    if (c.filter) {
      mask.assign(c.nc, 0);
      for (int32_t k : c.classes)
        if (k >= 0 && k < c.nc) mask[k] = 1;
    }
    const int64_t capacity = netdef::cuda::ops::candidateCapacity(c.anchors, c.maxNms);
    DeviceBuffer dx(x), keys(static_cast<size_t>(c.batch) * c.anchors * 4), classes(static_cast<size_t>(c.batch) * c.anchors * 4);
    DeviceBuffer out(std::max<size_t>(1, static_cast<size_t>(c.batch * capacity) * sizeof(CandidateRecord)));
    DeviceBuffer counts(static_cast<size_t>(c.batch) * 4);
    DeviceBuffer allowed(std::max<size_t>(1, mask.size()));
    if (c.filter) allowed.upload(mask);
    out.poison();
    counts.poison();
    CandidateParams p;
    p.prediction = dx.get();
    p.dtype = c.dtype;
    p.batch = c.batch;
    p.channels = channels;
    p.anchors = c.anchors;
    p.conf = c.conf;
    p.maxNms = static_cast<int32_t>(c.maxNms);
    p.allowedClasses = c.filter ? allowed.as<uint8_t>() : nullptr;
    p.keys = keys.as<uint32_t>();
    p.classes = classes.as<int32_t>();
    p.out = out.as<CandidateRecord>();
    p.counts = counts.as<int32_t>();
    netdef::cuda::ops::launchCandidates(p, nullptr);
    syncDevice();
    const std::vector<uint8_t> gotCounts = counts.download();
    const std::vector<uint8_t> gotRecords = out.download();
    int64_t total = 0;
    for (int b = 0; b < c.batch; ++b) {
      const std::vector<candidates_ref::Record> ref = candidates_ref::select(
          seen.data() + static_cast<size_t>(b) * channels * c.anchors, channels, c.anchors, c.conf, c.maxNms, c.filter ? &mask : nullptr);
      int32_t n = 0;
      std::memcpy(&n, gotCounts.data() + b * 4, 4);
      total += static_cast<int64_t>(ref.size());
      const std::string label = std::string(c.name) + " image " + std::to_string(b);
      if (n != static_cast<int32_t>(ref.size())) {
        record(false, label, "count " + std::to_string(n) + ", want " + std::to_string(ref.size()));
        continue;
      }
      const auto at = gotRecords.begin() + static_cast<ptrdiff_t>(b * capacity * sizeof(CandidateRecord));
      checkBytes(label + " (" + std::to_string(n) + " candidates)", std::vector<uint8_t>(at, at + n * sizeof(CandidateRecord)),
                 candidates_ref::bytes(ref));
    }
  });
}

}  // namespace

void testCandidates() {
  Rng rng(kSeed);
  const Case cases[] = {
      {"candidates f32 yolov8 shape conf 0.25", DType::Float32, 2, 80, 8400, 0.25f, 30000, {}, false},
      {"candidates f16 yolov8 shape conf 0.25", DType::Float16, 2, 80, 8400, 0.25f, 30000, {}, false},
      {"candidates f32 dense conf 0.001 top-1000 through ties", DType::Float32, 2, 80, 8400, 0.001f, 1000, {}, false},
      {"candidates f16 conf 0.1 top-37 through ties", DType::Float16, 3, 20, 3000, 0.1f, 37, {}, false},
      {"candidates f32 class filter", DType::Float32, 2, 80, 8400, 0.05f, 30000, {0, 5, 79, 200, -1}, true},
      {"candidates f32 class filter and top-10", DType::Float32, 2, 80, 8400, 0.05f, 10, {0, 2, 3}, true},
      {"candidates f32 maxNms 0", DType::Float32, 2, 10, 500, 0.01f, 0, {}, false},
      {"candidates f32 one class", DType::Float32, 2, 1, 1000, 0.05f, 30000, {}, false},
      {"candidates f16 one anchor per image", DType::Float16, 4, 3, 1, 0.0f, 5, {}, false},
      {"candidates f32 anchors not a multiple of the block, conf 0", DType::Float32, 1, 7, 2500, 0.0f, 2049, {}, false},
  };
  for (const Case& c : cases) runOne(rng, c);
  expectError("candidates refuses conf above 1", netdef::kErrInvalidArgument, [] {
    CandidateParams p;
    p.batch = 1;
    p.channels = 6;
    p.anchors = 4;
    p.conf = 1.5f;
    netdef::cuda::ops::launchCandidates(p, nullptr);
  });
  expectError("candidates refuses an output without classes", netdef::kErrInvalidArgument, [] {
    CandidateParams p;
    p.batch = 1;
    p.channels = 4;
    p.anchors = 4;
    netdef::cuda::ops::launchCandidates(p, nullptr);
  });
}

}  // namespace ops_test
