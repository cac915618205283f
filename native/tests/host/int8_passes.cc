// Host-only test of the CUDA engine's build passes on an int8 network (no GPU: the passes are
// pure Program -> Program functions): CudaNetwork records the network, then the passes the builder
// runs (fuseConvolutionActivations, fuseResidualAdds, foldInt8Quantizes, assignLayouts in both
// modes, planChannelViews) are checked op by op:
//  - a residual add of an int8 convolution's SiLU output and a dequantized int8 tensor is folded
//    into the convolution with the int8 tensor as its residual (at the Dequantize's scale);
//  - a convolution whose SiLU'd output is read by one per-tensor Quantize writes that Quantize's int8
//    tensor at its scale, and the Quantize runs nothing;
//  - a convolution whose output is a network output, or is read by anything else, keeps its
//    float32 output (the kernel writes it), and no op is added;
//  - int8 convolutions that igemm runs read NHWC; the 3-channel stem runs on the direct kernel
//    (direct_conv_rule.h) with its input's Quantize folded in: it reads the float32 slice as it
//    lies, with no Reformat or padded copy;
//  - an input Quantize is not folded when its output is read elsewhere or its scale is not the
//    convolution's input scale, and a Cast before it is never folded into an int8 convolution;
//  - the C2f-shaped split/concat takes channel views: both convolutions write into the concat's
//    buffer, the split halves are views, the concat copies nothing;
//  - addConvolutionInt8 refuses a float input, float kernel, a non-positive kernel scale.
// Built and run by scripts/native-host-tests.sh (g++, CUDA headers only).
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"
#include "cuda/channel_views.h"
#include "cuda/cuda_network.h"
#include "cuda/direct_conv_rule.h"
#include "cuda/fuse_pass.h"
#include "cuda/int8_conv_pass.h"
#include "cuda/layout_pass.h"

