// Host-only round trip of an int8 engine record through the CUDA engine's blob format
// (engine_format.h, version 3): an int8 convolution's weight-scales index, input and output scales
// and its igemm tactic (kind, tile) come back as written, next to a float convolution's; version 4's
// tf32 flag round-trips and a version-3 blob (without it) loads with it off; blobs before version 5
// load with pooling's channel views off; a version-2
// blob (before int8) is refused with ERR_ENGINE_FORMAT naming both versions; version 9's split-K
// slices round-trip and are range-checked; a version-9 blob whose int8 convolution this build runs
// on the direct kernel (3 input channels) with an igemm tactic is refused, naming the layer.
// Built and run by scripts/native-host-tests.sh (g++, CUDA headers only).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "cuda/byte_io.h"
#include "cuda/engine_format.h"

namespace {

using namespace netdef;
using namespace netdef::cuda;

constexpr uint32_t kPreviousVersion = 2;
constexpr size_t kMagicBytes = 8, kChecksumBytes = 8;
constexpr float kInputScale = 0.0078125f, kOutputScale = 0.03125f;

int failures = 0, passes = 0;

void check(bool ok, const std::string& what) {
  (ok ? passes : failures) += 1;
  std::printf("%s  %s\n", ok ? "PASS" : "FAIL", what.c_str());
}

EngineRecord int8Record() {
  EngineRecord r;
  r.smMajor = 9;
  r.deviceName = "host";
  Program& p = r.program;
  p.tensors = {TensorDef{"q", ir::DType::Int8, {ir::kBatch, 16, 8, 8}, Layout::kNhwc, -1, true},
               TensorDef{"y", ir::DType::Int8, {ir::kBatch, 32, 8, 8}, Layout::kNhwc},
               TensorDef{"h", ir::DType::Float16, {ir::kBatch, 32, 8, 8}, Layout::kNhwc}};
  p.weights = {WeightDef{"c.w", ir::DType::Int8, std::vector<uint8_t>(32 * 16 * 9, 3)},
               WeightDef{"c.w.scale", ir::DType::Float32, std::vector<uint8_t>(32 * 4, 0x3C)},
               WeightDef{"c.b", ir::DType::Float32, std::vector<uint8_t>(32 * 4, 0)},
               WeightDef{"d.w", ir::DType::Float16, std::vector<uint8_t>(32 * 32 * 2, 0x3C)}};
  p.inputs = {0};
  p.outputs = {OutputDef{"h", 2}};
  ConvAttrs c;
  c.outChannels = 32;
  c.params = ConvolutionParams{{3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1};
  c.weight = 0;
  c.weightScales = 1;
  c.bias = 2;
  c.activation = FusedActivation::kSilu;
  c.inputScale = kInputScale;
  c.outputScale = kOutputScale;
  ConvAttrs d;
  d.outChannels = 32;
  d.params = ConvolutionParams{{1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, 1};
  d.weight = 3;
  p.ops = {OpDef{"c", {0}, {1}, c, -1}, OpDef{"d", {1}, {2}, d, -1}};
  ConvTactic tile;
  tile.kind = ConvTactic::Kind::kIgemm;
  tile.algo = 2;
  tile.timeMs = 0.5f;
  r.tactics = {OpTactic{0, tile}, OpTactic{1, ConvTactic{}}};
  return r;
}

void testRoundTrip() {
  const std::vector<uint8_t> blob = writeEngine(int8Record());
  const EngineRecord r = readEngine(blob.data(), blob.size());
  const auto& c = std::get<ConvAttrs>(r.program.ops.at(0).attrs);
  check(c.isInt8() && c.weightScales == 1 && c.inputScale == kInputScale && c.outputScale == kOutputScale && c.bias == 2 &&
            c.activation == FusedActivation::kSilu,
        "the int8 convolution's scales, weight-scales index, bias and activation come back");
  const auto& d = std::get<ConvAttrs>(r.program.ops.at(1).attrs);
  check(!d.isInt8() && d.inputScale == 0 && d.outputScale == 0, "the float convolution stays float");
  check(r.tactics.size() == 2 && r.tactics[0].tactic.kind == ConvTactic::Kind::kIgemm && r.tactics[0].tactic.algo == 2 &&
            r.tactics[1].tactic.kind == ConvTactic::Kind::kCudnnLegacy,
        "the igemm tactic (kind and tile) comes back beside the cuDNN one");
  check(r.program.weights.at(0).dtype == ir::DType::Int8 && r.program.weights.at(0).bytes == std::vector<uint8_t>(32 * 16 * 9, 3),
        "the int8 weight's bytes come back");
}

// Sets the blob's version field and recomputes its checksum.
void restamp(std::vector<uint8_t>& blob, uint32_t version) {
  for (size_t i = 0; i < sizeof version; ++i) blob[kMagicBytes + i] = static_cast<uint8_t>(version >> (8 * i));
  const size_t body = blob.size() - kChecksumBytes;
  const uint64_t h = fnv1a64(blob.data(), body);
  for (size_t i = 0; i < kChecksumBytes; ++i) blob[body + i] = static_cast<uint8_t>(h >> (8 * i));
}

// Writes `bad` and checks that reading it back fails with ERR_ENGINE_FORMAT naming `needle`.
void expectRefused(const EngineRecord& bad, const std::string& needle, const std::string& what) {
  const std::vector<uint8_t> b = writeEngine(bad);
  try {
    readEngine(b.data(), b.size());
    check(false, what + " (it parsed)");
  } catch (const Error& e) {
    check(std::string(e.code()) == kErrEngineFormat && std::string(e.what()).find(needle) != std::string::npos, what + ": " + e.what());
  }
}

// An int8 residual scale is read back, and refused where it makes no sense: on an int8
// convolution without a residual input, or missing (0) on one with it.
void testResidualScale() {
  EngineRecord r = int8Record();
  r.program.ops[0].inputs.push_back(1);  // c reads a residual
  std::get<ConvAttrs>(r.program.ops[0].attrs).residualScale = 0.25f;
  const std::vector<uint8_t> blob = writeEngine(r);
  const EngineRecord back = readEngine(blob.data(), blob.size());
  check(std::get<ConvAttrs>(back.program.ops[0].attrs).residualScale == 0.25f, "an int8 residual scale round-trips");
  auto refused = [](const EngineRecord& bad, const std::string& what) { expectRefused(bad, "residual scale", what); };
  EngineRecord noInput = r;
  noInput.program.ops[0].inputs.pop_back();
  refused(noInput, "a residual scale without a residual input is refused");
  EngineRecord noScale = r;
  std::get<ConvAttrs>(noScale.program.ops[0].attrs).residualScale = 0;
  refused(noScale, "an int8 residual without its scale is refused");
  try {
    writeEngine(r, kInt8ResidualFormatVersion - 1);
    check(false, "an int8 residual is not written in an older format (it was)");
  } catch (const Error& e) {
    check(std::string(e.code()) == kErrInvalidArgument, std::string("an int8 residual is not written in an older format: ") + e.what());
  }
}

void testPreviousVersionRefused() {
  std::vector<uint8_t> blob = writeEngine(int8Record());
  restamp(blob, kPreviousVersion);
  try {
    readEngine(blob.data(), blob.size());
    check(false, "a version-2 blob is refused (it parsed)");
  } catch (const Error& e) {
    const std::string m = e.what();
    check(std::string(e.code()) == kErrEngineFormat && m.find("version 2") != std::string::npos && m.find("versions 3 to " + std::to_string(kEngineFormatVersion)) != std::string::npos,
          std::string("a version-2 blob is refused: ") + m);
  }
}

// Older blobs still load: version 3 (written before the tf32 flag) with tf32 off, version 4 with
// pooling's channel views off, version 5 (before op dtypes) with each op's dtype derived from its
// tensors as recorded, versions before 8 without plan texts; the current version round-trips tf32,
// the op dtypes and the plan texts.
void testOlderVersionsLoad() {
  EngineRecord r = int8Record();
  r.config.tf32 = true;
  r.program.ops[0].dtype = ir::DType::Int8;
  r.program.ops[1].dtype = ir::DType::Float16;
  r.planIdentity = "sm_90 NVIDIA H100 cuDNN 91900 netdef 0.1.0";
  const std::string text = std::string("{\"plan\":1}") + std::string(1, '\0') + "\xff";  // any bytes
  r.plans = {{"k1", text}, {"k2", "{}"}};
  const std::vector<uint8_t> blob = writeEngine(r);
  const EngineRecord back = readEngine(blob.data(), blob.size());
  check(back.planIdentity == r.planIdentity && back.plans == r.plans, "fused plan texts and their identity round-trip byte for byte");
  check(back.config.tf32, "the tf32 flag round-trips");
  check(back.config.poolingViews, "a current blob plans pooling's channel views");
  check(back.program.ops[0].dtype == ir::DType::Int8 && back.program.ops[1].dtype == ir::DType::Float16, "op dtypes round-trip");
  r.program.ops[0].dtype = r.program.ops[1].dtype = ir::DType::Float32;  // not stored before version 6 (derived there)
  for (uint32_t version = kOldestReadableFormatVersion; version < kEngineFormatVersion; ++version) {
    const std::string v = "a version-" + std::to_string(version) + " blob";
    try {
      const std::vector<uint8_t> old = writeEngine(r, version);
      const EngineRecord e = readEngine(old.data(), old.size());
      check(e.program.ops.size() == r.program.ops.size(), v + " loads");
      if (version < kPlanTextsFormatVersion) {
        check(e.plans.empty() && e.planIdentity.empty(), v + " has no plan texts (made at load)");
      } else {
        check(e.plans == r.plans && e.planIdentity == r.planIdentity, v + " keeps its plan texts");
      }
      check(e.config.tf32 == (version >= kTf32FormatVersion), v + (version >= kTf32FormatVersion ? " keeps tf32" : " loads with tf32 off"));
      check(e.config.poolingViews == (version >= kPoolingViewsFormatVersion), v + " plans pooling's channel views as it was built");
      if (version < kOpDtypeFormatVersion) {
        check(e.program.ops[0].dtype == ir::DType::Int8 && e.program.ops[1].dtype == ir::DType::Float16, v + ": op dtypes derived from the weights");
      } else {
        check(e.program.ops[0].dtype == r.program.ops[0].dtype && e.program.ops[1].dtype == r.program.ops[1].dtype, v + ": op dtypes as stored");
      }
    } catch (const Error& e) {
      check(false, v + " loads: " + e.what());
    }
  }
}

}  // namespace

// An igemm tactic's split-K slices round-trip (format 9), are refused out of range or on another
// kind, and are not written in an older format (which would drop them).
void testSplitK() {
  EngineRecord r = int8Record();
  r.tactics[0].tactic.splits = 4;
  const std::vector<uint8_t> blob = writeEngine(r);
  const EngineRecord back = readEngine(blob.data(), blob.size());
  check(back.tactics[0].tactic.splits == 4 && back.tactics[1].tactic.splits == 1, "split-K slices round-trip (1 on the cuDNN tactic)");
  auto refused = [](const EngineRecord& bad, const std::string& what) { expectRefused(bad, "split-K", what); };
  EngineRecord tooMany = r;
  tooMany.tactics[0].tactic.splits = igemm::kMaxIgemmSplits + 1;
  refused(tooMany, "more split-K slices than the kernel runs are refused");
  EngineRecord onCudnn = r;
  onCudnn.tactics[1].tactic.splits = 2;
  refused(onCudnn, "split-K on a cuDNN tactic is refused");
  try {
    writeEngine(r, kSplitKFormatVersion - 1);
    check(false, "a split-K tactic is not written in an older format (it was)");
  } catch (const Error& e) {
    check(std::string(e.code()) == kErrInvalidArgument, std::string("a split-K tactic is not written in an older format: ") + e.what());
  }
}

void testInt8DirectInOlderBlobs() {
  EngineRecord r = int8Record();
  constexpr int64_t kStemChannels = 3;
  r.program.tensors[0].dims[1] = kStemChannels;  // c now runs on the direct kernel (direct_conv_rule.h)
  r.program.weights[0].bytes.resize(32 * kStemChannels * 9);
  const std::vector<uint8_t> old = writeEngine(r, kInt8DirectFormatVersion - 1);
  try {
    readEngine(old.data(), old.size());
    check(false, "a version-9 blob with an igemm tactic on a direct int8 convolution is refused (it loaded)");
  } catch (const Error& e) {
    const std::string m = e.what();
    check(std::string(e.code()) == kErrEngineFormat && m.find("'c'") != std::string::npos && m.find("rebuild") != std::string::npos,
          "a version-9 blob with an igemm tactic on a direct int8 convolution is refused: " + m);
  }
}

int main() {
  try {
    testRoundTrip();
    testInt8DirectInOlderBlobs();
    testSplitK();
    testPreviousVersionRefused();
    testOlderVersionsLoad();
    testResidualScale();
  } catch (const std::exception& e) {
    check(false, std::string("threw: ") + e.what());
  }
  std::printf("\n%d passed, %d failed\n", passes, failures);
  return failures == 0 ? 0 : 1;
}
