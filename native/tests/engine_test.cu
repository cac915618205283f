// CUDA engine tests (GPU machine): networks built through INetwork (CudaNetwork), run by the
// engine at batch 1 and 3, compared with CPU references in double. This file: conv+bias+SiLU in
// fp32 (tolerance 1e-4 of sum|w x|: CUDNN_FMA_MATH, no TF32) and fp16 (5e-3), row-major and
// channels-last, every candidate cuDNN tactic of a layer (through a serialize/patch/load round
// trip); the buffer plan, serialization and its refusals, input errors, out of memory,
// concurrent runs, layers()/profile(). The C2f-like chain is in engine_test_chain.cu, refit in
// engine_test_refit.cu.
//
// Build and run standalone on the GPU machine: native/tests/engine_test.sh [--bench|--bench-only]
// [n|x]. In netdef_native_tests these files are compiled too, but run only once that executable's
// main (ops_main.cu) calls engine_test::runEngineTests().
#include <algorithm>
#include <cmath>
#include <thread>

#include "cuda/build_stats.h"
#include "cuda/byte_io.h"
#include "cuda/engine_build.h"
#include "cuda/fused_conv_graph.h"
#include "engine_test_chain.h"
#include "engine_test_util.h"

namespace engine_test {
namespace {

using namespace netdef;
using namespace netdef::cuda;

constexpr double kFp32ConvTol = 1e-4;   // relative to sum |w x| + |b| (Winograd/FFT may be chosen)
constexpr double kFp16ConvTol = 5e-3;
constexpr int64_t kBatches[] = {1, 3};
constexpr int kThreadRuns = 10;
constexpr int kProfileIterations = 5;
constexpr int64_t kHugeBatch = 1 << 16;

std::vector<float> runOne(CudaEngine& e, const std::string& input, const std::vector<float>& x, DType t, int64_t batch,
                          const std::string& output = "y") {
  auto out = e.run({{input, ops_test::encode(x, t)}}, batch);
  const HostOutput& y = out.at(output);
  return ops_test::decode(y.data, y.dtype);
}

// ---------------------------------------------------------------- single convolutions
struct ConvCase {
  const char* name;
  ConvSpec spec;
  int64_t h, w;
};

const ConvCase kConvCases[] = {
    {"3x3 s1 16->32 bias silu", {16, 32, 3, 1, 1, 1, true, true}, 20, 20},
    {"3x3 s2 3->16 bias silu (first layer)", {3, 16, 3, 2, 1, 1, true, true}, 23, 23},
    {"1x1 32->64 bias, no activation", {32, 64, 1, 1, 0, 1, true, false}, 9, 11},
    {"3x3 grouped 16->16 g4 silu", {16, 16, 3, 1, 1, 4, true, true}, 10, 10},
    // Few output tiles and 9 reduction steps: the igemm candidates include split-K.
    {"3x3 s1 64->48 bias silu (split-K)", {64, 48, 3, 1, 1, 1, true, true}, 7, 9},
};

struct ConvWeights {
  std::vector<float> w, b;
  std::vector<uint8_t> wBytes, bBytes;
};

std::unique_ptr<CudaEngine> buildConv(const ConvCase& c, DType t, LayoutMode mode, const ConvWeights& cw) {
  CudaNetwork net;
  ITensor* x = net.addInput("x", t, Dims{{ir::kBatch, c.spec.inC, c.h, c.w}});
  ILayer* conv = net.addConvolution(*x, c.spec.outC, convParams(c.spec.k, c.spec.stride, c.spec.pad, c.spec.groups),
                                    weights("w", t, cw.wBytes), c.spec.bias ? weights("b", t, cw.bBytes) : Weights{});
  conv->setName("conv");
  ITensor* y = conv->output(0);
  if (c.spec.silu) {
    ILayer* act = net.addActivation(*y, ActivationType::Silu);
    act->setName("conv/activation");
    y = act->output(0);
  }
  net.markOutput(*y, "y");
  return buildFromNetwork(net, smallBatches(), {}, &mode);
}

void checkConv(CudaEngine& e, const ConvCase& c, DType t, const ConvWeights& cw, ops_test::Rng& rng, const std::string& label,
               int64_t onlyBatch = 0) {
  const double tol = t == DType::Float16 ? kFp16ConvTol : kFp32ConvTol;
  for (int64_t batch : kBatches) {
    if (onlyBatch && batch != onlyBatch) continue;
    const Shape4 s{batch, c.spec.inC, c.h, c.w};
    const std::vector<float> x = rng.uniform(s.count(), -kInputRange, kInputRange);
    Shape4 out{};
    std::vector<double> magnitude;
    const Tensor4 ref = convRef(held(x, t), s, held(cw.w, t), held(cw.b, t), c.spec, out, &magnitude);
    ops_test::checkClose(label + " batch " + std::to_string(batch), runOne(e, "x", x, t, batch), ref, tol, 0, &magnitude);
  }
}

size_t firstConvOp(const Program& p) {
  for (size_t i = 0; i < p.ops.size(); ++i)
    if (std::holds_alternative<ConvAttrs>(p.ops[i].attrs) && p.ops[i].fusedInto < 0) return i;
  return 0;
}

// Every tactic cuDNN offers for the layer, each restored into a fresh engine from a patched blob.
void sweepTactics(CudaEngine& e, const ConvCase& c, DType t, const ConvWeights& cw, ops_test::Rng& rng, const std::string& label) {
  const size_t op = firstConvOp(e.program());
  ExecContext ctx = e.context();
  DeviceBuffer workspace(kMaxWorkspaceBytes, "test workspace");
  ctx.workspace = workspace.get();
  ctx.workspaceBytes = workspace.size();
  const auto options = smallBatches();
  TuneOptions sweep;
  sweep.exhaustive = true;
  sweep.halfIgemm = true;  // every tactic the layer has, the igemm tiles among them
  const std::vector<ConvTactic> candidates =
      e.convolution(op)->tune(ctx.cudnn, ctx.stream, convBuffers(ctx, op), options.optBatch, options.maxBatch, sweep);
  const std::vector<uint8_t> blob = e.serialize();
  for (const ConvTactic& tactic : candidates) {
    EngineRecord r = readEngine(blob.data(), blob.size());
    for (OpTactic& ot : r.tactics)
      if (ot.op == static_cast<int32_t>(op)) ot.tactic = tactic;
    auto loaded = loadFromBlob(writeEngine(r), 0);
    char name[200];
    if (tactic.kind == ConvTactic::Kind::kDirect) {
      std::snprintf(name, sizeof name, "%s tactic netdef direct_conv (%.4f ms)", label.c_str(), tactic.timeMs);
    } else if (tactic.kind == ConvTactic::Kind::kIgemm) {
      std::snprintf(name, sizeof name, "%s tactic netdef igemm_conv %s split-k %d (%.4f ms)", label.c_str(),
                    igemm::igemmTileName(static_cast<igemm::IgemmTile>(tactic.algo)), tactic.splits, tactic.timeMs);
    } else if (tactic.kind == ConvTactic::Kind::kCudnnFused) {
      std::snprintf(name, sizeof name, "%s tactic cudnn graph engine %lld (%.4f ms)", label.c_str(), static_cast<long long>(tactic.engine),
                    tactic.timeMs);
    } else {
      std::snprintf(name, sizeof name, "%s tactic %s (math %d, %.4f ms)", label.c_str(), cudnnAlgoName(tactic.algo), tactic.mathType,
                    tactic.timeMs);
    }
    checkConv(*loaded, c, t, cw, rng, name, 3);
  }
}

void testConvolutions() {
  ops_test::Rng rng(7);
  for (DType t : {DType::Float32, DType::Float16}) {
    for (LayoutMode mode : {LayoutMode::kRowMajor, LayoutMode::kChannelsLastHalf}) {
      if (t == DType::Float32 && mode == LayoutMode::kChannelsLastHalf) continue;
      for (const ConvCase& c : kConvCases) {
        const std::string label = std::string("conv ") + ops_test::typeName(t) + " " + layoutModeName(mode) + " " + c.name;
        std::snprintf(crashContext(), 256, "%s", label.c_str());
        ops_test::runCase(label, [&] {
          ConvWeights cw;
          const int64_t fanIn = c.spec.inC / c.spec.groups * c.spec.k * c.spec.k;
          cw.w = heWeights(rng, c.spec.outC * fanIn, fanIn);
          cw.b = rng.uniform(c.spec.outC, -0.5f, 0.5f);
          cw.wBytes = ops_test::encode(cw.w, t);
          cw.bBytes = ops_test::encode(cw.b, t);
          auto e = buildConv(c, t, mode, cw);
          std::printf("      kernel: %s\n", e->layers()[firstConvOp(e->program())].kernel.c_str());
          checkConv(*e, c, t, cw, rng, label);
          // The first layer (3 channels) also has the direct kernel among its candidates, and float16
          // channels-last layers with 8k input channels the igemm tiles.
          const bool igemmCandidates = t == DType::Float16 && mode == LayoutMode::kChannelsLastHalf && c.spec.groups == 1 && c.spec.inC % 8 == 0;
          if (&c == &kConvCases[0] || &c == &kConvCases[1] || igemmCandidates) sweepTactics(*e, c, t, cw, rng, label);
        });
      }
    }
  }
}

// The stem as a float16 network has it: float32 input -> Cast float16 -> 3x3/2 conv 3 -> 16 + SiLU.
// The Cast is folded into the direct convolution, which reads the float32 input unrounded and, in
// channels-last mode, writes NHWC; the result matches a CPU convolution of the float32 input with
// the float16 weights.
void testStemWithCast() {
  ops_test::Rng rng(11);
  const ConvCase& c = kConvCases[1];
  for (LayoutMode mode : {LayoutMode::kRowMajor, LayoutMode::kChannelsLastHalf}) {
    const std::string label = std::string("stem with its Cast folded, ") + layoutModeName(mode);
    ops_test::runCase(label, [&] {
      const int64_t fanIn = c.spec.inC * c.spec.k * c.spec.k;
      const std::vector<float> w = heWeights(rng, c.spec.outC * fanIn, fanIn), b = rng.uniform(c.spec.outC, -0.5f, 0.5f);
      const std::vector<uint8_t> wBytes = ops_test::encode(w, DType::Float16), bBytes = ops_test::encode(b, DType::Float16);
      CudaNetwork net;
      ITensor* x = net.addInput("x", DType::Float32, Dims{{ir::kBatch, c.spec.inC, c.h, c.w}});
      ILayer* cast = net.addCast(*x, DType::Float16);
      cast->setName("x/Cast");
      ILayer* conv = net.addConvolution(*cast->output(0), c.spec.outC, convParams(c.spec.k, c.spec.stride, c.spec.pad, 1),
                                        weights("w", DType::Float16, wBytes), weights("b", DType::Float16, bBytes));
      conv->setName("conv");
      ILayer* act = net.addActivation(*conv->output(0), ActivationType::Silu);
      act->setName("conv/activation");
      net.markOutput(*act->output(0), "y");
      auto e = buildFromNetwork(net, smallBatches(), {}, &mode);
      const std::vector<LayerInfo> layers = e->layers();
      const auto kernelOf = [&](const std::string& n) {
        for (const LayerInfo& l : layers)
          if (l.name == n) return l.kernel;
        return "(no layer " + n + ")";
      };
      ops_test::record(kernelOf("x/Cast") == "fused into conv" && kernelOf("conv").find("netdef:direct_conv(nchw->") == 0,
                       label + ": the Cast runs nothing, the direct kernel reads the input", kernelOf("conv"));
      for (int64_t batch : kBatches) {
        const Shape4 s{batch, c.spec.inC, c.h, c.w};
        const std::vector<float> in = rng.uniform(s.count(), -kInputRange, kInputRange);
        Shape4 out{};
        std::vector<double> magnitude;
        const Tensor4 ref = convRef(toDouble(in), s, held(w, DType::Float16), held(b, DType::Float16), c.spec, out, &magnitude);
        ops_test::checkClose(label + " batch " + std::to_string(batch), runOne(*e, "x", in, DType::Float32, batch), ref, kFp16ConvTol, 0,
                             &magnitude);
      }
    });
  }
}

// A direct convolution reading an NHWC tensor (float16, channels-last): 1x1 16 -> 8 (tensor cores,
// NHWC) then 2x2 8 -> 4 (fewer than 8 output channels: the direct kernel, NHWC in, NCHW out). Its
// filter must stay KCRS (the engine uploads KRSC copies only for the convolutions cuDNN runs NHWC).
void testDirectAfterNhwc() {
  ops_test::Rng rng(13);
  const ConvSpec first{16, 8, 1, 1, 0, 1, true, true}, second{8, 4, 2, 1, 0, 1, true, true};
  constexpr int64_t kHW = 9;
  const std::string label = "direct convolution after an NHWC one, channels-last fp16";
  ops_test::runCase(label, [&] {
    const DType t = DType::Float16;
    const std::vector<float> w1 = heWeights(rng, first.outC * first.inC, first.inC), b1 = rng.uniform(first.outC, -0.5f, 0.5f);
    const int64_t fan2 = second.inC * second.k * second.k;
    const std::vector<float> w2 = heWeights(rng, second.outC * fan2, fan2), b2 = rng.uniform(second.outC, -0.5f, 0.5f);
    const std::vector<uint8_t> w1b = ops_test::encode(w1, t), b1b = ops_test::encode(b1, t), w2b = ops_test::encode(w2, t), b2b = ops_test::encode(b2, t);
    CudaNetwork net;
    ITensor* x = net.addInput("x", t, Dims{{ir::kBatch, first.inC, kHW, kHW}});
    ITensor* y = x;
    int index = 0;
    for (const auto& [spec, wb, bb] : {std::tie(first, w1b, b1b), std::tie(second, w2b, b2b)}) {
      const std::string name = "conv" + std::to_string(index++);
      ILayer* conv = net.addConvolution(*y, spec.outC, convParams(spec.k, spec.stride, spec.pad, 1), weights(name + ".w", t, wb),
                                        weights(name + ".b", t, bb));
      conv->setName(name);
      ILayer* act = net.addActivation(*conv->output(0), ActivationType::Silu);
      act->setName(name + "/activation");
      y = act->output(0);
    }
    net.markOutput(*y, "y");
    const LayoutMode mode = LayoutMode::kChannelsLastHalf;
    auto e = buildFromNetwork(net, smallBatches(), {}, &mode);
    std::string kernel = "(no layer conv1)";
    for (const LayerInfo& l : e->layers())
      if (l.name == "conv1") kernel = l.kernel;
    ops_test::record(kernel.find("netdef:direct_conv(nhwc->nchw") == 0, label + ": conv1 runs on the direct kernel from NHWC", kernel);
    for (int64_t batch : kBatches) {
      const Shape4 s{batch, first.inC, kHW, kHW};
      const std::vector<float> in = rng.uniform(s.count(), -kInputRange, kInputRange);
      Shape4 mid{}, out{};
      const Tensor4 hidden = convRef(held(in, t), s, held(w1, t), held(b1, t), first, mid);
      std::vector<float> hiddenF(hidden.begin(), hidden.end());
      std::vector<double> magnitude;
      const Tensor4 ref = convRef(held(hiddenF, t), mid, held(w2, t), held(b2, t), second, out, &magnitude);
      ops_test::checkClose(label + " batch " + std::to_string(batch), runOne(*e, "x", in, t, batch), ref, kFp16ConvTol, 0, &magnitude);
    }
  });
}

// ---------------------------------------------------------------- plan, files, errors, threads
void testBufferPlan() {
  // Five tensors of a straight chain with one long-lived skip: 0 -> 1 -> 2 -> 3, 0 read again at 4.
  const std::vector<BufferRequest> r = {
      {1000, 0, 4, "t0"}, {2000, 1, 2, "t1"}, {2000, 2, 3, "t2"}, {500, 3, 4, "t3"}, {3000, 4, 5, "t4"}};
  const BufferPlan p = planBuffers(r);
  std::printf("%s", p.describe().c_str());
  ops_test::record(planIsValid(p) && p.totalBytes < p.requestedBytes, "buffer plan: no live overlap, memory reused",
                   std::to_string(p.totalBytes) + " B arena for " + std::to_string(p.requestedBytes) + " B");
}

std::vector<uint8_t> outputBytes(CudaEngine& e, const std::vector<uint8_t>& x, int64_t batch) {
  auto out = e.run({{"x", x}}, batch);
  std::vector<uint8_t> all = out.at("y").data;
  all.insert(all.end(), out.at("t").data.begin(), out.at("t").data.end());
  all.insert(all.end(), out.at("q").data.begin(), out.at("q").data.end());
  return all;
}

void testSerialization(CudaEngine& e, ops_test::Rng& rng) {
  const std::vector<uint8_t> x = ops_test::encode(rng.uniform(3 * kChainC * kChainHW * kChainHW, -kInputRange, kInputRange), DType::Float16);
  const std::vector<uint8_t> blob = e.serialize();
  std::printf("      blob %zu bytes, device memory %llu bytes\n", blob.size(), static_cast<unsigned long long>(e.deviceMemoryBytes()));
  ops_test::runCase("serialize/load round trip", [&] {
    auto loaded = loadFromBlob(blob, 0);
    // Before it runs: a run at a batch not made yet adds that batch's fused plan text (kept for
    // the next load), so the engine written afterwards rightly differs.
    ops_test::checkBytes("serialize twice: identical blobs", loaded->serialize(), blob);
    ops_test::checkBytes("serialize/load round trip: identical outputs", outputBytes(*loaded, x, 3), outputBytes(e, x, 3));
  });
  ops_test::expectError("load truncated blob", kErrEngineFormat, [&] {
    loadFromBlob(std::vector<uint8_t>(blob.begin(), blob.begin() + blob.size() / 2), 0);
  });
  ops_test::expectError("load bit-flipped blob", kErrEngineFormat, [&] {
    std::vector<uint8_t> b = blob;
    b[b.size() / 2] ^= 0x40;
    loadFromBlob(b, 0);
  });
  ops_test::expectError("load blob with bad magic", kErrEngineFormat, [&] {
    std::vector<uint8_t> b = blob;
    b[0] = 'X';
    loadFromBlob(b, 0);
  });
  ops_test::expectError("load empty blob", kErrEngineFormat, [&] { loadFromBlob({}, 0); });
  ops_test::expectError("load blob built for another GPU", kErrEngineFormat, [&] {
    EngineRecord r = readEngine(blob.data(), blob.size());
    r.smMajor += 1;
    loadFromBlob(writeEngine(r), 0);
  });
}

void testInputErrors(CudaEngine& e) {
  const std::vector<uint8_t> one = ops_test::encode(std::vector<float>(kChainC * kChainHW * kChainHW, 1.0f), DType::Float16);
  ops_test::expectError("run: wrong input size", kErrInvalidArgument, [&] { e.run({{"x", one}}, 2); });
  ops_test::expectError("run: batch above max", kErrInvalidArgument, [&] { e.run({{"x", one}}, 4); });
  ops_test::expectError("run: batch 0", kErrInvalidArgument, [&] { e.run({{"x", {}}}, 0); });
  ops_test::expectError("run: missing input", kErrInvalidArgument, [&] { e.run({{"z", one}}, 1); });
  ops_test::expectError("run: extra input", kErrInvalidArgument, [&] { e.run({{"x", one}, {"z", one}}, 1); });
}

// A fused cuDNN plan saved as cuDNN's JSON and restored (FusedConvPlan::json): the restored plan
// runs the same engine and writes the same bytes. How long making and restoring took is printed
// (whether restoring skips cuDNN's runtime compilation decides whether engines and the timing
// cache should keep plans as JSON; not asserted: timings never go in tests).
void testFusedPlanJson() {
  const std::string label = "fused cuDNN plan through its JSON";
  ops_test::runCase(label, [&] {
    ops_test::Rng rng(31);
    const DType t = DType::Float16;
    const ConvCase& c = kConvCases[0];
    ConvWeights cw;
    const int64_t fanIn = c.spec.inC * c.spec.k * c.spec.k;
    cw.w = heWeights(rng, c.spec.outC * fanIn, fanIn);
    cw.b = rng.uniform(c.spec.outC, -0.5f, 0.5f);
    cw.wBytes = ops_test::encode(cw.w, t);
    cw.bBytes = ops_test::encode(cw.b, t);
    auto e = buildConv(c, t, LayoutMode::kChannelsLastHalf, cw);
    constexpr int64_t kBatch = 1;
    runOne(*e, "x", rng.uniform(c.spec.inC * c.h * c.w, -kInputRange, kInputRange), t, kBatch);  // x now lies in the arena
    const size_t op = firstConvOp(e->program());
    const ConvGeometry& g = e->convolution(op)->geometry();
    if (!FusedConvPlan::applies(g)) {
      ops_test::record(false, label + ": the layer has a fused form", geometryKey(g));
      return;
    }
    ExecContext ctx = e->context();
    DeviceBuffer workspace(kMaxWorkspaceBytes, "test workspace");
    ConvBuffers b = convBuffers(ctx, op);
    b.workspace = workspace.get();
    b.workspaceBytes = workspace.size();
    const StopWatch made;
    const FusedConvPlan fresh(ctx.cudnn, g, kBatch, -1);
    const double madeMs = made.ms();
    const std::string json = fresh.json();
    ops_test::record(!json.empty(), label + ": the plan serializes", std::to_string(json.size()) + " bytes");
    if (json.empty()) return;
    const StopWatch restoredWatch;
    const FusedConvPlan restored(ctx.cudnn, g, json);
    const double restoredMs = restoredWatch.ms();
    std::printf("      plan of engine %lld made in %.1f ms; restored from %zu bytes of JSON in %.1f ms\n", static_cast<long long>(fresh.engine()),
                madeMs, json.size(), restoredMs);
    ops_test::record(restored.engine() == fresh.engine(), label + ": the same engine",
                     std::to_string(restored.engine()) + " vs " + std::to_string(fresh.engine()));
    const size_t yBytes = static_cast<size_t>(c.spec.outC * c.h * c.w) * 2;  // one float16 sample, dense NHWC
    std::vector<uint8_t> a(yBytes), r(yBytes);
    fresh.execute(ctx.stream, b);
    checkCuda(cudaMemcpyAsync(a.data(), b.y, yBytes, cudaMemcpyDeviceToHost, ctx.stream), "copy y");
    checkCuda(cudaMemsetAsync(b.y, 0xff, yBytes, ctx.stream), "poison y");
    restored.execute(ctx.stream, b);
    checkCuda(cudaMemcpyAsync(r.data(), b.y, yBytes, cudaMemcpyDeviceToHost, ctx.stream), "copy y");
    checkCuda(cudaStreamSynchronize(ctx.stream), "sync");
    ops_test::record(a == r, label + ": the restored plan writes the same bytes", "");
  });
}

void testOutOfMemory() {
  ops_test::expectError("build: out of device memory", kErrOutOfMemory, [&] {
    constexpr int64_t kChannels = 64, kSide = 1024;
    const std::vector<uint8_t> w = ops_test::encode(std::vector<float>(kChannels * kChannels, 0.01f), DType::Float32);
    CudaNetwork net;
    ITensor* x = net.addInput("x", DType::Float32, Dims{{ir::kBatch, kChannels, kSide, kSide}});
    ILayer* c = net.addConvolution(*x, kChannels, convParams(1, 1, 0, 1), weights("w", DType::Float32, w), Weights{});
    net.markOutput(*c->output(0), "y");
    BuildOptions o;
    o.maxBatch = o.optBatch = kHugeBatch;
    const LayoutMode mode = LayoutMode::kRowMajor;
    buildFromNetwork(net, o, {}, &mode);
  });
}

void testThreads(CudaEngine& e, ops_test::Rng& rng) {
  ops_test::runCase("concurrent runs", [&] {
    std::vector<uint8_t> x[2];
    std::vector<uint8_t> want[2];
    const int64_t batch[2] = {1, 3};
    for (int i = 0; i < 2; ++i) {
      x[i] = ops_test::encode(rng.uniform(batch[i] * kChainC * kChainHW * kChainHW, -kInputRange, kInputRange), DType::Float16);
      want[i] = outputBytes(e, x[i], batch[i]);
    }
    bool same[2] = {true, true};
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([&, i] {
        for (int r = 0; r < kThreadRuns; ++r) same[i] = same[i] && outputBytes(e, x[i], batch[i]) == want[i];
      });
    }
    for (auto& th : threads) th.join();
    ops_test::record(same[0] && same[1], "concurrent runs: outputs equal the single-thread results", "");
  });
}

void testLayers(CudaEngine& e) {
  ops_test::runCase("profile and layers()", [&] {
    e.profile(3, kProfileIterations);
    bool fused = false, convTimed = true;
    double total = 0;
    const std::vector<LayerInfo> layers = e.layers();
    auto kindOf = [&](const std::string& name) {
      for (const LayerInfo& l : layers)
        if (l.name == name) return l.kind;
      return std::string();
    };
    const std::string kFusedPrefix = "fused into ";
    for (const LayerInfo& l : layers) {
      std::printf("      %-42s %-14s %-8s %8.4f ms  %s\n", l.name.c_str(), l.kind.c_str(), l.dtype.c_str(), l.timeMs, l.kernel.c_str());
      if (l.kernel.rfind(kFusedPrefix, 0) == 0) fused = kindOf(l.kernel.substr(kFusedPrefix.size())) == "Convolution";
      // cuDNN's, or netdef's igemm where float16 layers time it (unless NETDEF_CUDA_IGEMM_FP16=0).
      if (l.kind == "Convolution") {
        convTimed = convTimed && l.timeMs > 0 && (l.kernel.rfind("cudnn:", 0) == 0 || l.kernel.rfind("netdef:igemm_conv ", 0) == 0);
      }
      total += l.timeMs;
    }
    ops_test::record(fused && convTimed && total > 0, "layers(): activations fused into convolutions, convolutions timed",
                     "sum of layer times " + std::to_string(total) + " ms");
  });
}

}  // namespace

