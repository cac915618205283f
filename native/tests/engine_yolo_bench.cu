// A YOLOv8n-shaped network (Ultralytics yolov8n.yaml: backbone, neck, Detect head with its DFL
// and box decode, 640x640, 80 classes) with random weights, built through INetwork, to time the
// engine on real layer shapes: build time, forward median (CUDA graph replay, ops only and with
// the input/output copies), images/s, device memory, per fp32/fp16, batch 1/32 and layout mode;
// then a per-layer profile of fp16 batch 1 and the agreement of fp16 with fp32 outputs. Random
// weights are fine for speed (it does not depend on values); the accuracy of the real model is
// checked elsewhere (the CPU backend against the official ONNX export).
//
// Run: engine_test --bench-only n|x (native/tests/engine_test.sh).
#include <algorithm>
#include <cmath>
#include <chrono>
#include <deque>
#include <map>

#include "cuda/engine_build.h"
#include "engine_test_util.h"

namespace engine_test {
namespace {

using namespace netdef;
using namespace netdef::cuda;

constexpr int64_t kImage = 640, kClasses = 80, kRegMax = 16, kSides = 4, kMinBoxHidden = 64, kClassCap = 100;
constexpr int64_t kStrides[] = {8, 16, 32};
constexpr int64_t kChannelAlign = 8;
constexpr int kProfileIterations = 20;
constexpr size_t kTopLayers = 12;
constexpr double kBytesPerMiB = 1024.0 * 1024.0;

// Ultralytics' scale table: depth multiple, width multiple, max channels.
struct Scale {
  const char* name;
  double depth, width;
  int64_t maxChannels;
  int64_t channels(int64_t c) const {
    return static_cast<int64_t>(std::ceil(static_cast<double>(std::min(c, maxChannels)) * width / kChannelAlign)) * kChannelAlign;
  }
  int repeats(int n) const { return n > 1 ? std::max(static_cast<int>(std::lround(n * depth)), 1) : n; }
};
constexpr Scale kScales[] = {{"n", 0.33, 0.25, 1024}, {"x", 1.00, 1.25, 512}};

class YoloBuilder {
 public:
  YoloBuilder(const Scale& scale, DType t, uint32_t seed) : scale_(scale), t_(t), rng_(seed) {}

  std::unique_ptr<CudaEngine> build(int64_t batch, const LayoutMode* mode) {
    CudaNetwork net;
    net_ = &net;
    const Scale& k = scale_;
    ITensor* x = net.addInput("images", t_, Dims{{ir::kBatch, 3, kImage, kImage}});
    ITensor* p1 = conv(x, k.channels(64), 3, 2, "/model.0");
    ITensor* p2 = conv(p1, k.channels(128), 3, 2, "/model.1");
    ITensor* c2 = c2f(p2, k.channels(128), k.repeats(3), true, "/model.2");
    ITensor* p3 = c2f(conv(c2, k.channels(256), 3, 2, "/model.3"), k.channels(256), k.repeats(6), true, "/model.4");
    ITensor* p4 = c2f(conv(p3, k.channels(512), 3, 2, "/model.5"), k.channels(512), k.repeats(6), true, "/model.6");
    ITensor* p5 = sppf(c2f(conv(p4, k.channels(1024), 3, 2, "/model.7"), k.channels(1024), k.repeats(3), true, "/model.8"), "/model.9");
    ITensor* h12 = c2f(concat({upsample(p5, "/model.10"), p4}, "/model.11"), k.channels(512), k.repeats(3), false, "/model.12");
    ITensor* h15 = c2f(concat({upsample(h12, "/model.13"), p3}, "/model.14"), k.channels(256), k.repeats(3), false, "/model.15");
    ITensor* h18 = c2f(concat({conv(h15, k.channels(256), 3, 2, "/model.16"), h12}, "/model.17"), k.channels(512), k.repeats(3), false, "/model.18");
    ITensor* h21 = c2f(concat({conv(h18, k.channels(512), 3, 2, "/model.19"), p5}, "/model.20"), k.channels(1024), k.repeats(3), false, "/model.21");
    net.markOutput(*detect({h15, h18, h21}, "/model.22"), "output0");
    BuildOptions o;
    o.minBatch = o.optBatch = o.maxBatch = batch;
    const std::string label = std::string("yolov8") + scale_.name + " " + ops_test::typeName(t_) + " b" + std::to_string(batch);
    return buildFromNetwork(net, o, [&](int done, int total, const std::string& layer) {
      std::snprintf(crashContext(), 256, "bench %s: tuned %d/%d, last %s", label.c_str(), done, total, layer.c_str());
    }, mode);
  }