namespace {

using namespace netdef;
using namespace netdef::cuda;

constexpr int64_t kC = 16, kHW = 12, kMid = 32, kHalf = 16, kOut = 32, kStemC = 3, kStemK = 16;
constexpr float kXScale = 1.0f / 64, kTScale = 1.0f / 16;

int failures = 0, passes = 0;

void check(bool ok, const std::string& what) {
  (ok ? passes : failures) += 1;
  std::printf("%s  %s\n", ok ? "PASS" : "FAIL", what.c_str());
}

void expectInvalid(const std::string& what, const std::function<void()>& f) {
  try {
    f();
    check(false, what + " (nothing thrown)");
  } catch (const Error& e) {
    check(std::string(e.code()) == kErrInvalidArgument, what + ": " + e.what());
  }
}

std::vector<uint8_t> floats(std::vector<float> v) {
  std::vector<uint8_t> b(v.size() * sizeof(float));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

struct ConvWeights {
  std::string name;
  int64_t inC, outC, k;
  std::vector<uint8_t> w, s, b;
  ConvWeights(std::string n, int64_t c, int64_t o, int64_t kk)
      : name(std::move(n)), inC(c), outC(o), k(kk), w(o * c * kk * kk, 1), s(floats(std::vector<float>(o, 0.01f))),
        b(floats(std::vector<float>(o, 0.5f))) {}
  Weights kernel() const { return Weights{name + ".w", DType::Int8, w.data(), static_cast<int64_t>(w.size())}; }
  Weights scales() const { return Weights{name + ".w.scale", DType::Float32, s.data(), outC}; }
  Weights bias() const { return Weights{name + ".b", DType::Float32, b.data(), outC}; }
};

ConvolutionParams params(int64_t k, int64_t stride, int64_t pad) { return ConvolutionParams{{k, k}, {stride, stride}, {1, 1}, {pad, pad}, {pad, pad}, 1}; }

ITensor* conv(INetwork& net, ITensor* x, float scale, const ConvWeights& c, int64_t stride, int64_t pad, bool silu) {
  ILayer* l = net.addConvolutionInt8(*x, scale, c.outC, params(c.k, stride, pad), c.kernel(), c.scales(), c.bias());
  l->setName(c.name);
  if (!silu) return l->output(0);
  ILayer* a = net.addActivation(*l->output(0), ActivationType::Silu);
  a->setName(c.name + "/act");
  return a->output(0);
}

ITensor* quantize(INetwork& net, ITensor* x, ITensor* s, const std::string& name) {
  ILayer* q = net.addQuantize(*x, *s, 0, DType::Int8);
  q->setName(name);
  return q->output(0);
}

ITensor* slice(INetwork& net, ITensor* x, int64_t c0, int64_t n, const std::string& name) {
  ILayer* s = net.addSlice(*x, Dims{{0, c0, 0, 0}}, Dims{{ir::kBatch, n, kHW, kHW}}, Dims{{1, 1, 1, 1}});
  s->setName(name);
  return s->output(0);
}

// The network of native/tests/engine_test_int8.cu.
Program record() {
  static const ConvWeights c1("c1", kC, kMid, 3), c2("c2", kHalf, kHalf, 3), c3("c3", kMid + kHalf, kOut, 1), c4("c4", kStemC, kStemK, 3);
  static const std::vector<uint8_t> xs = floats({kXScale}), ts = floats({kTScale});
  CudaNetwork net;
  ITensor* x = net.addInput("x", DType::Float32, Dims{{ir::kBatch, kC, kHW, kHW}});
  ILayer* xsl = net.addConstant(Dims{{1}}, Weights{"x.scale", DType::Float32, xs.data(), 1});
  xsl->setName("x.scale");
  ILayer* tsl = net.addConstant(Dims{{1}}, Weights{"t.scale", DType::Float32, ts.data(), 1});
  tsl->setName("t.scale");
  ITensor* t1 = quantize(net, conv(net, quantize(net, x, xsl->output(0), "x/Quantize"), kXScale, c1, 1, 1, true), tsl->output(0), "c1/Quantize");
  ITensor* a = slice(net, t1, 0, kHalf, "split/a");
  ITensor* b = slice(net, t1, kHalf, kHalf, "split/b");
  // m = Quantize(Dequantize(a) + SiLU(c2(b))): a residual add reading int8 data, as the int8 pass
  // places it in a Bottleneck (dsl/quantize/int8-regions.ts): the Dequantize recorded after c2,
  // just before the add, as the int8 pass emits it.
  ITensor* c2out = conv(net, b, kTScale, c2, 1, 1, true);
  ILayer* ra = net.addDequantize(*a, *tsl->output(0), 0, DType::Float32);
  ra->setName("add/Dequantize");
  ILayer* add = net.addElementWise(*ra->output(0), *c2out, ElementWiseOperation::Sum);
  add->setName("add");
  ITensor* m = quantize(net, add->output(0), tsl->output(0), "c2/Quantize");
  ILayer* cat = net.addConcatenation({a, b, m}, 1);
  cat->setName("concat");
  ILayer* pool = net.addPooling(*cat->output(0), PoolingParams{{3, 3}, {1, 1}, {1, 1}, {1, 1}}, PoolingType::Max);
  pool->setName("pool");
  ILayer* up = net.addResize(*pool->output(0), {1, 1, 2, 2});
  up->setName("up");
  net.markOutput(*conv(net, up->output(0), kTScale, c3, 2, 0, true), "y");
  ITensor* stem = quantize(net, slice(net, x, 0, kStemC, "stem/slice"), xsl->output(0), "stem/Quantize");
  net.markOutput(*conv(net, stem, kXScale, c4, 2, 1, false), "z");
  ILayer* dq = net.addDequantize(*cat->output(0), *tsl->output(0), 0, DType::Float32);
  dq->setName("cat/dequantize");
  net.markOutput(*dq->output(0), "cat");
  return net.take();
}

const OpDef* opNamed(const Program& p, const std::string& name) {
  for (const OpDef& op : p.ops)
    if (op.name == name) return &op;
  return nullptr;
}

int32_t indexOf(const Program& p, const std::string& name) {
  for (size_t i = 0; i < p.ops.size(); ++i)
    if (p.ops[i].name == name) return static_cast<int32_t>(i);
  return -1;
}

void checkLowered(const Program& p) {
  const OpDef* c1 = opNamed(p, "c1");
  const OpDef* q1 = opNamed(p, "c1/Quantize");
  check(c1 && q1 && q1->fusedInto == indexOf(p, "c1") && p.tensors[c1->outputs[0]].dtype == DType::Int8,
        "c1 writes int8: its lone Quantize reader is folded into it");
  check(c1 && std::get<ConvAttrs>(c1->attrs).outputScale == kTScale && std::get<ConvAttrs>(c1->attrs).activation == FusedActivation::kSilu,
        "c1 keeps its SiLU and takes the Quantize's scale");
  const OpDef* act1 = opNamed(p, "c1/act");
  check(act1 && act1->fusedInto == indexOf(p, "c1"), "c1's activation is fused into c1");
  check(opNamed(p, "c2/Quantize") && opNamed(p, "c2/Quantize")->fusedInto == indexOf(p, "c2"), "c2's Quantize folded too");
  const OpDef* c2 = opNamed(p, "c2");
  const OpDef* a = opNamed(p, "split/a");
  check(opNamed(p, "add") && opNamed(p, "add")->fusedInto == indexOf(p, "c2") && opNamed(p, "add/Dequantize") &&
            opNamed(p, "add/Dequantize")->fusedInto == indexOf(p, "c2"),
        "the residual add and its Dequantize are folded into c2");
  check(c2 && a && c2->inputs.size() == 2 && c2->inputs[1] == a->outputs[0] && std::get<ConvAttrs>(c2->attrs).residualScale == kTScale &&
            p.tensors[c2->outputs[0]].dtype == DType::Int8,
        "c2 reads split a as its int8 residual at its scale and writes int8");
  for (const char* name : {"c3", "c4"}) {
    const OpDef* c = opNamed(p, name);
    check(c && p.tensors[c->outputs[0]].dtype == DType::Float32 && std::get<ConvAttrs>(c->attrs).outputScale == 0,
          std::string(name) + " (a network output) writes its float32 output itself");
  }
  int casts = 0;
  for (const OpDef& op : p.ops) casts += std::holds_alternative<CastAttrs>(op.attrs) ? 1 : 0;
  check(casts == 0, "the pass adds no Cast");
  check(opNamed(p, "x/Quantize") && opNamed(p, "x/Quantize")->fusedInto < 0, "x/Quantize (read by c1, an igemm convolution) still runs");
  const OpDef* sq = opNamed(p, "stem/Quantize");
  const OpDef* c4 = opNamed(p, "c4");
  const OpDef* sl = opNamed(p, "stem/slice");
  check(sq && c4 && sl && sq->fusedInto == indexOf(p, "c4") && c4->inputs[0] == sl->outputs[0] && p.tensors[c4->inputs[0]].dtype == DType::Float32,
        "stem/Quantize is folded into c4 (a direct int8 convolution), which reads the float32 slice");
}

void checkLayout(const Program& p, LayoutMode mode) {
  const std::string m = std::string(" (") + layoutModeName(mode) + ")";
  bool nhwc = true;
  for (const OpDef& op : p.ops) {
    const auto* c = std::get_if<ConvAttrs>(&op.attrs);
    if (!c || !c->isInt8() || op.fusedInto >= 0 || runsDirect(p, op)) continue;
    for (int32_t t : op.inputs) nhwc = nhwc && p.tensors[t].layout == Layout::kNhwc;
    nhwc = nhwc && p.tensors[op.outputs[0]].layout == Layout::kNhwc;
  }
  check(nhwc, "every int8 convolution igemm runs reads (its residual too) and writes NHWC" + m);
  const OpDef* c4 = opNamed(p, "c4");
  const OpDef* sl = opNamed(p, "stem/slice");
  check(c4 && sl && runsDirect(p, *c4) && c4->inputs[0] == sl->outputs[0] && p.tensors[c4->inputs[0]].dims[1] == kStemC &&
            p.tensors[c4->inputs[0]].layout == Layout::kRowMajor,
        "c4 runs direct and reads the 3-channel float slice in NCHW, no Reformat or padded copy" + m);
  const ChannelViews v = planChannelViews(p);
  const int32_t cat = indexOf(p, "concat");
  int inPlace = 0;
  for (uint8_t b : v.concatInPlace.at(cat)) inPlace += b;
  check(inPlace == 3, "the concat's three inputs are in place (c1 and c2 write into its buffer)" + m);
  const OpDef* b = opNamed(p, "split/b");
  check(b && v.views[b->outputs[0]].root == p.ops[cat].outputs[0] && v.views[b->outputs[0]].offset == kHalf,
        "split b is a view of the concat's channels 16..32, which c2 reads" + m);
  const OpDef* a = opNamed(p, "split/a");
  check(a && v.views[a->outputs[0]].root == p.ops[cat].outputs[0] && v.views[a->outputs[0]].offset == 0,
        "split a is a view of the concat's channels 0..16, which c2 reads as its residual" + m);
}

// images (float32) -> [Cast float16] -> Quantize at kXScale -> int8 stem conv 3 -> 16 at `convScale`
// -> network output; `quantizedIsOutput`: the Quantize's output is a network output too; `next`:
// the stem's output is quantized (at kTScale) for an int8 1x1 convolution, whose output is the
// network's.
Program stemNetwork(bool cast, float convScale, bool quantizedIsOutput, bool next = false) {
  static const ConvWeights c("stem", kStemC, kStemK, 3), n("next", kStemK, kStemK, 1);
  static const std::vector<uint8_t> xs = floats({kXScale}), ts = floats({kTScale});
  CudaNetwork net;
  ITensor* x = net.addInput("images", DType::Float32, Dims{{ir::kBatch, kStemC, kHW, kHW}});
  if (cast) {
    ILayer* l = net.addCast(*x, DType::Float16);
    l->setName("images/Cast");
    x = l->output(0);
  }
  ILayer* s = net.addConstant(Dims{{1}}, Weights{"images.scale", DType::Float32, xs.data(), 1});
  s->setName("images.scale");
  ITensor* q = quantize(net, x, s->output(0), "images/Quantize");
  if (quantizedIsOutput) net.markOutput(*q, "q");
  ITensor* y = conv(net, q, convScale, c, 2, 1, true);
  if (next) {
    ILayer* t = net.addConstant(Dims{{1}}, Weights{"t.scale", DType::Float32, ts.data(), 1});
    t->setName("t.scale");
    y = conv(net, quantize(net, y, t->output(0), "stem/Quantize"), kTScale, n, 1, 0, true);
  }
  net.markOutput(*y, "y");
  return foldCastsIntoDirectConvolutions(foldInt8Quantizes(fuseConvolutionActivations(net.take())));
}

void checkInputQuantizeFolds() {
  const Program cast = stemNetwork(true, kXScale, false);
  const OpDef* q = opNamed(cast, "images/Quantize");
  const OpDef* c = opNamed(cast, "images/Cast");
  const OpDef* stem = opNamed(cast, "stem");
  check(q && q->fusedInto == indexOf(cast, "stem"), "the input Quantize is folded into the direct int8 stem");
  check(c && c->fusedInto < 0 && stem && stem->inputs[0] == c->outputs[0] && cast.tensors[stem->inputs[0]].dtype == DType::Float16,
        "the Cast before it still runs: the stem quantizes the float16 values the Quantize would have");
  const Program read = stemNetwork(false, kXScale, true);
  check(opNamed(read, "images/Quantize") && opNamed(read, "images/Quantize")->fusedInto < 0,
        "a Quantize whose output is a network output too still runs");
  const Program other = stemNetwork(false, 2 * kXScale, false);
  const OpDef* os = opNamed(other, "stem");
  check(opNamed(other, "images/Quantize") && opNamed(other, "images/Quantize")->fusedInto < 0 && os &&
            other.tensors[os->inputs[0]].dtype == DType::Int8,
        "a Quantize at another scale than the convolution's input scale still runs; the stem reads its int8 output");
  const Program laid = assignLayouts(other, LayoutMode::kRowMajor);
  const OpDef* ls = opNamed(laid, "stem");
  check(ls && runsDirect(laid, *ls) && laid.tensors[ls->inputs[0]].dims[1] == kStemC && laid.tensors[ls->inputs[0]].dtype == DType::Int8 &&
            laid.tensors[ls->outputs[0]].layout == Layout::kRowMajor,
        "that stem runs direct on the unpadded int8 input and writes its float32 network output NCHW");
  const Program chained = stemNetwork(false, kXScale, false, true);
  for (LayoutMode mode : {LayoutMode::kRowMajor, LayoutMode::kChannelsLastHalf}) {
    const Program l = assignLayouts(chained, mode);
    const OpDef* s = opNamed(l, "stem");
    const OpDef* n = opNamed(l, "next");
    check(s && n && runsDirect(l, *s) && l.tensors[s->inputs[0]].isInput && l.tensors[s->outputs[0]].dtype == DType::Int8 &&
              l.tensors[s->outputs[0]].layout == Layout::kNhwc && n->inputs[0] == s->outputs[0],
          std::string("all-int8's stem reads the network input and writes int8 NHWC, which the next convolution reads as it lies (") +
              layoutModeName(mode) + ")");
  }
}

void checkRefusals() {
  const std::vector<uint8_t> w(kC * kC, 1), s = floats(std::vector<float>(kC, 0.01f)), bad = floats(std::vector<float>(kC, 0.0f));
  const Weights kernel{"w", DType::Int8, w.data(), static_cast<int64_t>(w.size())};
  const Weights scales{"w.scale", DType::Float32, s.data(), kC};
  auto build = [&](DType input, const Weights& k, const Weights& sc) {
    CudaNetwork net;
    ITensor* x = net.addInput("x", input, Dims{{ir::kBatch, kC, kHW, kHW}});
    net.addConvolutionInt8(*x, kXScale, kC, params(1, 1, 0), k, sc, Weights{});
  };
  expectInvalid("addConvolutionInt8 refuses a float input", [&] { build(DType::Float32, kernel, scales); });
  expectInvalid("addConvolutionInt8 refuses a float kernel", [&] {
    build(DType::Int8, Weights{"w", DType::Float32, s.data(), kC}, scales);
  });
  expectInvalid("addConvolutionInt8 refuses a zero kernel scale", [&] { build(DType::Int8, kernel, Weights{"w.scale", DType::Float32, bad.data(), kC}); });
}

}  // namespace

int main() {
  try {
    const Program lowered = foldInt8Quantizes(fuseResidualAdds(fuseConvolutionActivations(record())));
    checkLowered(lowered);
    for (LayoutMode mode : {LayoutMode::kRowMajor, LayoutMode::kChannelsLastHalf}) checkLayout(assignLayouts(lowered, mode), mode);
    checkInputQuantizeFolds();
    checkRefusals();
  } catch (const std::exception& e) {
    check(false, std::string("threw: ") + e.what());
  }
  std::printf("\n%d passed, %d failed\n", passes, failures);
  return failures == 0 ? 0 : 1;
}
