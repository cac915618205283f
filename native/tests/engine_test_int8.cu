// Int8 engines (CudaNetwork::addConvolutionInt8 on the igemm kernel), against an integer CPU
// reference. The network is a small YOLOv8-shaped int8 region:
//
//   x [B,16,12,12] f32 -> Quantize (x.scale) -> c1 int8 conv 3x3 16->32 + SiLU -> Quantize (t.scale),
//   folded into c1 -> t1 int8 -> split a | b -> c2 int8 conv 3x3 16->16 + SiLU, + Dequantize(a)
//   (a residual add reading int8, folded into c2 with a as its int8 residual) -> Quantize (t.scale),
//   folded -> m -> concat [a, b, m] int8 (views: c1 and c2 write in place) -> max pool 3 s1 p1 int8
//   -> nearest x2 int8 -> c3 int8 conv 1x1/2 48->32 + bias + SiLU -> y (float32, written by the kernel)
//   stem: x[:, 0:3] -> Quantize (x.scale) -> c4 int8 conv 3x3/2 3->16 -> z (float32); c4 runs on the
//   direct kernel (direct_conv_rule.h), the Quantize folded in: it quantizes the float32 slice as it reads it
//   outputs: y, z, cat = Dequantize(concat), up = Dequantize(nearest x2)
//
// Scales are powers of two, so a dequantized int8 (q * s) and its way back are exact. Each stage
// is checked from the engine's own int8 inputs: the int32 sums are exact, so an int8 output may
// differ from the reference only where the float epilogue (the fast exp, a tie) lands a value on the other
// side of a rounding step: at most one step, and rarely; max pooling, nearest resize, split and
// concat move int8 bytes and must match exactly; float32 outputs are the same float operations
// (within the fast exp and reciprocal's ~1e-6). Also: the ops after the build passes (Quantizes folded, no
// Cast, the stem reading the float slice), the kernels layers() reports, a serialized engine reloaded (same bytes), refit
// with new int8 weights and scales (against the reference, then back to the first weights bit for
// bit), refits refused, and a grouped int8 convolution refused at build with the layer's name.
#include <algorithm>

#include "cuda/engine_build.h"
#include "engine_test_util.h"

