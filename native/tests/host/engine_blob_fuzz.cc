// Host-only fuzz of the CUDA engine blob reader (cuda::readEngine, engine_format.cc), built with
// AddressSanitizer and UBSan by scripts/fuzz/native-asan.sh (no GPU, no cmake-js). A small engine
// record is serialized, then cut at every length, overwritten byte by byte and with 64-bit boundary
// values at every offset, and mutated at random, with the FNV-1a checksum recomputed so the reader's
// deeper checks meet the input (tampering, not corruption). Every case must either parse or throw
// netdef::Error(ERR_ENGINE_FORMAT); any other exception, and any sanitizer report, fails the run.
//
// Not covered here: what CudaEngine does with a record that parses (it needs a GPU), see
// docs/limits.md.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cuda/byte_io.h"
#include "cuda/engine_format.h"

namespace {

using netdef::cuda::EngineRecord;

constexpr uint64_t kChecksumBytes = 8;
constexpr int kRandomCases = 200000;
constexpr uint32_t kSeed = 13;

EngineRecord sampleRecord() {
  using namespace netdef::cuda;
  EngineRecord r;
  r.smMajor = 9;
  r.deviceName = "fuzz";
  r.config.maxBatch = 4;
  r.config.optBatch = 2;
  Program& p = r.program;
  p.tensors = {TensorDef{"images", netdef::ir::DType::Float32, {netdef::ir::kBatch, 3, 8, 8}, Layout::kRowMajor, -1, true},
               TensorDef{"conv", netdef::ir::DType::Float32, {netdef::ir::kBatch, 4, 8, 8}},
               TensorDef{"act", netdef::ir::DType::Float32, {netdef::ir::kBatch, 4, 8, 8}},
               TensorDef{"w", netdef::ir::DType::Float32, {4, 3, 3, 3}, Layout::kRowMajor, 0},
               TensorDef{"q", netdef::ir::DType::Int8, {netdef::ir::kBatch, 16, 8, 8}, Layout::kNhwc},
               TensorDef{"q8", netdef::ir::DType::Int8, {netdef::ir::kBatch, 16, 8, 8}, Layout::kNhwc}};
  p.weights = {WeightDef{"model.0.conv.weight", netdef::ir::DType::Float32, std::vector<uint8_t>(4 * 3 * 3 * 3 * 4, 1)},
               WeightDef{"model.3.conv.weight", netdef::ir::DType::Int8, std::vector<uint8_t>(16 * 16, 1)},
               WeightDef{"model.3.conv.weight.scale", netdef::ir::DType::Float32, std::vector<uint8_t>(16 * 4, 0x3C)}};
  p.inputs = {0};
  p.outputs = {OutputDef{"output0", 2}};
  ConvAttrs conv;
  conv.outChannels = 4;
  conv.params = netdef::ConvolutionParams{{3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1};
  conv.weight = 0;
  OpDef c{"/model.0/conv/Conv", {0}, {1}, conv, -1};
  OpDef a{"/model.0/act/Mul", {1}, {2}, ActivationAttrs{}, -1};
  OpDef s{"/model.1/Reshape", {2}, {2}, ShuffleAttrs{{netdef::ir::kBatch, 256}, {0, 1}}, -1};
  OpDef z{"/model.2/Slice", {2}, {2}, SliceAttrs{{0, 0}, {1, 1}, {1, 1}}, -1};
  ConvAttrs int8;  // an int8 convolution with a folded Quantize, on an igemm tile
  int8.outChannels = 16;
  int8.params = netdef::ConvolutionParams{{1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, 1};
  int8.weight = 1;
  int8.weightScales = 2;
  int8.inputScale = 0.5f;
  int8.outputScale = 0.25f;
  OpDef q{"/model.3/conv/Conv", {4}, {5}, int8, -1};
  p.ops = {c, a, s, z, q};
  ConvTactic tile;
  tile.kind = ConvTactic::Kind::kIgemm;
  tile.algo = 1;
  r.tactics = {OpTactic{0, ConvTactic{}}, OpTactic{4, tile}};
  return r;
}

void fixChecksum(std::vector<uint8_t>& blob) {
  if (blob.size() < kChecksumBytes) return;
  const size_t body = blob.size() - kChecksumBytes;
  uint64_t h = netdef::cuda::fnv1a64(blob.data(), body);
  for (size_t i = 0; i < kChecksumBytes; ++i) blob[body + i] = static_cast<uint8_t>(h >> (8 * i));
}

struct Counts {
  long parsed = 0, refused = 0, failures = 0;
};

void check(const std::vector<uint8_t>& blob, Counts& counts, const std::string& what) {
  try {
    EngineRecord r = netdef::cuda::readEngine(blob.data(), blob.size());
    ++counts.parsed;
  } catch (const netdef::Error& e) {
    if (e.code() != netdef::kErrEngineFormat) {
      std::fprintf(stderr, "FAIL %s: code %s: %s\n", what.c_str(), e.code().c_str(), e.what());
      ++counts.failures;
    } else {
      ++counts.refused;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FAIL %s: untyped exception: %s\n", what.c_str(), e.what());
    ++counts.failures;
  }
}

}  // namespace

int main() {
  const std::vector<uint8_t> seed = netdef::cuda::writeEngine(sampleRecord());
  Counts counts;
  check(seed, counts, "seed");
  if (counts.parsed != 1) return std::fprintf(stderr, "FAIL: the seed does not parse\n"), 1;
  for (size_t n = 0; n < seed.size(); ++n) check(std::vector<uint8_t>(seed.begin(), seed.begin() + n), counts, "cut at " + std::to_string(n));
  const uint8_t bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff};
  const uint64_t words[] = {~0ull, 1ull << 63, 1ull << 62, 1ull << 32, 0xffffffffull, 0x7fffffffull, seed.size(), seed.size() + 1};
  for (size_t at = 0; at + kChecksumBytes < seed.size(); ++at) {
    for (uint8_t b : bytes) {
      std::vector<uint8_t> m(seed);
      m[at] = b;
      fixChecksum(m);
      check(m, counts, "byte " + std::to_string(at) + " = " + std::to_string(b));
    }
    for (uint64_t w : words) {
      std::vector<uint8_t> m(seed);
      for (size_t i = 0; i < 8 && at + i + kChecksumBytes < m.size(); ++i) m[at + i] = static_cast<uint8_t>(w >> (8 * i));
      fixChecksum(m);
      check(m, counts, "u64 at " + std::to_string(at) + " = " + std::to_string(w));
    }
  }
  std::mt19937 rng(kSeed);
  for (int c = 0; c < kRandomCases; ++c) {
    std::vector<uint8_t> m(seed);
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) m[rng() % (m.size() - kChecksumBytes)] = static_cast<uint8_t>(rng());
    if (rng() % 4 == 0) m.resize(rng() % m.size());
    if (rng() % 8 != 0) fixChecksum(m);
    check(m, counts, "random case " + std::to_string(c));
  }
  std::printf("engine blob fuzz: %ld cases (%ld parsed, %ld refused with ERR_ENGINE_FORMAT), %ld failures\n", counts.parsed + counts.refused + counts.failures,
              counts.parsed, counts.refused, counts.failures);
  return counts.failures == 0 ? 0 : 1;
}
