// The C2f-like chain: see engine_test_chain.h. CPU reference in double; fp32 within 1e-4 and fp16
// within 1e-2 (norm-relative), the Q/DQ output within one quantum.
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "cuda/engine_format.h"
#include "cuda/engine_impl.h"
#include "engine_test_chain.h"

namespace engine_test {
namespace {

using namespace netdef;
using namespace netdef::cuda;

// `e` with every convolution the igemm kernel can run (float16 NHWC, IgemmLayer::whyNot) forced
// onto `tile`, through a patched blob; `forced` counts them. So the igemm tactic of a float16
// layer is checked inside a network (views, the fused residual) whatever the timing chose.
std::unique_ptr<CudaEngine> forcedOntoIgemm(CudaEngine& e, igemm::IgemmTile tile, int& forced) {
  const std::vector<uint8_t> blob = e.serialize();
  EngineRecord r = readEngine(blob.data(), blob.size());
  forced = 0;
  for (OpTactic& ot : r.tactics) {
    const ConvLayer* layer = e.convolution(static_cast<size_t>(ot.op));
    if (!layer || !IgemmLayer::whyNot(layer->geometry()).empty()) continue;
    ot.tactic = ConvTactic{ConvTactic::Kind::kIgemm, static_cast<int32_t>(tile), 0, -1, 0.0f};
    ++forced;
  }
  return loadFromBlob(writeEngine(r), 0);
}

constexpr int64_t kChainUp = 2, kPoolK = 5, kPoolPad = 2;
constexpr int64_t kFlat = kChainHW * kChainUp * kChainHW * kChainUp;
const ConvSpec kCv1{kChainC, 2 * kChainC, 3, 1, 1, 1, true, true};
const ConvSpec kM{kChainC, kChainC, 3, 1, 1, 1, true, true};
const ConvSpec kCv2{3 * kChainC, 2 * kChainC, 1, 1, 0, 1, true, true};
const ConvSpec kCv3{2 * kChainC, kChainC, 1, 1, 0, 1, true, false};

constexpr float kQuantBase = 0.03f, kQuantStep = 0.005f;  // scale of channel c: base + step * c
constexpr double kInt8Min = -128, kInt8Max = 127;

ITensor* conv(CudaNetwork& net, ITensor* x, const ConvSpec& c, const ChainModel& m, int i, const std::string& name) {
  ILayer* l = net.addConvolution(*x, c.outC, convParams(c.k, c.stride, c.pad, 1), weights(name + ".w", m.t, m.wBytes[i]),
                                 weights(name + ".b", m.t, m.bBytes[i]));
  l->setName(name);
  if (!c.silu) return l->output(0);
  ILayer* a = net.addActivation(*l->output(0), ActivationType::Silu);
  a->setName(name + "/activation");
  return a->output(0);
}

ITensor* channels(CudaNetwork& net, ITensor* x, int64_t from, int64_t count, const std::string& name) {
  const std::vector<int64_t>& d = x->dims().d;
  ILayer* l = net.addSlice(*x, Dims{{0, from, 0, 0}}, Dims{{ir::kBatch, count, d[2], d[3]}}, Dims{{1, 1, 1, 1}});
  l->setName(name);
  return l->output(0);
}

Tensor4 sliceC(const Tensor4& x, Shape4 s, int64_t from, int64_t count) {
  Tensor4 y;
  for (int64_t n = 0; n < s.n; ++n) {
    auto at = x.begin() + (n * s.c + from) * s.h * s.w;
    y.insert(y.end(), at, at + count * s.h * s.w);
  }
  return y;
}

Tensor4 concatC(const std::vector<const Tensor4*>& xs, int64_t n) {
  Tensor4 y;
  for (int64_t i = 0; i < n; ++i)
    for (const Tensor4* x : xs) {
      const size_t per = x->size() / n;
      y.insert(y.end(), x->begin() + i * per, x->begin() + (i + 1) * per);
    }
  return y;
}

Tensor4 maxPool(const Tensor4& x, Shape4 s) {
  Tensor4 y(x.size());
  for (int64_t nc = 0; nc < s.n * s.c; ++nc)
    for (int64_t oy = 0; oy < s.h; ++oy)
      for (int64_t ox = 0; ox < s.w; ++ox) {
        double best = -INFINITY;
        for (int64_t ky = 0; ky < kPoolK; ++ky)
          for (int64_t kx = 0; kx < kPoolK; ++kx) {
            const int64_t iy = oy - kPoolPad + ky, ix = ox - kPoolPad + kx;
            if (iy >= 0 && iy < s.h && ix >= 0 && ix < s.w) best = std::max(best, x[(nc * s.h + iy) * s.w + ix]);
          }
        y[(nc * s.h + oy) * s.w + ox] = best;
      }
  return y;
}

Tensor4 upsample(const Tensor4& x, Shape4 s) {
  Tensor4 y(x.size() * kChainUp * kChainUp);
  const int64_t oh = s.h * kChainUp, ow = s.w * kChainUp;
  for (int64_t nc = 0; nc < s.n * s.c; ++nc)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) y[(nc * oh + oy) * ow + ox] = x[(nc * s.h + oy / kChainUp) * s.w + ox / kChainUp];
  return y;
}

}  // namespace