 private:
  const std::vector<uint8_t>& keep(std::vector<float> v) {
    held_.push_back(ops_test::encode(v, t_));
    return held_.back();
  }
  ITensor* name(ILayer* l, const std::string& n) {
    l->setName(n);
    return l->output(0);
  }
  ITensor* conv2d(ITensor* x, int64_t out, int64_t k, int64_t s, bool bias, const std::string& n) {
    const int64_t in = x->dims().d[1], fanIn = in * k * k;
    const auto& w = keep(heWeights(rng_, out * fanIn, fanIn));
    const auto& b = keep(rng_.uniform(out, -0.1f, 0.1f));
    return name(net_->addConvolution(*x, out, convParams(k, s, k / 2, 1), weights(n + ".w", t_, w), bias ? weights(n + ".b", t_, b) : Weights{}), n);
  }
  ITensor* conv(ITensor* x, int64_t out, int64_t k, int64_t s, const std::string& n) {
    return name(net_->addActivation(*conv2d(x, out, k, s, true, n + "/conv/Conv"), ActivationType::Silu), n + "/act/Mul");
  }
  ITensor* slice(ITensor* x, int64_t axis, int64_t from, int64_t count, const std::string& n) {
    std::vector<int64_t> start(x->dims().d.size(), 0), size = x->dims().d, stride(start.size(), 1);
    start[axis] = from;
    size[axis] = count;
    return name(net_->addSlice(*x, Dims{start}, Dims{size}, Dims{stride}), n);
  }
  ITensor* concat(const std::vector<ITensor*>& xs, const std::string& n, int axis = 1) {
    return name(net_->addConcatenation(xs, axis), n + "/Concat");
  }
  ITensor* upsample(ITensor* x, const std::string& n) { return name(net_->addResize(*x, {1, 1, 2, 2}), n + "/Resize"); }
  ITensor* c2f(ITensor* x, int64_t out, int n, bool shortcut, const std::string& p) {
    const int64_t c = out / 2;
    ITensor* y = conv(x, 2 * c, 1, 1, p + "/cv1");
    std::vector<ITensor*> parts = {slice(y, 1, 0, c, p + "/Split/0"), slice(y, 1, c, c, p + "/Split/1")};
    for (int i = 0; i < n; ++i) {
      const std::string m = p + "/m." + std::to_string(i);
      ITensor* z = conv(conv(parts.back(), c, 3, 1, m + "/cv1"), c, 3, 1, m + "/cv2");
      if (shortcut) z = name(net_->addElementWise(*parts.back(), *z, ElementWiseOperation::Sum), m + "/Add");
      parts.push_back(z);
    }
    return conv(concat(parts, p), out, 1, 1, p + "/cv2");
  }
  ITensor* sppf(ITensor* x, const std::string& p) {
    const int64_t c = x->dims().d[1] / 2;
    std::vector<ITensor*> parts = {conv(x, c, 1, 1, p + "/cv1")};
    for (int i = 0; i < 3; ++i) {
      parts.push_back(name(net_->addPooling(*parts.back(), PoolingParams{{5, 5}, {1, 1}, {2, 2}, {2, 2}}, PoolingType::Max),
                           p + "/m_" + std::to_string(i)));
    }
    return conv(concat(parts, p), x->dims().d[1], 1, 1, p + "/cv2");
  }
  ITensor* reshape(ITensor* x, std::vector<int64_t> d, const std::string& n) { return name(net_->addShuffle(*x, Dims{d}, {}), n); }
  ITensor* constant(std::vector<float> v, std::vector<int64_t> d, const std::string& n) {
    return name(net_->addConstant(Dims{d}, weights(n, t_, keep(std::move(v)))), n);
  }
  ITensor* binary(ITensor* a, ITensor* b, ElementWiseOperation op, const std::string& n) {
    return name(net_->addElementWise(*a, *b, op), n);
  }