namespace engine_test {
namespace {

using namespace netdef;
using namespace netdef::cuda;

constexpr int64_t kC = 16, kHW = 12, kMid = 32, kHalf = 16, kOut = 32, kStemC = 3, kStemK = 16, kUp = 2;
constexpr int64_t kCat = kMid + kHalf;
constexpr float kXScale = 1.0f / 64;  // x in [-2, 2] -> the whole int8 range
constexpr float kTScale = 1.0f / 16;  // t1, m, the concat and what follows (one scale group)
constexpr int kInt8Min = -128, kInt8Max = 127;
constexpr int kWeightMax = 127;
// The real weights (q * scale) are bounded by [kMinBound, kMaxBound] / sqrt(fan-in) per output
// channel: outputs of a few units, well inside the int8 range at kTScale.
constexpr float kMinBound = 1.0f, kMaxBound = 3.0f;
constexpr float kBiasRange = 0.5f;
// At most this share of an int8 output may be one step off the reference (see above).
constexpr double kMaxOneOffShare = 0.01;
// float32 outputs: the device's fast exp and reciprocal and the host's std::exp differ by about 1e-6.
constexpr double kFloatOutRtol = 1e-5, kFloatOutAtol = 1e-6;
constexpr uint32_t kSeed = 41;

struct Int8ConvModel {
  std::string name;
  int64_t inC, outC, k, stride, pad;
  bool bias, silu;
  std::vector<int8_t> w;  // KCRS
  std::vector<float> scales, b;
  std::vector<uint8_t> wBytes, sBytes, bBytes;
};

Int8ConvModel makeConv(ops_test::Rng& rng, const std::string& name, int64_t inC, int64_t outC, int64_t k, int64_t stride, int64_t pad,
                       bool bias, bool silu) {
  Int8ConvModel c{name, inC, outC, k, stride, pad, bias, silu, {}, {}, {}, {}, {}, {}};
  c.w.resize(static_cast<size_t>(outC * inC * k * k));
  for (int8_t& v : c.w) v = static_cast<int8_t>(rng.integer(-kWeightMax, kWeightMax));
  const float invSqrtFan = 1.0f / std::sqrt(static_cast<float>(inC * k * k));
  c.scales = rng.uniform(static_cast<size_t>(outC), kMinBound, kMaxBound);  // (Rng keeps |v| >= 0.01: scaled after)
  for (float& v : c.scales) v *= invSqrtFan / kWeightMax;
  c.b = bias ? rng.uniform(static_cast<size_t>(outC), -kBiasRange, kBiasRange) : std::vector<float>{};
  c.wBytes.assign(reinterpret_cast<const uint8_t*>(c.w.data()), reinterpret_cast<const uint8_t*>(c.w.data()) + c.w.size());
  c.sBytes = ops_test::encode(c.scales, DType::Float32);
  c.bBytes = ops_test::encode(c.b, DType::Float32);
  return c;
}

struct Int8Model {
  Int8ConvModel c1, c2, c3, c4;
};

Int8Model makeModel(ops_test::Rng& rng) {
  return Int8Model{makeConv(rng, "c1", kC, kMid, 3, 1, 1, true, true), makeConv(rng, "c2", kHalf, kHalf, 3, 1, 1, true, true),
                   makeConv(rng, "c3", kCat, kOut, 1, 2, 0, true, true), makeConv(rng, "c4", kStemC, kStemK, 3, 2, 1, false, false)};
}

// ---- the reference (NCHW int8 and float32, the kernel's float operations)

using Int8Tensor = std::vector<int8_t>;

int8_t quantizeRef(float v, float scale) {
  const float q = std::nearbyint(v / scale);
  return static_cast<int8_t>(std::min(std::max(q, static_cast<float>(kInt8Min)), static_cast<float>(kInt8Max)));
}

// The epilogue's float32 value: fma(float(acc), inputScale * scale[k], bias[k]), then SiLU.
std::vector<float> convRefInt8(const Int8Tensor& x, Shape4 s, const Int8ConvModel& c, float inputScale, Shape4& out) {
  out = {s.n, c.outC, (s.h + 2 * c.pad - c.k) / c.stride + 1, (s.w + 2 * c.pad - c.k) / c.stride + 1};
  std::vector<float> y(static_cast<size_t>(out.count()));
  for (int64_t n = 0; n < out.n; ++n)
    for (int64_t k = 0; k < out.c; ++k)
      for (int64_t oy = 0; oy < out.h; ++oy)
        for (int64_t ox = 0; ox < out.w; ++ox) {
          int64_t acc = 0;
          for (int64_t ci = 0; ci < c.inC; ++ci)
            for (int64_t ky = 0; ky < c.k; ++ky)
              for (int64_t kx = 0; kx < c.k; ++kx) {
                const int64_t iy = oy * c.stride - c.pad + ky, ix = ox * c.stride - c.pad + kx;
                if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
                acc += static_cast<int64_t>(c.w[((k * c.inC + ci) * c.k + ky) * c.k + kx]) * x[((n * s.c + ci) * s.h + iy) * s.w + ix];
              }
          float v = std::fma(static_cast<float>(acc), inputScale * c.scales[k], c.bias ? c.b[k] : 0.0f);
          if (c.silu) v = v / (1.0f + std::exp(-v));
          y[((n * out.c + k) * out.h + oy) * out.w + ox] = v;
        }
  return y;
}

Int8Tensor quantizeAll(const std::vector<float>& v, float scale) {
  Int8Tensor q(v.size());
  for (size_t i = 0; i < v.size(); ++i) q[i] = quantizeRef(v[i], scale);
  return q;
}

// Channels [c0, c0 + count) of an NCHW tensor.
Int8Tensor channels(const Int8Tensor& x, Shape4 s, int64_t c0, int64_t count) {
  Int8Tensor out;
  for (int64_t n = 0; n < s.n; ++n) {
    const auto from = x.begin() + (n * s.c + c0) * s.h * s.w;
    out.insert(out.end(), from, from + count * s.h * s.w);
  }
  return out;
}

Int8Tensor maxPoolRef(const Int8Tensor& x, Shape4 s) {
  constexpr int64_t kWindow = 3, kPad = 1;
  Int8Tensor y(x.size());
  for (int64_t p = 0; p < s.n * s.c; ++p)
    for (int64_t oy = 0; oy < s.h; ++oy)
      for (int64_t ox = 0; ox < s.w; ++ox) {
        int m = kInt8Min;
        for (int64_t ky = 0; ky < kWindow; ++ky)
          for (int64_t kx = 0; kx < kWindow; ++kx) {
            const int64_t iy = oy - kPad + ky, ix = ox - kPad + kx;
            if (iy >= 0 && iy < s.h && ix >= 0 && ix < s.w) m = std::max<int>(m, x[(p * s.h + iy) * s.w + ix]);
          }
        y[(p * s.h + oy) * s.w + ox] = static_cast<int8_t>(m);
      }
  return y;
}

Int8Tensor upsampleRef(const Int8Tensor& x, Shape4 s) {
  Int8Tensor y(static_cast<size_t>(s.n * s.c * s.h * kUp * s.w * kUp));
  for (int64_t p = 0; p < s.n * s.c; ++p)
    for (int64_t v = 0; v < s.h * kUp; ++v)
      for (int64_t u = 0; u < s.w * kUp; ++u) y[(p * s.h * kUp + v) * s.w * kUp + u] = x[(p * s.h + v / kUp) * s.w + u / kUp];
  return y;
}

// A dequantized output (q * scale, exact) back to its int8 values.
Int8Tensor int8Of(const HostOutput& o, float scale) {
  const std::vector<float> v = ops_test::decode(o.data, o.dtype);
  Int8Tensor q(v.size());
  for (size_t i = 0; i < v.size(); ++i) q[i] = static_cast<int8_t>(v[i] / scale);
  return q;
}

// Every int8 within one step of the reference, and few off at all.
void checkInt8(const std::string& name, const Int8Tensor& got, const Int8Tensor& ref) {
  if (got.size() != ref.size()) {
    ops_test::record(false, name, "size " + std::to_string(got.size()) + " != " + std::to_string(ref.size()));
    return;
  }
  size_t off = 0, far = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const int d = std::abs(static_cast<int>(got[i]) - static_cast<int>(ref[i]));
    off += d == 1 ? 1 : 0;
    far += d > 1 ? 1 : 0;
  }
  const bool ok = far == 0 && static_cast<double>(off) <= kMaxOneOffShare * static_cast<double>(ref.size());
  ops_test::record(ok, name, "n=" + std::to_string(ref.size()) + ", one step off " + std::to_string(off) + ", further " + std::to_string(far));
}

void checkInt8Exact(const std::string& name, const Int8Tensor& got, const Int8Tensor& ref) {
  ops_test::checkBytes(name, std::vector<uint8_t>(got.begin(), got.end()), std::vector<uint8_t>(ref.begin(), ref.end()));
}

// A float32 output of the kernel against the reference's float operations.
void checkFloat(const std::string& name, const HostOutput& o, const std::vector<float>& ref) {
  ops_test::checkClose(name, ops_test::decode(o.data, o.dtype), std::vector<double>(ref.begin(), ref.end()), kFloatOutRtol,
                       kFloatOutAtol);
}

// ---- the network

ITensor* int8Conv(INetwork& net, ITensor* x, float inputScale, const Int8ConvModel& c, int64_t groups = 1) {
  ILayer* conv = net.addConvolutionInt8(*x, inputScale, c.outC, convParams(c.k, c.stride, c.pad, groups),
                                        weights(c.name + ".w", DType::Int8, c.wBytes), weights(c.name + ".w.scale", DType::Float32, c.sBytes),
                                        c.bias ? weights(c.name + ".b", DType::Float32, c.bBytes) : Weights{});
  conv->setName(c.name);
  if (!c.silu) return conv->output(0);
  ILayer* act = net.addActivation(*conv->output(0), ActivationType::Silu);
  act->setName(c.name + "/act");
  return act->output(0);
}

struct Scales {
  std::vector<uint8_t> x = ops_test::encode({kXScale}, DType::Float32);
  std::vector<uint8_t> t = ops_test::encode({kTScale}, DType::Float32);
};

ITensor* quantize(INetwork& net, ITensor* x, ITensor* scale, const std::string& name) {
  ILayer* q = net.addQuantize(*x, *scale, 0, DType::Int8);
  q->setName(name);
  return q->output(0);
}

ITensor* channelSlice(INetwork& net, ITensor* x, int64_t c0, int64_t count, int64_t hw, const std::string& name) {
  ILayer* s = net.addSlice(*x, Dims{{0, c0, 0, 0}}, Dims{{ir::kBatch, count, hw, hw}}, Dims{{1, 1, 1, 1}});
  s->setName(name);
  return s->output(0);
}

void dequantizeOutput(INetwork& net, ITensor* x, ITensor* scale, const std::string& name) {
  ILayer* d = net.addDequantize(*x, *scale, 0, DType::Float32);
  d->setName(name + "/dequantize");
  net.markOutput(*d->output(0), name);
}

std::unique_ptr<CudaEngine> buildInt8(const Int8Model& m, const Scales& s) {
  CudaNetwork net;
  ITensor* x = net.addInput("x", DType::Float32, Dims{{ir::kBatch, kC, kHW, kHW}});
  ILayer* xs = net.addConstant(Dims{{1}}, weights("x.scale", DType::Float32, s.x));
  xs->setName("x.scale");
  ILayer* ts = net.addConstant(Dims{{1}}, weights("t.scale", DType::Float32, s.t));
  ts->setName("t.scale");
  ITensor* q0 = quantize(net, x, xs->output(0), "x/Quantize");
  ITensor* t1 = quantize(net, int8Conv(net, q0, kXScale, m.c1), ts->output(0), "c1/Quantize");
  ITensor* a = channelSlice(net, t1, 0, kHalf, kHW, "split/a");
  ITensor* b = channelSlice(net, t1, kHalf, kHalf, kHW, "split/b");
  ITensor* c2out = int8Conv(net, b, kTScale, m.c2);  // the Dequantize after c2, as the int8 pass records it
  ILayer* ra = net.addDequantize(*a, *ts->output(0), 0, DType::Float32);
  ra->setName("add/Dequantize");
  ILayer* add = net.addElementWise(*ra->output(0), *c2out, ElementWiseOperation::Sum);
  add->setName("add");
  ITensor* mm = quantize(net, add->output(0), ts->output(0), "c2/Quantize");
  ILayer* cat = net.addConcatenation({a, b, mm}, 1);
  cat->setName("concat");
  PoolingParams pp{{3, 3}, {1, 1}, {1, 1}, {1, 1}};
  ILayer* pool = net.addPooling(*cat->output(0), pp, PoolingType::Max);
  pool->setName("pool");
  ILayer* up = net.addResize(*pool->output(0), {1, 1, static_cast<float>(kUp), static_cast<float>(kUp)});
  up->setName("up");
  net.markOutput(*int8Conv(net, up->output(0), kTScale, m.c3), "y");
  ITensor* stem = quantize(net, channelSlice(net, x, 0, kStemC, kHW, "stem/slice"), xs->output(0), "stem/Quantize");
  net.markOutput(*int8Conv(net, stem, kXScale, m.c4), "z");
  dequantizeOutput(net, cat->output(0), ts->output(0), "cat");
  dequantizeOutput(net, up->output(0), ts->output(0), "up");
  return buildFromNetwork(net, smallBatches(), {});
}

// ---- checks

// Every output of `e` at `batch` against the reference, each stage from the engine's own inputs.
void checkOutputs(Engine& e, const Int8Model& m, const std::vector<float>& xf, int64_t batch, const std::string& label) {
  auto out = e.run({{"x", ops_test::encode(xf, DType::Float32)}}, batch);
  const Shape4 xs{batch, kC, kHW, kHW};
  const Int8Tensor q0 = quantizeAll(xf, kXScale);
  Shape4 s1{}, s2{}, s3{}, s4{};
  const Int8Tensor cat = int8Of(out.at("cat"), kTScale);
  const Shape4 catShape{batch, kCat, kHW, kHW};
  const Int8Tensor t1 = channels(cat, catShape, 0, kMid);
  checkInt8(label + ": c1 (int8 out, Quantize folded)", t1, quantizeAll(convRefInt8(q0, xs, m.c1, kXScale, s1), kTScale));
  const Int8Tensor a = channels(cat, catShape, 0, kHalf);
  const Int8Tensor b = channels(cat, catShape, kHalf, kHalf);
  std::vector<float> c2 = convRefInt8(b, {batch, kHalf, kHW, kHW}, m.c2, kTScale, s2);
  for (size_t i = 0; i < c2.size(); ++i) c2[i] += static_cast<float>(a[i]) * kTScale;  // the int8 residual (exact: kTScale is 2^-4)
  checkInt8(label + ": c2 reads split b and the residual a (int8), writes m into the concat", channels(cat, catShape, kMid, kHalf),
            quantizeAll(c2, kTScale));
  const Int8Tensor up = int8Of(out.at("up"), kTScale);
  checkInt8Exact(label + ": int8 max pool + nearest x2 of the concat, exact", up, upsampleRef(maxPoolRef(cat, catShape), catShape));
  checkFloat(label + ": c3 (float32 out)", out.at("y"),
            convRefInt8(up, {batch, kCat, kHW * kUp, kHW * kUp}, m.c3, kTScale, s3));
  checkFloat(label + ": c4 (direct, C = 3 quantized as read, no bias, no activation)", out.at("z"),
            convRefInt8(channels(q0, xs, 0, kStemC), {batch, kStemC, kHW, kHW}, m.c4, kXScale, s4));
}

void checkProgram(const CudaEngine& e, const std::string& label) {
  const Program& p = e.program();
  int folded = 0, casts = 0, floatStem = 0, residual = 0;
  for (const OpDef& op : p.ops) {
    if (std::holds_alternative<QuantizeAttrs>(op.attrs) && op.fusedInto >= 0) ++folded;
    if ((op.name == "add" || op.name == "add/Dequantize") && op.fusedInto >= 0 && p.ops[op.fusedInto].name == "c2") ++residual;
    if (std::holds_alternative<CastAttrs>(op.attrs)) ++casts;
    const auto* c = std::get_if<ConvAttrs>(&op.attrs);
    const TensorDef* x = op.inputs.empty() ? nullptr : &p.tensors[op.inputs[0]];
    if (c && c->isInt8() && op.name == "c4" && x->dims[1] == kStemC && x->dtype == DType::Float32) ++floatStem;
  }
  ops_test::record(folded == 3, label + ": c1's and c2's output Quantizes and c4's input Quantize folded into them", std::to_string(folded) + " folded");
  ops_test::record(residual == 2, label + ": the residual add and its Dequantize folded into c2", std::to_string(residual) + " of 2");
  ops_test::record(casts == 0, label + ": c3 and c4 write their float32 outputs themselves (no Cast)", std::to_string(casts) + " casts");
  ops_test::record(floatStem == 1, label + ": c4 reads x's 3-channel float32 slice itself (no Quantize, Reformat or padded copy)", "");
  int igemm = 0, direct = 0, inPlace = 0;
  for (const LayerInfo& l : e.layers()) {
    igemm += l.kernel.find("netdef:igemm_conv") != std::string::npos ? 1 : 0;
    direct += l.name == "c4" && l.kernel.find("netdef:direct_conv(nchw->nchw, float32 quantized in -> float32") != std::string::npos ? 1 : 0;
    inPlace += l.name == "concat" && l.kernel.find("(3 in place)") != std::string::npos ? 1 : 0;
  }
  ops_test::record(igemm == 3 && direct == 1, label + ": c1, c2 and c3 run on igemm, c4 on the direct kernel",
                   std::to_string(igemm) + " on igemm, " + std::to_string(direct) + " direct");
  ops_test::record(inPlace == 1, label + ": the concat's three inputs are written in place", "");
}

ir::Param paramOf(const std::string& name, const std::vector<uint8_t>& bytes, DType t) {
  return ir::Param{name, t, {static_cast<int64_t>(bytes.size() / ir::bytesOf(t))}, bytes.data(), bytes.size()};
}

std::vector<ir::Param> paramsOf(const Int8Model& m) {
  std::vector<ir::Param> p;
  for (const Int8ConvModel* c : {&m.c1, &m.c2, &m.c3, &m.c4}) {
    p.push_back(paramOf(c->name + ".w", c->wBytes, DType::Int8));
    p.push_back(paramOf(c->name + ".w.scale", c->sBytes, DType::Float32));
    if (c->bias) p.push_back(paramOf(c->name + ".b", c->bBytes, DType::Float32));
  }
  return p;
}

std::vector<uint8_t> allOutputs(Engine& e, const std::vector<float>& xf, int64_t batch) {
  auto out = e.run({{"x", ops_test::encode(xf, DType::Float32)}}, batch);
  std::vector<uint8_t> all;
  for (const char* name : {"y", "z", "cat", "up"}) all.insert(all.end(), out.at(name).data.begin(), out.at(name).data.end());
  return all;
}

void testRefitInt8(CudaEngine& e, const Int8Model& a, ops_test::Rng& rng, const std::vector<float>& xf, int64_t batch) {
  const std::string label = "int8 refit";
  const std::vector<uint8_t> withA = allOutputs(e, xf, batch);
  const Int8Model b = makeModel(rng);  // new int8 weights and new per-channel scales
  e.refit(paramsOf(b));
  checkOutputs(e, b, xf, batch, label + " A -> B, against B's reference");
  auto loaded = loadFromBlob(e.serialize(), 0);
  ops_test::checkBytes(label + ": the refitted engine serializes its new int8 weights and scales", allOutputs(*loaded, xf, batch),
                       allOutputs(e, xf, batch));
  e.refit(paramsOf(a));
  ops_test::checkBytes(label + ": back to A, A's outputs bit for bit", allOutputs(e, xf, batch), withA);
  const std::vector<uint8_t> asFloat = ops_test::encode(std::vector<float>(a.c1.w.begin(), a.c1.w.end()), DType::Float32);
  std::vector<ir::Param> bad = paramsOf(b);
  bad[0] = paramOf(a.c1.name + ".w", asFloat, DType::Float32);
  ops_test::expectError(label + ": float32 values for an int8 weight refused", kErrWeightsMismatch, [&] { e.refit(bad); });
  ops_test::checkBytes(label + ": a refused refit changes nothing", allOutputs(e, xf, batch), withA);
}

void testGroupedRefused(ops_test::Rng& rng) {
  const std::string name = "int8 build refuses a grouped convolution, naming it";
  ops_test::runCase(name, [&] {
    CudaNetwork net;
    const Int8ConvModel g = makeConv(rng, "g.conv", kC / 2, kC, 3, 1, 1, true, false);  // groups 2: C/groups = 8
    std::vector<uint8_t> sx = ops_test::encode({kXScale}, DType::Float32);
    ITensor* x = net.addInput("x", DType::Float32, Dims{{ir::kBatch, kC, kHW, kHW}});
    ILayer* xs = net.addConstant(Dims{{1}}, weights("x.scale", DType::Float32, sx));
    xs->setName("x.scale");
    net.markOutput(*int8Conv(net, quantize(net, x, xs->output(0), "x/Quantize"), kXScale, g, 2), "y");
    try {
      buildFromNetwork(net, smallBatches(), {});
      ops_test::record(false, name, "built");
    } catch (const Error& e) {
      const bool named = std::string(e.what()).find("g.conv") != std::string::npos;
      ops_test::record(std::string(e.code()) == kErrInvalidArgument && named, name, std::string(e.code()) + ": " + e.what());
    }
  });
}

}  // namespace

void testInt8Engine() {
  ops_test::Rng rng(kSeed);
  const std::string label = "int8 engine";
  std::snprintf(crashContext(), 256, "%s", label.c_str());
  ops_test::runCase(label, [&] {
    const Int8Model m = makeModel(rng);
    const Scales s;
    auto e = buildInt8(m, s);
    checkProgram(*e, label);
    std::vector<float> x3;
    for (int64_t batch : {1, 3, 1}) {
      const std::vector<float> xf = rng.uniform(batch * kC * kHW * kHW, -kInputRange, kInputRange);
      checkOutputs(*e, m, xf, batch, label + " batch " + std::to_string(batch));
      if (batch == 3) x3 = xf;
    }
    auto loaded = loadFromBlob(e->serialize(), 0);
    ops_test::checkBytes(label + ": serialized and loaded, the same outputs", allOutputs(*loaded, x3, 3), allOutputs(*e, x3, 3));
    testRefitInt8(*e, m, rng, x3, 3);
  });
  testGroupedRefused(rng);
}

}  // namespace engine_test