ChainOutputs chainRef(const ChainModel& m, const std::vector<float>& xf, int64_t batch) {
  auto W = [&](int i) { return held(m.w[i], m.t); };
  auto B = [&](int i) { return held(m.b[i], m.t); };
  Shape4 s{batch, kChainC, kChainHW, kChainHW}, o1{}, o{};
  const Tensor4 y1 = convRef(held(xf, m.t), s, W(0), B(0), kCv1, o1);
  const Tensor4 a = sliceC(y1, o1, 0, kChainC), b = sliceC(y1, o1, kChainC, kChainC);
  Tensor4 mb = convRef(b, {batch, kChainC, kChainHW, kChainHW}, W(1), B(1), kM, o);
  for (size_t i = 0; i < mb.size(); ++i) mb[i] += b[i];
  const Tensor4 cat = concatC({&a, &b, &mb}, batch);
  const Tensor4 y2 = convRef(cat, {batch, 3 * kChainC, kChainHW, kChainHW}, W(2), B(2), kCv2, o);
  const Shape4 big{batch, 2 * kChainC, kChainHW * kChainUp, kChainHW * kChainUp};
  const Tensor4 up = maxPool(upsample(y2, o), big);
  Shape4 o3{};
  const Tensor4 y3 = convRef(up, {batch, 2 * kChainC, kChainHW * kChainUp, kChainHW * kChainUp}, W(3), B(3), kCv3, o3);
  ChainOutputs o4{Tensor4(y3.size()), Tensor4(y3.size()), Tensor4(y3.size())};
  const std::vector<double> k = held(m.k, m.t);
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t c = 0; c < kChainC; ++c)
      for (int64_t i = 0; i < kFlat; ++i) {
        const double v = y3[(n * kChainC + c) * kFlat + i];
        o4.y[(n * kChainC + c) * kFlat + i] = 1 / (1 + std::exp(-v));
        o4.t[(n * kFlat + i) * kChainC + c] = v * k[i];
        const double s = m.q[c];
        o4.q[(n * kChainC + c) * kFlat + i] = std::clamp(std::nearbyint(v / s), kInt8Min, kInt8Max) * s;
      }
  return o4;
}

const std::vector<std::string>& chainConvNames() {
  static const std::vector<std::string> names{"cv1", "m.0", "cv2", "cv3"};
  return names;
}

