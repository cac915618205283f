// Tests ops/activation: y = act(x + bias[c]) for silu, sigmoid and relu, float32 and float16, with
// and without bias, vectorised and scalar paths (odd spatial sizes, misaligned pointers), in place.
#include <cmath>

#include "cuda/ops/activation.cuh"
#include "ops_test_util.h"

namespace ops_test {
namespace {

using netdef::cuda::ops::ActivationParams;
using netdef::ir::Activation;

constexpr uint32_t kSeed = 1001;

enum class Placement { Separate, InPlace, Misaligned };

double activate(Activation op, double v) {
  switch (op) {
    case Activation::Silu: return v / (1.0 + std::exp(-v));
    case Activation::Sigmoid: return 1.0 / (1.0 + std::exp(-v));
    case Activation::Relu: return v > 0 ? v : 0.0;
  }
  return NAN;
}

const char* actName(Activation op) {
  return op == Activation::Silu ? "silu" : op == Activation::Sigmoid ? "sigmoid" : "relu";
}

void runCaseFor(Rng& rng, DType t, Activation op, int64_t n, int64_t c, int64_t hw, bool withBias, Placement place) {
  const std::string name = std::string("activation ") + actName(op) + " " + typeName(t) + " " + shapeName({n, c, hw}) +
                           (withBias ? " bias" : "") +
                           (place == Placement::InPlace ? " in-place" : place == Placement::Misaligned ? " misaligned" : "");
  runCase(name, [&] {
    const int64_t count = n * c * hw;
    const size_t offset = place == Placement::Misaligned ? 1 : 0;  // elements: breaks 16-byte alignment
    const std::vector<float> x = representable(rng.uniform(count, -6.0f, 6.0f), t);
    const std::vector<float> bias = representable(rng.uniform(c, -1.0f, 1.0f), t);
    DeviceBuffer dx((count + offset) * sizeOf(t)), dy((count + offset) * sizeOf(t)), db(encode(bias, t));
    std::vector<uint8_t> xBytes(offset * sizeOf(t), 0), encoded = encode(x, t);
    xBytes.insert(xBytes.end(), encoded.begin(), encoded.end());
    dx.upload(xBytes);
    dy.poison();
    ActivationParams p;
    p.op = op;
    p.dtype = t;
    p.x = static_cast<uint8_t*>(dx.get()) + offset * sizeOf(t);
    p.y = place == Placement::InPlace ? dx.get() : static_cast<uint8_t*>(dy.get()) + offset * sizeOf(t);
    p.bias = withBias ? db.get() : nullptr;
    p.batch = n;
    p.channels = c;
    p.spatial = hw;
    netdef::cuda::ops::launchActivation(p, nullptr);
    syncDevice();
    std::vector<uint8_t> out = (place == Placement::InPlace ? dx : dy).download();
    out.erase(out.begin(), out.begin() + offset * sizeOf(t));
    std::vector<double> ref(count);
    for (int64_t i = 0; i < count; ++i) {
      const float v = withBias ? x[i] + bias[(i / hw) % c] : x[i];  // the kernel's float32 add
      ref[i] = activate(op, v);
    }
    checkClose(name, decode(out, t), ref, rtolFor(t), atolFor(t));
  });
}

}  // namespace

void testActivation() {
  Rng rng(kSeed);
  const int64_t shapes[][3] = {{1, 16, 64}, {2, 3, 35}, {3, 5, 17}, {2, 64, 400}, {1, 1, 1001}};
  for (DType t : {DType::Float32, DType::Float16})
    for (Activation op : {Activation::Silu, Activation::Sigmoid, Activation::Relu})
      for (const auto& s : shapes)
        for (bool bias : {true, false}) runCaseFor(rng, t, op, s[0], s[1], s[2], bias, Placement::Separate);
  for (DType t : {DType::Float32, DType::Float16}) {
    runCaseFor(rng, t, Activation::Silu, 2, 8, 40, true, Placement::InPlace);
    runCaseFor(rng, t, Activation::Silu, 2, 8, 40, true, Placement::Misaligned);
    runCaseFor(rng, t, Activation::Sigmoid, 1, 1, 999, false, Placement::Misaligned);
  }
  expectError("activation rejects int8", netdef::kErrInvalidArgument, [] {
    ActivationParams p;
    p.dtype = DType::Int8;
    netdef::cuda::ops::launchActivation(p, nullptr);
  });
}

}  // namespace ops_test
