// Refit of a built CUDA engine (CudaEngine::refit), on the C2f-like chain: an engine built from
// weights A and refitted with weights B computes the chain with B (against the CPU reference), in
// fp32 row-major and in fp16 channels-last (filters reordered to KRSC), with B given as float32 so
// the fp16 engine converts them as a build does; refitting back to A gives A's outputs bit for bit
// (same tactics, same graphs: nothing but the weight bytes changed); a refitted engine serializes
// with its new weights; refusals (wrong count, unknown name, int8 into float) change nothing.
#include "engine_test_chain.h"

namespace engine_test {
namespace {

using namespace netdef;
using namespace netdef::cuda;

// Owned float32 copies of a chain's weights, as the Params refit takes.
struct ChainParams {
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<ir::Param> params;
};

ir::Param paramOf(const std::string& name, const std::vector<uint8_t>& bytes, DType t) {
  return ir::Param{name, t, {static_cast<int64_t>(bytes.size() / ir::bytesOf(t))}, bytes.data(), bytes.size()};
}

ChainParams chainParams(const ChainModel& m) {
  ChainParams p;
  const std::vector<std::string>& names = chainConvNames();
  for (size_t i = 0; i < names.size(); ++i) {
    p.bytes.push_back(ops_test::encode(m.w[i], DType::Float32));
    p.bytes.push_back(ops_test::encode(m.b[i], DType::Float32));
  }
  p.bytes.push_back(ops_test::encode(m.k, DType::Float32));
  for (size_t i = 0; i < names.size(); ++i) {
    p.params.push_back(paramOf(names[i] + ".w", p.bytes[2 * i], DType::Float32));
    p.params.push_back(paramOf(names[i] + ".b", p.bytes[2 * i + 1], DType::Float32));
  }
  p.params.push_back(paramOf("k", p.bytes.back(), DType::Float32));
  return p;
}

std::vector<uint8_t> allOutputs(Engine& e, const std::vector<uint8_t>& x, int64_t batch) {
  auto out = e.run({{"x", x}}, batch);
  std::vector<uint8_t> all;
  for (const char* name : {"y", "t", "q"}) all.insert(all.end(), out.at(name).data.begin(), out.at(name).data.end());
  return all;
}

void checkAgainstReference(Engine& e, const ChainModel& m, const std::vector<float>& x, int64_t batch, const std::string& label) {
  auto out = e.run({{"x", ops_test::encode(x, m.t)}}, batch);
  const ChainOutputs ref = chainRef(m, x, batch);
  const double tol = m.t == DType::Float16 ? kFp16ChainTol : kFp32ChainTol;
  checkNorm(label + ": y", ops_test::decode(out.at("y").data, out.at("y").dtype), ref.y, tol);
  checkNorm(label + ": t", ops_test::decode(out.at("t").data, out.at("t").dtype), ref.t, tol);
}

void testRefitCase(DType t, LayoutMode mode) {
  const std::string label = std::string("refit chain ") + ops_test::typeName(t) + " " + layoutModeName(mode);
  std::snprintf(crashContext(), 256, "%s", label.c_str());
  ops_test::runCase(label, [&] {
    ops_test::Rng rng(31);
    ChainModel a = makeChain(t, rng);
    ChainModel b = makeChain(t, rng);  // other weights, same shapes (and the same Q/DQ scales)
    auto e = buildChain(a, mode);
    constexpr int64_t kBatch = 3;
    const std::vector<float> xf = rng.uniform(kBatch * kChainC * kChainHW * kChainHW, -1.0f, 1.0f);
    const std::vector<uint8_t> x = ops_test::encode(xf, t);
    const std::vector<uint8_t> withA = allOutputs(*e, x, kBatch);

    const ChainParams pb = chainParams(b);
    e->refit(pb.params);
    checkAgainstReference(*e, b, xf, kBatch, label + ", refitted A -> B, against B's reference");
    checkAgainstReference(*e, b, std::vector<float>(xf.begin(), xf.begin() + xf.size() / kBatch), 1, label + ", refitted, batch 1");
    const std::vector<uint8_t> withB = allOutputs(*e, x, kBatch);
    ops_test::record(withB != withA, label + ": outputs changed by the refit", "");

    auto loaded = loadFromBlob(e->serialize(), 0);
    ops_test::checkBytes(label + ": the refitted engine serializes its new weights", allOutputs(*loaded, x, kBatch), withB);

    const ChainParams pa = chainParams(a);
    e->refit(pa.params);
    ops_test::checkBytes(label + ": refitted back to A, A's outputs bit for bit", allOutputs(*e, x, kBatch), withA);

    ChainParams bad = chainParams(b);
    bad.params[0].bytes -= ir::bytesOf(DType::Float32);  // one value short
    bad.params.push_back(paramOf("not.a.weight", bad.bytes.back(), DType::Float32));
    const std::vector<uint8_t> int8(bad.params[1].bytes / ir::bytesOf(DType::Float32), 1);
    bad.params[1] = paramOf(bad.params[1].name, int8, DType::Int8);
    ops_test::expectError(label + ": refit with a short weight, an unknown name and int8 values refused", kErrWeightsMismatch,
                          [&] { e->refit(bad.params); });
    ops_test::checkBytes(label + ": a refused refit changes nothing", allOutputs(*e, x, kBatch), withA);
  });
}

}  // namespace

void testRefit() {
  testRefitCase(DType::Float32, LayoutMode::kRowMajor);
  testRefitCase(DType::Float16, LayoutMode::kChannelsLastHalf);
}

}  // namespace engine_test