ChainModel makeChain(DType t, ops_test::Rng& rng) {
  ChainModel m{t, {}, {}, {}, {}, {}, {}, {}, {}};
  for (const ConvSpec* c : {&kCv1, &kM, &kCv2, &kCv3}) {
    const int64_t fanIn = c->inC * c->k * c->k;
    m.w.push_back(heWeights(rng, c->outC * fanIn, fanIn));
    m.b.push_back(rng.uniform(c->outC, -0.5f, 0.5f));
    m.wBytes.push_back(ops_test::encode(m.w.back(), t));
    m.bBytes.push_back(ops_test::encode(m.b.back(), t));
  }
  m.k = rng.uniform(kFlat, -1.0f, 1.0f);
  m.kBytes = ops_test::encode(m.k, t);
  for (int64_t c = 0; c < kChainC; ++c) m.q.push_back(kQuantBase + kQuantStep * static_cast<float>(c));
  m.qBytes = ops_test::encode(m.q, DType::Float32);
  return m;
}

std::unique_ptr<CudaEngine> buildChain(const ChainModel& m, LayoutMode mode) {
  CudaNetwork net;
  ITensor* x = net.addInput("x", m.t, Dims{{ir::kBatch, kChainC, kChainHW, kChainHW}});
  ITensor* y1 = conv(net, x, kCv1, m, 0, chainConvNames()[0]);
  ITensor* a = channels(net, y1, 0, kChainC, "split/0");
  ITensor* b = channels(net, y1, kChainC, kChainC, "split/1");
  ILayer* add = net.addElementWise(*b, *conv(net, b, kM, m, 1, chainConvNames()[1]), ElementWiseOperation::Sum);
  add->setName("m.0/add");
  ILayer* cat = net.addConcatenation({a, b, add->output(0)}, 1);
  cat->setName("concat");
  ITensor* y2 = conv(net, cat->output(0), kCv2, m, 2, chainConvNames()[2]);
  ILayer* up = net.addResize(*y2, {1, 1, kChainUp, kChainUp});
  up->setName("upsample");
  ILayer* pool = net.addPooling(*up->output(0), PoolingParams{{kPoolK, kPoolK}, {1, 1}, {kPoolPad, kPoolPad}, {kPoolPad, kPoolPad}},
                                PoolingType::Max);
  pool->setName("pool");
  ITensor* y3 = conv(net, pool->output(0), kCv3, m, 3, chainConvNames()[3]);
  ILayer* flat = net.addShuffle(*y3, Dims{{ir::kBatch, kChainC, kFlat}}, {});
  flat->setName("flatten");
  ILayer* sig = net.addActivation(*flat->output(0), ActivationType::Sigmoid);
  sig->setName("sigmoid");
  ITensor* y = sig->output(0);
  if (m.t == DType::Float16) {
    ILayer* cast = net.addCast(*y, DType::Float32);
    cast->setName("cast");
    y = cast->output(0);
  }
  net.markOutput(*y, "y");
  ILayer* k = net.addConstant(Dims{{1, 1, kFlat}}, weights("k", m.t, m.kBytes));
  k->setName("k");
  ILayer* scaled = net.addElementWise(*flat->output(0), *k->output(0), ElementWiseOperation::Prod);
  scaled->setName("scale");
  ILayer* tr = net.addShuffle(*scaled->output(0), Dims{}, {0, 2, 1});
  tr->setName("transpose");
  net.markOutput(*tr->output(0), "t");
  ILayer* scales = net.addConstant(Dims{{kChainC}}, weights("q.scale", DType::Float32, m.qBytes));
  scales->setName("q.scale");
  ILayer* q = net.addQuantize(*flat->output(0), *scales->output(0), 1, DType::Int8);
  q->setName("quantize");
  ILayer* dq = net.addDequantize(*q->output(0), *scales->output(0), 1, m.t);
  dq->setName("dequantize");
  net.markOutput(*dq->output(0), "q");
  return buildFromNetwork(net, smallBatches(), {}, &mode);
}