void runEngineTests() {
  const CudnnProbe probe = probeCudnn();
  ops_test::record(probe.ok, "cuDNN loaded", probe.ok ? "version " + cudnnVersionString(probe.version) : probe.reason);
  if (!probe.ok) return;
  testBufferPlan();
  testConvolutions();
  testStemWithCast();
  testDirectAfterNhwc();
  testChain();
  testViewChain();
  testRefit();
  testRunImages();
  testInt8Engine();
  testFusedPlanJson();
  ops_test::Rng rng(23);
  std::snprintf(crashContext(), 256, "engine-level tests");
  ops_test::runCase("engine-level tests", [&] {
    auto e = buildChain(makeChain(DType::Float16, rng), LayoutMode::kChannelsLastHalf);
    testSerialization(*e, rng);
    testInputErrors(*e);
    testThreads(*e, rng);
    testLayers(*e);
  });
  testOutOfMemory();
}

}  // namespace engine_test

#ifdef NETDEF_ENGINE_TEST_MAIN
#include <execinfo.h>
#include <signal.h>
#include <unistd.h>

namespace {
// Prints the stack of a crash (addresses resolve with addr2line against the binary).
void onCrash(int sig) {
  constexpr int kFrames = 64;
  void* frames[kFrames];
  const int n = backtrace(frames, kFrames);
  const char header[] = "\n*** crash; backtrace:\n";
  (void)!write(STDERR_FILENO, header, sizeof header - 1);
  (void)!write(STDERR_FILENO, engine_test::crashContext(), std::strlen(engine_test::crashContext()));
  (void)!write(STDERR_FILENO, "\n", 1);
  backtrace_symbols_fd(frames, n, STDERR_FILENO);
  signal(sig, SIG_DFL);
  raise(sig);
}
}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IONBF, 0);
  signal(SIGSEGV, onCrash);
  signal(SIGABRT, onCrash);
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode != "--bench-only") engine_test::runEngineTests();
  if (mode == "--bench" || mode == "--bench-only") engine_test::runYoloBench(argc > 2 ? argv[2] : "n");
  const ops_test::Tally& t = ops_test::tally();
  std::printf("\n%d passed, %d failed\n", t.passed, t.failed);
  return t.failed == 0 ? 0 : 1;
}
#endif
