// Tests ops/cast bit for bit: float32 -> float16 (against the host's __float2half_rn, with ties,
// overflow to inf and subnormals among the inputs), float16 -> float32, same-dtype copies; vector
// and scalar paths (odd counts, misaligned pointers); uint8 -> float32/float16 (image bytes, exact).
#include "cuda/ops/cast.cuh"
#include "ops_test_util.h"

namespace ops_test {
namespace {

using netdef::cuda::ops::CastParams;

constexpr uint32_t kSeed = 1007;

// Values that exercise rounding: ties to even (1 + 2^-11, 1 + 3*2^-11), overflow, subnormals.
const float kSpecialValues[] = {1.00048828125f, 1.00146484375f, -2.0009765625f, 65519.0f, 65520.0f, 70000.0f,
                                -1e5f,          1e-6f,          -3e-7f,         6.1e-5f,  0.333333f};

void runCaseFor(Rng& rng, DType from, DType to, int64_t count, int64_t offset) {
  const std::string name = std::string("cast ") + netdef::cuda::ops::dtypeLabel(from) + " -> " +
                           netdef::cuda::ops::dtypeLabel(to) + " n=" + std::to_string(count) +
                           (offset ? " misaligned" : "");
  runCase(name, [&] {
    const bool bytes = from == DType::UInt8;
    std::vector<float> values = bytes ? rng.uniform(count, 0.0f, 255.0f) : rng.uniform(count, -100.0f, 100.0f);
    for (size_t i = 0; !bytes && i < std::size(kSpecialValues) && i < values.size(); ++i) values[i * 7 % values.size()] = kSpecialValues[i];
    const std::vector<uint8_t> x = encode(values, from);
    const std::vector<uint8_t> ref = encode(decode(x, from), to);  // host conversion of what the device reads
    const size_t inBytes = sizeOf(from), outBytes = sizeOf(to);
    DeviceBuffer dx((count + offset) * inBytes), dy((count + offset) * outBytes);
    std::vector<uint8_t> padded(offset * inBytes, 0);
    padded.insert(padded.end(), x.begin(), x.end());
    dx.upload(padded);
    dy.poison();
    CastParams p;
    p.from = from;
    p.to = to;
    p.x = dx.as<uint8_t>(offset * inBytes);
    p.y = dy.as<uint8_t>(offset * outBytes);
    p.count = count;
    netdef::cuda::ops::launchCast(p, nullptr);
    syncDevice();
    std::vector<uint8_t> got = dy.download();
    got.erase(got.begin(), got.begin() + offset * outBytes);
    checkBytes(name, got, ref);
  });
}

}  // namespace

void testCast() {
  Rng rng(kSeed);
  const std::pair<DType, DType> pairs[] = {{DType::Float32, DType::Float16},
                                           {DType::Float16, DType::Float32},
                                           {DType::Float32, DType::Float32},
                                           {DType::Float16, DType::Float16},
                                           {DType::UInt8, DType::Float32},
                                           {DType::UInt8, DType::Float16}};
  for (const auto& [from, to] : pairs)
    for (int64_t count : {4096, 1001, 3})
      for (int64_t offset : {0, 1}) runCaseFor(rng, from, to, count, offset);
  expectError("cast rejects int8 -> float16", netdef::kErrInvalidArgument, [] {
    CastParams p;
    p.from = DType::Int8;
    p.count = 1;
    netdef::cuda::ops::launchCast(p, nullptr);
  });
}

}  // namespace ops_test
