// Host-only test of the Detect-head fusion (detect_decode_pass.h) on a small YOLOv8 head recorded
// through CudaNetwork as the replay records Ultralytics' graph (3 levels of 4x4, 2x2, 1x1 made by
// 1x1 convolutions, 16 DFL bins, 8 classes):
//  - all float16 with the output Cast to float32, a float32 decode (the fp16-fp32-decode preset:
//    Casts after the DFL and the sigmoid), and all float32: one DetectDecode op named
//    /model.22/DetectDecode after the region, reading the three levels, the anchor points and the
//    strides and writing the region's output; every op of the region fused into it; the float16
//    rounding flags as the policy stores values; the DFL weights, bins, classes and divisor taken over;
//  - channels-last mode: the levels stay NHWC and nothing is reformatted;
//  - near misses left unfused: an intermediate that is a network output, Sub with its operands
//    swapped, a decode mixing dtypes, another transpose.
// Built and run by scripts/native-host-tests.sh (g++, CUDA headers only).
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "cuda/cuda_network.h"
#include "cuda/fuse_pass.h"
#include "cuda/layout_pass.h"
#include "host_check.h"

namespace {

using namespace netdef;
using namespace netdef::cuda;
using host_check::check;
using host_check::opNamed;

constexpr int64_t kBins = 16, kSides = 4, kClasses = 8, kNo = kSides * kBins + kClasses, kFeatures = 8;
const int64_t kLevels[3] = {4, 2, 1};
constexpr int64_t kAnchors = 16 + 4 + 1;
constexpr int64_t kImage = 32;

enum class Variant { kNone, kIntermediateOutput, kSwappedSub, kMixedDecode, kDflBias };

struct Policy {
  DType head = DType::Float16;    // level convolutions, logits, softmax, DFL
  DType decode = DType::Float16;  // anchor arithmetic, boxes
  DType concat = DType::Float16;  // the output concat
  Variant variant = Variant::kNone;
};

// Constant storage kept alive for the recording (CudaNetwork copies at record time; kept anyway).
struct Store {
  std::vector<std::vector<float>> f32;
  std::vector<std::vector<uint16_t>> f16;
  const void* values(const std::vector<float>& v, DType t) {
    if (t == DType::Float32) return f32.emplace_back(v).data();
    std::vector<uint16_t> h;
    for (float x : v) h.push_back(halfBits(x));
    return f16.emplace_back(std::move(h)).data();
  }
  // Exact for the small integers and halves used here.
  static uint16_t halfBits(float x) {
    if (x == 0.0f) return 0;
    uint32_t b;
    std::memcpy(&b, &x, sizeof b);
    const uint32_t sign = (b >> 16) & 0x8000u, exp = ((b >> 23) & 0xFFu) - 127 + 15, mant = (b >> 13) & 0x3FFu;
    return static_cast<uint16_t>(sign | (exp << 10) | mant);
  }
};

class HeadBuilder {
 public:
  explicit HeadBuilder(const Policy& p) : p_(p) {}