  ITensor* detect(const std::vector<ITensor*>& features, const std::string& p) {
    const int64_t c0 = features[0]->dims().d[1];
    const int64_t no = kClasses + kRegMax * kSides, clsHidden = std::max(c0, std::min(kClasses, kClassCap));
    const int64_t boxHidden = std::max({kRegMax, c0 / kSides, kMinBoxHidden});
    std::vector<ITensor*> flat;
    std::vector<float> points, strides;
    for (size_t i = 0; i < features.size(); ++i) {
      const std::string b = p + "/cv2." + std::to_string(i), c = p + "/cv3." + std::to_string(i);
      ITensor* box = conv2d(conv(conv(features[i], boxHidden, 3, 1, b + ".0"), boxHidden, 3, 1, b + ".1"), kRegMax * kSides, 1, 1, true, b + ".2");
      ITensor* cls = conv2d(conv(conv(features[i], clsHidden, 3, 1, c + ".0"), clsHidden, 3, 1, c + ".1"), kClasses, 1, 1, true, c + ".2");
      ITensor* level = concat({box, cls}, p + "/level" + std::to_string(i));
      const int64_t h = level->dims().d[2], w = level->dims().d[3];
      flat.push_back(reshape(level, {ir::kBatch, no, h * w}, p + "/Reshape_" + std::to_string(i)));
      for (int64_t y = 0; y < h; ++y)
        for (int64_t xx = 0; xx < w; ++xx) strides.push_back(static_cast<float>(kStrides[i]));
    }
    const int64_t anchors = static_cast<int64_t>(strides.size());
    points.resize(2 * anchors);
    for (size_t i = 0, k = 0; i < features.size(); ++i) {
      const int64_t h = kImage / kStrides[i], w = h;
      for (int64_t y = 0; y < h; ++y)
        for (int64_t xx = 0; xx < w; ++xx, ++k) {
          points[k] = static_cast<float>(xx) + 0.5f;
          points[anchors + k] = static_cast<float>(y) + 0.5f;
        }
    }
    ITensor* all = concat(flat, p + "/Concat_flat", 2);
    ITensor* box = slice(all, 1, 0, kRegMax * kSides, p + "/Split/0");
    ITensor* cls = slice(all, 1, kRegMax * kSides, kClasses, p + "/Split/1");
    ITensor* bins = name(net_->addShuffle(*box, Dims{{ir::kBatch, kSides, kRegMax, anchors}}, {0, 2, 1, 3}), p + "/dfl/Transpose");
    ITensor* probs = name(net_->addSoftmax(*bins, 1), p + "/dfl/Softmax");
    std::vector<float> arange(kRegMax);
    for (int64_t i = 0; i < kRegMax; ++i) arange[i] = static_cast<float>(i);
    ITensor* dist = name(net_->addConvolution(*probs, 1, convParams(1, 1, 0, 1), weights(p + ".dfl.w", t_, keep(arange)), Weights{}),
                         p + "/dfl/conv/Conv");
    dist = reshape(dist, {ir::kBatch, kSides, anchors}, p + "/dfl/Reshape");
    ITensor* lt = slice(dist, 1, 0, 2, p + "/Split_1/0");
    ITensor* rb = slice(dist, 1, 2, 2, p + "/Split_1/1");
    ITensor* anchor = constant(points, {1, 2, anchors}, p + "/anchors");
    ITensor* x1y1 = binary(anchor, lt, ElementWiseOperation::Sub, p + "/Sub");
    ITensor* x2y2 = binary(anchor, rb, ElementWiseOperation::Sum, p + "/Add");
    ITensor* centre = binary(binary(x1y1, x2y2, ElementWiseOperation::Sum, p + "/Add_1"), constant({2}, {1, 1, 1}, p + "/two"),
                             ElementWiseOperation::Div, p + "/Div");
    ITensor* size = binary(x2y2, x1y1, ElementWiseOperation::Sub, p + "/Sub_1");
    ITensor* xywh = binary(concat({centre, size}, p + "/Concat_box"), constant(strides, {1, 1, anchors}, p + "/strides"),
                           ElementWiseOperation::Prod, p + "/Mul");
    ITensor* scores = name(net_->addActivation(*cls, ActivationType::Sigmoid), p + "/Sigmoid");
    return concat({xywh, scores}, p + "/Concat_out");
  }