// Sets an environment variable for its lifetime, restoring what was there before.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    setenv(name, value, 1);
  }
  ~ScopedEnv() { had_ ? setenv(name_, old_.c_str(), 1) : unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

void testChain() {
  ops_test::Rng rng(11);
  // Side streams on (the default; set here so the test does not depend on the environment): the
  // chain's output branches after cv3 run on them, and every check below holds with them.
  const ScopedEnv streams("NETDEF_CUDA_STREAMS", "1");
  for (DType t : {DType::Float32, DType::Float16}) {
    const ChainModel m = makeChain(t, rng);
    for (LayoutMode mode : {LayoutMode::kRowMajor, LayoutMode::kChannelsLastHalf}) {
      if (t == DType::Float32 && mode == LayoutMode::kChannelsLastHalf) continue;
      const std::string label = std::string("chain ") + ops_test::typeName(t) + " " + layoutModeName(mode);
      std::snprintf(crashContext(), 256, "%s", label.c_str());
      ops_test::runCase(label, [&] {
        auto e = buildChain(m, mode);
        const double tol = t == DType::Float16 ? kFp16ChainTol : kFp32ChainTol;
        for (int64_t batch : {1, 3, 1}) {
          const std::vector<float> x = rng.uniform(batch * kChainC * kChainHW * kChainHW, -kInputRange, kInputRange);
          auto out = e->run({{"x", ops_test::encode(x, t)}}, batch);
          const ChainOutputs ref = chainRef(m, x, batch);
          const std::string b = " batch " + std::to_string(batch);
          checkNorm(label + " y" + b, ops_test::decode(out.at("y").data, out.at("y").dtype), ref.y, tol);
          checkNorm(label + " t" + b, ops_test::decode(out.at("t").data, out.at("t").dtype), ref.t, tol);
          // Q/DQ: a value within rounding of a .5 step may land one quantum away; anything else is wrong.
          const double quantum = kQuantBase + kQuantStep * (kChainC - 1);
          ops_test::checkClose(label + " q/dq" + b, ops_test::decode(out.at("q").data, out.at("q").dtype), ref.q, 0,
                               quantum * (1 + tol) + (t == DType::Float16 ? std::fabs(kInt8Max * quantum) * ops_test::kFp16Rtol : 0));
        }
        // The bottleneck's residual add runs inside the convolution's epilogue (fuse_pass.h).
        std::string addKernel;
        for (const LayerInfo& l : e->layers())
          if (l.name == "m.0/add") addKernel = l.kernel;
        ops_test::record(addKernel.rfind("fused into ", 0) == 0, label + " residual add fused", addKernel);
        // The outputs' branches after cv3 (scale -> transpose, quantize -> dequantize) run on side
        // streams beside the sigmoid (stream_plan.h, NETDEF_CUDA_STREAMS=1 above); the outputs
        // above were checked with them.
        std::string sideLayers;
        for (const LayerInfo& l : e->layers())
          if (l.kernel.find("[side stream") != std::string::npos) sideLayers += " " + l.name;
        ops_test::record(sideLayers.find("scale") != std::string::npos && sideLayers.find("quantize") != std::string::npos,
                         label + " branches on side streams", sideLayers);
        if (t == DType::Float16 && mode == LayoutMode::kChannelsLastHalf) {
          for (igemm::IgemmTile tile : igemm::igemmUsableTiles()) {
            int forced = 0;
            auto f = forcedOntoIgemm(*e, tile, forced);
            const std::string fl = label + " on igemm " + igemm::igemmTileName(tile);
            // cv1, m (with the residual), cv2 and the 1x1 after the pool: every convolution.
            ops_test::record(forced == 4, fl + ": every convolution forced", std::to_string(forced) + " of 4");
            constexpr int64_t kBatch = 3;
            const std::vector<float> x = rng.uniform(kBatch * kChainC * kChainHW * kChainHW, -kInputRange, kInputRange);
            auto out = f->run({{"x", ops_test::encode(x, t)}}, kBatch);
            const ChainOutputs ref = chainRef(m, x, kBatch);
            checkNorm(fl + " y", ops_test::decode(out.at("y").data, out.at("y").dtype), ref.y, tol);
            checkNorm(fl + " t", ops_test::decode(out.at("t").data, out.at("t").dtype), ref.t, tol);
          }
        }
        const BufferPlan& plan = e->bufferPlan();
        ops_test::record(planIsValid(plan) && plan.totalBytes < plan.requestedBytes, label + " buffer plan",
                         "arena " + std::to_string(plan.totalBytes) + " B for " + std::to_string(plan.requestedBytes) + " B of tensors");
      });
    }
  }
}


namespace {

// The view chain: x[B,16,16,16] -> cv1 1x1 16->32 silu -> split a|b -> m0 = conv3x3(b) -> m1 =
// conv3x3(m0) -> cat1 [a, b, m0, m1] -> cv2 1x1 64->32 silu = y2 ; cat2 [cv3(y2) 1x1 32->16, m1,
// maxpool5(y2)] -> cv4 1x1 64->16 (bias only) = out. cv1's output and m0, m1 are written into cat1
// in place, the split halves are views, m1 is also read (strided) by cat2, cv3 writes into cat2.
const ConvSpec kViewSpecs[] = {{kChainC, 2 * kChainC, 1, 1, 0, 1, true, true}, {kChainC, kChainC, 3, 1, 1, 1, true, true},
                               {kChainC, kChainC, 3, 1, 1, 1, true, true},     {4 * kChainC, 2 * kChainC, 1, 1, 0, 1, true, true},
                               {2 * kChainC, kChainC, 1, 1, 0, 1, true, true}, {4 * kChainC, kChainC, 1, 1, 0, 1, true, false}};

std::unique_ptr<CudaEngine> buildViewChain(const ChainModel& m, LayoutMode mode) {
  CudaNetwork net;
  auto cv = [&](ITensor* x, int i) { return conv(net, x, kViewSpecs[i], m, i, "cv" + std::to_string(i)); };
  ITensor* x = net.addInput("x", m.t, Dims{{ir::kBatch, kChainC, kChainHW, kChainHW}});
  ITensor* y1 = cv(x, 0);
  ITensor* a = channels(net, y1, 0, kChainC, "split/0");
  ITensor* b = channels(net, y1, kChainC, kChainC, "split/1");
  ITensor* m0 = cv(b, 1);
  ITensor* m1 = cv(m0, 2);
  ILayer* cat1 = net.addConcatenation({a, b, m0, m1}, 1);
  cat1->setName("cat1");
  ITensor* y2 = cv(cat1->output(0), 3);
  ILayer* pool = net.addPooling(*y2, PoolingParams{{kPoolK, kPoolK}, {1, 1}, {kPoolPad, kPoolPad}, {kPoolPad, kPoolPad}}, PoolingType::Max);
  pool->setName("pool");
  ILayer* cat2 = net.addConcatenation({cv(y2, 4), m1, pool->output(0)}, 1);
  cat2->setName("cat2");
  net.markOutput(*cv(cat2->output(0), 5), "y");
  return buildFromNetwork(net, smallBatches(), {}, &mode);
}

Tensor4 viewChainRef(const ChainModel& m, const std::vector<float>& xf, int64_t batch) {
  auto W = [&](int i) { return held(m.w[i], m.t); };
  auto B = [&](int i) { return held(m.b[i], m.t); };
  const Shape4 s{batch, kChainC, kChainHW, kChainHW};
  Shape4 o{};
  const Tensor4 y1 = convRef(held(xf, m.t), s, W(0), B(0), kViewSpecs[0], o);
  const Tensor4 a = sliceC(y1, o, 0, kChainC), b = sliceC(y1, o, kChainC, kChainC);
  const Tensor4 m0 = convRef(b, s, W(1), B(1), kViewSpecs[1], o);
  const Tensor4 m1 = convRef(m0, s, W(2), B(2), kViewSpecs[2], o);
  const Tensor4 cat1 = concatC({&a, &b, &m0, &m1}, batch);
  const Tensor4 y2 = convRef(cat1, {batch, 4 * kChainC, kChainHW, kChainHW}, W(3), B(3), kViewSpecs[3], o);
  const Shape4 s2{batch, 2 * kChainC, kChainHW, kChainHW};
  const Tensor4 c3 = convRef(y2, s2, W(4), B(4), kViewSpecs[4], o);
  const Tensor4 p = maxPool(y2, s2);
  const Tensor4 cat2 = concatC({&c3, &m1, &p}, batch);
  return convRef(cat2, {batch, 4 * kChainC, kChainHW, kChainHW}, W(5), B(5), kViewSpecs[5], o);
}

}  // namespace

void testViewChain() {
  ops_test::Rng rng(29);
  for (DType t : {DType::Float32, DType::Float16}) {
    ChainModel m{t, {}, {}, {}, {}, {}, {}, {}, {}};
    for (const ConvSpec& c : kViewSpecs) {
      const int64_t fanIn = c.inC * c.k * c.k;
      m.w.push_back(heWeights(rng, c.outC * fanIn, fanIn));
      m.b.push_back(rng.uniform(c.outC, -0.5f, 0.5f));
      m.wBytes.push_back(ops_test::encode(m.w.back(), t));
      m.bBytes.push_back(ops_test::encode(m.b.back(), t));
    }
    for (LayoutMode mode : {LayoutMode::kRowMajor, LayoutMode::kChannelsLastHalf}) {
      if (t == DType::Float32 && mode == LayoutMode::kChannelsLastHalf) continue;
      const std::string label = std::string("view chain ") + ops_test::typeName(t) + " " + layoutModeName(mode);
      std::snprintf(crashContext(), 256, "%s", label.c_str());
      ops_test::runCase(label, [&] {
        auto e = buildViewChain(m, mode);
        const double tol = t == DType::Float16 ? kFp16ChainTol : kFp32ChainTol;
        for (int64_t batch : {1, 3, 1}) {
          const std::vector<float> x = rng.uniform(batch * kChainC * kChainHW * kChainHW, -kInputRange, kInputRange);
          auto out = e->run({{"x", ops_test::encode(x, t)}}, batch);
          checkNorm(label + " y batch " + std::to_string(batch), ops_test::decode(out.at("y").data, out.at("y").dtype),
                    viewChainRef(m, x, batch), tol);
        }
        int views = 0, inPlace = 0;
        for (const LayerInfo& l : e->layers()) {
          views += l.kernel == "view (channel range)" ? 1 : 0;
          inPlace += l.kernel.find("in place") != std::string::npos ? 1 : 0;
        }
        // Both split halves are views; cat1 (4 inputs in place) and cat2 (cv3's output) write in place.
        ops_test::record(views == 2 && inPlace == 2, label + " views taken",
                         std::to_string(views) + " slice views, " + std::to_string(inPlace) + " concats in place");
        if (t == DType::Float16 && mode == LayoutMode::kChannelsLastHalf) {
          // Every convolution on igemm, reading and writing the views in place.
          for (igemm::IgemmTile tile : igemm::igemmUsableTiles()) {
            int forced = 0;
            auto f = forcedOntoIgemm(*e, tile, forced);
            const std::string fl = label + " on igemm " + igemm::igemmTileName(tile);
            const int convs = static_cast<int>(std::size(kViewSpecs));
            ops_test::record(forced == convs, fl + ": every convolution forced", std::to_string(forced) + " of " + std::to_string(convs));
            constexpr int64_t kBatch = 3;
            const std::vector<float> x = rng.uniform(kBatch * kChainC * kChainHW * kChainHW, -kInputRange, kInputRange);
            auto out = f->run({{"x", ops_test::encode(x, t)}}, kBatch);
            checkNorm(fl + " y", ops_test::decode(out.at("y").data, out.at("y").dtype), viewChainRef(m, x, kBatch), tol);
          }
        }
        const BufferPlan& plan = e->bufferPlan();
        ops_test::record(planIsValid(plan), label + " buffer plan valid", std::to_string(plan.totalBytes) + " B arena");
      });
    }
  }
}

}  // namespace engine_test