  Program build() {
    ITensor* x = net_.addInput("features", p_.head, Dims{{ir::kBatch, kFeatures, kLevels[0], kLevels[0]}});
    ITensor* stem = conv(*x, kFeatures, "stem");
    std::vector<ITensor*> flat;
    for (int l = 0; l < 3; ++l) {
      ITensor* level = levelConv(*stem, l);
      const int64_t hw = kLevels[l] * kLevels[l];
      flat.push_back(shuffle(*level, {ir::kBatch, kNo, hw}, {}, "/model.22/Reshape" + suffix(l)));
    }
    ITensor* all = named(net_.addConcatenation(flat, 2), "/model.22/Concat_3");
    ITensor* box = slice(*all, {0, 0, 0}, {ir::kBatch, kSides * kBins, kAnchors}, "/model.22/Split/slice_0");
    ITensor* cls = slice(*all, {0, kSides * kBins, 0}, {ir::kBatch, kClasses, kAnchors}, "/model.22/Split/slice_1");
    ITensor* bins = shuffle(*box, {ir::kBatch, kSides, kBins, kAnchors}, {}, "/model.22/dfl/Reshape");
    ITensor* t = shuffle(*bins, {}, {0, 2, 1, 3}, "/model.22/dfl/Transpose");
    ITensor* probs = named(net_.addSoftmax(*t, 1), "/model.22/dfl/Softmax");
    if (p_.variant == Variant::kIntermediateOutput) net_.markOutput(*probs, "probs");
    std::vector<float> arange(kBins);
    for (int64_t r = 0; r < kBins; ++r) arange[r] = static_cast<float>(r);
    const Weights bias = p_.variant == Variant::kDflBias ? Weights{"model.22.dfl.conv.bias", p_.head, store_.values({1.0f}, p_.head), 1} : Weights{};
    ILayer* dfl = net_.addConvolution(*probs, 1, ConvolutionParams{{1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, 1},
                                      Weights{"model.22.dfl.conv.weight", p_.head, store_.values(arange, p_.head), kBins}, bias);
    ITensor* dist = shuffle(*named(dfl, "/model.22/dfl/conv/Conv"), {ir::kBatch, kSides, kAnchors}, {}, "/model.22/dfl/Reshape_1");
    ITensor* lt = cast(slice(*dist, {0, 0, 0}, {ir::kBatch, 2, kAnchors}, "/model.22/Split_1/slice_0"), p_.decode, "/model.22/Split_1/Cast_0");
    ITensor* rb = cast(slice(*dist, {0, 2, 0}, {ir::kBatch, 2, kAnchors}, "/model.22/Split_1/slice_1"), p_.decode, "/model.22/Split_1/Cast_1");
    std::vector<float> points(2 * kAnchors), strides(kAnchors);
    for (int64_t a = 0; a < kAnchors; ++a) points[a] = points[kAnchors + a] = 0.5f + static_cast<float>(a % 4), strides[a] = 8;
    ITensor* anchors = constant({1, 2, kAnchors}, points, "/model.22/Constant");
    ITensor* x1y1 = p_.variant == Variant::kSwappedSub ? eltwise(*lt, *anchors, ElementWiseOperation::Sub, "/model.22/Sub")
                                                        : eltwise(*anchors, *lt, ElementWiseOperation::Sub, "/model.22/Sub");
    ITensor* x2y2 = eltwise(*anchors, *rb, ElementWiseOperation::Sum, "/model.22/Add");
    ITensor* sum = eltwise(*x1y1, *x2y2, ElementWiseOperation::Sum, "/model.22/Add_1");
    ITensor* two = shuffle(*constant({1}, {2.0f}, "/model.22/Constant_1"), {1, 1, 1}, {}, "/model.22/Div/broadcast_1");
    ITensor* centre = eltwise(*sum, *two, ElementWiseOperation::Div, "/model.22/Div");
    ITensor* size = eltwise(*x2y2, *x1y1, ElementWiseOperation::Sub, "/model.22/Sub_1");
    if (p_.variant == Variant::kMixedDecode) size = cast(size, DType::Float16, "/model.22/Sub_1/Cast"), centre = cast(centre, DType::Float16, "/model.22/Div/Cast");
    ITensor* xywh = named(net_.addConcatenation({centre, size}, 1), "/model.22/Concat_4");
    ITensor* st = shuffle(*constant({1, kAnchors}, strides, "/model.22/Constant_2"), {1, 1, kAnchors}, {}, "/model.22/Mul/broadcast_1");
    if (p_.variant == Variant::kMixedDecode) st = cast(st, DType::Float16, "/model.22/Mul/Cast");
    ITensor* boxes = cast(eltwise(*xywh, *st, ElementWiseOperation::Prod, "/model.22/Mul"), p_.concat, "/model.22/Mul/Cast_out");
    ITensor* scores = cast(named(net_.addActivation(*cls, ActivationType::Sigmoid), "/model.22/Sigmoid"), p_.concat, "/model.22/Sigmoid/Cast");
    ITensor* out = named(net_.addConcatenation({boxes, scores}, 1), "/model.22/Concat_5");
    net_.markOutput(*cast(out, DType::Float32, "/model.22/Concat_5/Cast"), "output0");
    return runFusionPasses(net_.take());
  }

 private:
  static std::string suffix(int l) { return l ? "_" + std::to_string(l) : ""; }
  ITensor* named(ILayer* l, const std::string& name) {
    l->setName(name);
    return l->output(0);
  }
  ITensor* levelConv(ITensor& x, int l) {
    ITensor* in = &x;
    for (int k = 0; k < l; ++k) {
      PoolingParams pp{{2, 2}, {2, 2}, {0, 0}, {0, 0}};
      in = named(net_.addPooling(*in, pp, PoolingType::Max), "/model.22/pool" + std::to_string(l) + "_" + std::to_string(k));
    }
    return conv(*in, kNo, "/model.22/Concat" + suffix(l));
  }
  ITensor* conv(ITensor& x, int64_t k, const std::string& name) {
    std::vector<float> w(k * kFeatures, 0.0f), b(k, 0.0f);
    ILayer* c = net_.addConvolution(x, k, ConvolutionParams{{1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, 1},
                                    Weights{name + ".w", p_.head, store_.values(w, p_.head), k * kFeatures},
                                    Weights{name + ".b", p_.head, store_.values(b, p_.head), k});
    return named(c, name);
  }
  ITensor* shuffle(ITensor& x, std::vector<int64_t> reshape, std::vector<int> perm, const std::string& name) {
    return named(net_.addShuffle(x, Dims{std::move(reshape)}, perm), name);
  }
  ITensor* slice(ITensor& x, std::vector<int64_t> start, std::vector<int64_t> size, const std::string& name) {
    return named(net_.addSlice(x, Dims{std::move(start)}, Dims{std::move(size)}, Dims{{1, 1, 1}}), name);
  }
  ITensor* eltwise(ITensor& a, ITensor& b, ElementWiseOperation op, const std::string& name) { return named(net_.addElementWise(a, b, op), name); }
  ITensor* cast(ITensor* x, DType to, const std::string& name) { return x->type() == to ? x : named(net_.addCast(*x, to), name); }
  ITensor* constant(std::vector<int64_t> dims, const std::vector<float>& v, const std::string& name) {
    return named(net_.addConstant(Dims{std::move(dims)}, Weights{name, p_.decode, store_.values(v, p_.decode), static_cast<int64_t>(v.size())}), name);
  }

  Policy p_;
  CudaNetwork net_;
  Store store_;
};

const char* const kDecode = "/model.22/DetectDecode";

void fused(const std::string& label, const Policy& policy, bool halfSoftmax, bool halfDistance, bool halfDecode, bool halfBox, bool halfScore) {
  const Program p = HeadBuilder(policy).build();
  const OpDef* d = opNamed(p, kDecode);
  check(d && std::holds_alternative<DetectDecodeAttrs>(d->attrs), label + ": one DetectDecode op");
  if (!d || !std::holds_alternative<DetectDecodeAttrs>(d->attrs)) return;
  const auto at = static_cast<int32_t>(d - p.ops.data());
  const auto& a = std::get<DetectDecodeAttrs>(d->attrs);
  check(a.levels == 3 && a.bins == kBins && a.classes == kClasses && a.divisor == 2.0f, label + ": levels, bins, classes, divisor");
  check(a.dflWeight >= 0 && p.weights[a.dflWeight].name == "model.22.dfl.conv.weight", label + ": the DFL weights are the convolution's");
  check(a.halfSoftmax == halfSoftmax && a.halfDistance == halfDistance && a.halfDecode == halfDecode && a.halfBox == halfBox &&
            a.halfScore == halfScore,
        label + ": float16 rounding flags");
  bool levelsOk = d->inputs.size() == 5;
  for (int l = 0; levelsOk && l < 3; ++l) levelsOk = p.tensors[d->inputs[l]].dims == std::vector<int64_t>{ir::kBatch, kNo, kLevels[l], kLevels[l]};
  check(levelsOk && p.tensors[d->inputs[3]].constant >= 0 && p.tensors[d->inputs[4]].constant >= 0, label + ": reads the levels, anchor points and strides");
  check(d->outputs.size() == 1 && p.outputs.size() == 1 && d->outputs[0] == p.outputs[0].tensor, label + ": writes the network output");
  size_t fusedCount = 0, after = 0;
  bool allBefore = true;
  for (size_t i = 0; i < p.ops.size(); ++i) {
    if (p.ops[i].fusedInto == at) {
      ++fusedCount;
      allBefore = allBefore && static_cast<int32_t>(i) < at;
    }
    if (static_cast<int32_t>(i) > at) ++after;
  }
  const size_t regionOps = p.ops.size() - 8;  // all but the stem, the pools (0 + 1 + 2), the three level convs and the decode
  check(fusedCount == regionOps && allBefore && after == 0,
        label + ": " + std::to_string(fusedCount) + " ops fused into it, all before it, nothing after");
  const OpDef* dfl = opNamed(p, "/model.22/dfl/conv/Conv");
  check(dfl && dfl->fusedInto == at && dfl->inputs.empty(), label + ": the DFL convolution runs nothing");
  const OpDef* sub = opNamed(p, "/model.22/Sub");
  check(dfl && sub && dfl->dtype == policy.head && sub->dtype == policy.decode, label + ": fused ops keep the dtypes they were recorded with");

  for (LayoutMode mode : {LayoutMode::kRowMajor, LayoutMode::kChannelsLastHalf}) {
    const Program laid = assignLayouts(p, mode);
    size_t reformats = 0;
    for (const OpDef& op : laid.ops) reformats += std::holds_alternative<ReformatAttrs>(op.attrs) ? 1 : 0;
    const OpDef* ld = opNamed(laid, kDecode);
    const bool nhwc = mode == LayoutMode::kChannelsLastHalf && policy.head == DType::Float16;
    bool levelsLaid = ld != nullptr;
    for (int l = 0; levelsLaid && l < 3; ++l) levelsLaid = laid.tensors[ld->inputs[l]].layout == (nhwc ? Layout::kNhwc : Layout::kRowMajor);
    // Channels-last: only the network input is reformatted (into the stem's NHWC).
    check(levelsLaid && reformats == (nhwc ? 1u : 0u), label + " " + layoutModeName(mode) + ": the decode reads the levels as they lie (" +
                                                          std::to_string(reformats) + " reformats)");
    const OpDef* lsm = opNamed(laid, "/model.22/dfl/Softmax");
    check(lsm && lsm->fusedInto >= 0 && laid.ops[lsm->fusedInto].name == kDecode, label + " " + layoutModeName(mode) + ": fused ops still point at it");
  }
}

void unfused(const std::string& label, Variant v) {
  Policy policy;
  policy.variant = v;
  if (v == Variant::kMixedDecode) policy.decode = DType::Float32;
  const Program p = HeadBuilder(policy).build();
  check(opNamed(p, kDecode) == nullptr, label + ": left unfused");
  const OpDef* sm = opNamed(p, "/model.22/dfl/Softmax");
  check(sm && sm->fusedInto < 0, label + ": the softmax still runs");
}

}  // namespace

int main() {
  try {
    Policy half;
    half.concat = DType::Float16;
    fused("all float16", half, true, true, true, true, true);
    Policy mixed;
    mixed.decode = mixed.concat = DType::Float32;
    fused("float32 decode", mixed, true, true, false, false, true);
    Policy full;
    full.head = full.decode = full.concat = DType::Float32;
    fused("all float32", full, false, false, false, false, false);
    unfused("softmax output also a network output", Variant::kIntermediateOutput);
    unfused("Sub(lt, anchors)", Variant::kSwappedSub);
    unfused("a decode mixing float32 and float16", Variant::kMixedDecode);
    unfused("a DFL convolution with a bias", Variant::kDflBias);
  } catch (const Error& e) {
    check(false, std::string("threw: ") + e.what());
  }
  return host_check::finish();
}