  Scale scale_;
  DType t_;
  ops_test::Rng rng_;
  CudaNetwork* net_ = nullptr;
  std::deque<std::vector<uint8_t>> held_;  // deque: references stay valid as it grows
};

struct Result {
  std::vector<float> output;
};

void profileTop(CudaEngine& e, int64_t batch, const std::string& label) {
  e.profile(batch, kProfileIterations);
  std::vector<LayerInfo> layers = e.layers();
  std::map<std::string, std::pair<double, int>> byKind;
  double total = 0;
  for (const LayerInfo& l : layers) {
    if (l.timeMs <= 0) continue;
    byKind[l.kind].first += l.timeMs;
    byKind[l.kind].second += 1;
    total += l.timeMs;
  }
  std::sort(layers.begin(), layers.end(), [](const LayerInfo& a, const LayerInfo& b) { return a.timeMs > b.timeMs; });
  std::printf("  profile %s (each layer replayed alone in a CUDA graph): sum %.3f ms\n", label.c_str(), total);
  for (const auto& [kind, v] : byKind) std::printf("    %-16s %8.3f ms  %3d layers\n", kind.c_str(), v.first, v.second);
  for (size_t i = 0; i < std::min(kTopLayers, layers.size()); ++i) {
    std::printf("    %-34s %8.4f ms  %s\n", layers[i].name.c_str(), layers[i].timeMs, layers[i].kernel.c_str());
  }
}

struct BenchConfig {
  DType dtype;
  int64_t batch;
  LayoutMode mode;
  bool profile;
};

}  // namespace

void runYoloBench(const std::string& scaleName) {
  const Scale* scale = nullptr;
  for (const Scale& k : kScales)
    if (scaleName == k.name) scale = &k;
  if (!scale) {
    ops_test::record(false, "bench", "unknown scale '" + scaleName + "' (n or x)");
    return;
  }
  const bool nano = std::string(scale->name) == "n";
  const LayoutMode rm = LayoutMode::kRowMajor, cl = LayoutMode::kChannelsLastHalf;
  std::vector<BenchConfig> configs;
  if (nano) {
    configs = {{DType::Float16, 1, rm, false},  {DType::Float16, 1, cl, true},   {DType::Float16, 32, rm, true},
               {DType::Float16, 32, cl, true},  {DType::Float32, 1, rm, false},  {DType::Float32, 32, rm, false}};
  } else {
    configs = {{DType::Float16, 1, cl, false}, {DType::Float16, 32, rm, false}, {DType::Float16, 32, cl, true}};
  }
  std::printf("\nYOLOv8%s-shaped network, %lldx%lld, random weights; forward = median CUDA graph replay\n", scale->name,
              static_cast<long long>(kImage), static_cast<long long>(kImage));
  std::printf("  %-5s %-5s %-20s %8s %11s %11s %10s %9s\n", "dtype", "batch", "layout", "build s", "fwd ms", "+copies ms", "img/s", "mem MiB");
  ops_test::Rng rng(5);
  const std::vector<float> image = rng.uniform(3 * kImage * kImage, 0.0f, 1.0f);
  std::map<std::string, std::vector<float>> outputs;
  for (const BenchConfig& c : configs) {
    const std::string label = std::string("yolov8") + scale->name + " " + ops_test::typeName(c.dtype) + " b" + std::to_string(c.batch) +
                              " " + layoutModeName(c.mode);
    ops_test::runCase("bench " + label, [&] {
      YoloBuilder builder(*scale, c.dtype, 1);  // same seed: the same weights in every engine
      const auto start = std::chrono::steady_clock::now();
      auto e = builder.build(c.batch, &c.mode);
      const double buildS = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const float ms = e->timeForward(c.batch, false), withCopies = e->timeForward(c.batch, true);
      std::printf("  %-5s %-5lld %-20s %8.1f %11.3f %11.3f %10.0f %9.0f\n", ops_test::typeName(c.dtype), static_cast<long long>(c.batch),
                  layoutModeName(c.mode), buildS, ms, withCopies, 1000.0 * c.batch / ms, e->deviceMemoryBytes() / kBytesPerMiB);
      if (c.batch == 1) {
        auto out = e->run({{"images", ops_test::encode(image, c.dtype)}}, 1);
        outputs[label] = ops_test::decode(out.at("output0").data, out.at("output0").dtype);
      }
      if (c.profile) profileTop(*e, c.batch, label);
    });
  }
  const std::string ref = std::string("yolov8") + scale->name + " f32 b1 row-major";
  for (const auto& [label, out] : outputs) {
    if (!outputs.count(ref) || label == ref) continue;
    checkNorm("bench: " + label + " output0 vs f32", out, toDouble(outputs.at(ref)), 5e-2);
  }
}

}  // namespace engine_test
