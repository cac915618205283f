// Detect-head fusion: see detect_decode_pass.h.
#include "detect_decode_pass.h"

#include <cstring>
#include <optional>
#include <set>

#include "ops/detect_decode.cuh"
#include "weight_values.h"

namespace netdef::cuda {
namespace {

constexpr int64_t kSides = ops::kDetectBoxSides;
constexpr int64_t kCornerSides = kSides / 2;  // (left, top) then (right, bottom)
const std::vector<int32_t> kDflTranspose{0, 2, 1, 3};
constexpr int32_t kChannelAxis = 1, kAnchorAxis = 2;

// Readers of every tensor, and its producer.
struct Graph {
  const Program& p;
  std::vector<std::vector<int32_t>> readers;
  std::vector<int32_t> producer;
  std::vector<bool> isOutput;

  explicit Graph(const Program& prog)
      : p(prog), readers(prog.tensors.size()), producer(prog.tensors.size(), -1), isOutput(prog.tensors.size(), false) {
    for (size_t i = 0; i < p.ops.size(); ++i) {
      if (p.ops[i].fusedInto >= 0) continue;
      for (int32_t t : p.ops[i].inputs) readers[t].push_back(static_cast<int32_t>(i));
      for (int32_t t : p.ops[i].outputs) producer[t] = static_cast<int32_t>(i);
    }
    for (const OutputDef& o : p.outputs) isOutput[o.tensor] = true;
  }

  const TensorDef& tensor(int32_t t) const { return p.tensors[t]; }
  bool half(int32_t t) const { return p.tensors[t].dtype == ir::DType::Float16; }
  // The one op reading t (-1 when none, several, or t is a network output).
  int32_t only(int32_t t) const { return readers[t].size() == 1 && !isOutput[t] ? readers[t][0] : -1; }
  template <typename A>
  const A* as(int32_t op) const { return op < 0 ? nullptr : std::get_if<A>(&p.ops[op].attrs); }
};

// One match attempt, starting from a Softmax; every check failing returns nothing.
class Matcher {
 public:
  Matcher(const Graph& g, int32_t softmax) : g_(g), softmax_(softmax) {}

  std::optional<DetectDecodeAttrs> run() {
    const auto* sm = g_.as<SoftmaxAttrs>(softmax_);
    if (!sm || sm->axis != kChannelAxis) return std::nullopt;
    if (!matchLogits() || !matchDistances() || !matchDecode() || !matchScores() || !matchOutput()) return std::nullopt;
    if (!closed()) return std::nullopt;
    return attrs_;
  }

  const std::set<int32_t>& region() const { return region_; }
  const std::vector<int32_t>& inputs() const { return inputs_; }
  int32_t output() const { return output_; }

 private:
  const OpDef& op(int32_t i) const { return g_.p.ops[i]; }
  const std::vector<int64_t>& dims(int32_t t) const { return g_.tensor(t).dims; }
  int32_t in(int32_t i, size_t k = 0) const { return op(i).inputs.size() > k ? op(i).inputs[k] : -1; }
  int32_t out(int32_t i) const { return op(i).outputs.empty() ? -1 : op(i).outputs[0]; }
  bool take(int32_t i) { return i >= 0 && region_.insert(i).second; }

  // Follows float Casts from t while t has one reader; `half` collects whether any tensor on the
  // way (t included) is float16. Returns the last tensor.
  int32_t throughCasts(int32_t t, bool& half) {
    half = half || g_.half(t);
    for (int32_t c = g_.only(t); g_.as<CastAttrs>(c) && isFloatDType(g_.tensor(out(c)).dtype); c = g_.only(t)) {
      take(c);
      t = out(c);
      half = half || g_.half(t);
    }
    return t;
  }
  // Walks reshape-only Shuffles (views) backwards from t while they are t's producers.
  int32_t backThroughReshapes(int32_t t) {
    for (int32_t s = g_.producer[t]; s >= 0; s = g_.producer[t]) {
      const auto* sh = g_.as<ShuffleAttrs>(s);
      if (!sh || !sh->permutation.empty()) break;
      take(s);
      t = in(s);
    }
    return t;
  }
  // The constant behind t (through reshape-only Shuffles), or -1.
  int32_t constantBehind(int32_t t) {
    t = backThroughReshapes(t);
    return g_.tensor(t).constant >= 0 ? t : -1;
  }
  float constantValue(int32_t t, int64_t i) const {
    const TensorDef& d = g_.tensor(t);
    const std::vector<uint8_t>& bytes = g_.p.weights[d.constant].bytes;
    const std::vector<uint8_t> f = convertValues(bytes.data() + i * static_cast<int64_t>(ops::elementBytes(d.dtype)), 1, d.dtype, ir::DType::Float32);
    float v = 0;
    std::memcpy(&v, f.data(), sizeof v);
    return v;
  }
  bool isSlice(int32_t s, int32_t from, int64_t channelStart, int64_t channels) const {
    const auto* a = g_.as<SliceAttrs>(s);
    if (!a || in(s) != from || a->start.size() != 3) return false;
    const std::vector<int64_t>& x = dims(from);
    return a->start == std::vector<int64_t>{0, channelStart, 0} && a->stride == std::vector<int64_t>{1, 1, 1} &&
           a->size[1] == channels && a->size[2] == x[2] && dims(out(s)) == std::vector<int64_t>{x[0], channels, x[2]};
  }
  bool isElementwise(int32_t e, ElementWiseOperation want) const {
    const auto* a = g_.as<ElementWiseAttrs>(e);
    return a && a->op == want && op(e).inputs.size() == 2;
  }

  // Softmax input <- transpose <- reshapes <- box slice <- concat of the levels' reshapes.
  bool matchLogits() {
    take(softmax_);
    const int32_t x = in(softmax_);
    const std::vector<int64_t>& sd = dims(x);
    if (sd.size() != 4 || sd[2] != kSides || !isFloatDType(g_.tensor(x).dtype)) return false;
    bins_ = sd[1];
    anchors_ = sd[3];
    if (bins_ > ops::kDetectDecodeMaxBins) return false;
    const int32_t transpose = g_.producer[x];
    const auto* tr = g_.as<ShuffleAttrs>(transpose);
    if (!tr || tr->permutation != kDflTranspose || g_.only(x) != softmax_ || !take(transpose)) return false;
    const int32_t box = backThroughReshapes(in(transpose));
    const int32_t boxSlice = g_.producer[box];
    if (!g_.as<SliceAttrs>(boxSlice)) return false;
    flat_ = in(boxSlice);
    const std::vector<int64_t>& fd = dims(flat_);
    if (fd.size() != 3 || fd[2] != anchors_ || !isSlice(boxSlice, flat_, 0, kSides * bins_) || !take(boxSlice)) return false;
    classes_ = fd[1] - kSides * bins_;
    logitsType_ = g_.tensor(flat_).dtype;
    if (g_.tensor(x).dtype != logitsType_) return false;
    return matchLevels();
  }

  bool matchLevels() {
    const int32_t concat = g_.producer[flat_];
    const auto* c = g_.as<ConcatAttrs>(concat);
    if (!c || c->axis != kAnchorAxis || !take(concat)) return false;
    const std::vector<int64_t>& fd = dims(flat_);
    int64_t total = 0;
    for (int32_t part : op(concat).inputs) {
      const int32_t level = backThroughReshapes(part);
      const std::vector<int64_t>& ld = dims(level);
      if (level == part || ld.size() != 4 || ld[0] != fd[0] || ld[1] != fd[1] || g_.tensor(level).dtype != logitsType_) return false;
      total += ld[2] * ld[3];
      inputs_.push_back(level);
    }
    return total == anchors_ && !inputs_.empty() && inputs_.size() <= static_cast<size_t>(ops::kDetectDecodeMaxLevels);
  }

  // Softmax -> (Casts) -> DFL convolution -> reshapes -> (Casts) -> the two corner slices.
  bool matchDistances() {
    bool halfProbs = false;
    const int32_t probs = throughCasts(out(softmax_), halfProbs);
    const int32_t conv = g_.only(probs);
    const auto* cv = g_.as<ConvAttrs>(conv);
    if (!cv || cv->outChannels != 1 || cv->bias >= 0 || cv->activation != FusedActivation::kNone || cv->isInt8() || !take(conv)) return false;
    const ConvolutionParams& q = cv->params;
    for (int i = 0; i < 2; ++i) {
      if (q.kernel[i] != 1 || q.stride[i] != 1 || q.dilation[i] != 1 || q.prePadding[i] != 0 || q.postPadding[i] != 0) return false;
    }
    const WeightDef& w = g_.p.weights[cv->weight];
    if (q.groups != 1 || op(conv).inputs.size() != 1 || w.bytes.size() != static_cast<size_t>(bins_) * ops::elementBytes(w.dtype)) return false;
    attrs_.dflWeight = cv->weight;
    attrs_.halfSoftmax = halfProbs;
    // The convolution's [N, 1, 4, A] output, reshaped to [N, 4, A] (reshape-only Shuffles).
    int32_t d = out(conv);
    bool halfDist = g_.half(d);
    for (int32_t s = g_.only(d); g_.as<ShuffleAttrs>(s) && g_.as<ShuffleAttrs>(s)->permutation.empty(); s = g_.only(d)) {
      take(s);
      d = out(s);
    }
    d = throughCasts(d, halfDist);
    if (dims(d).size() != 3 || dims(d)[1] != kSides || dims(d)[2] != anchors_ || g_.readers[d].size() != 2 || g_.isOutput[d]) return false;
    int32_t corners[2] = {-1, -1};
    for (int32_t s : g_.readers[d]) {
      for (int k = 0; k < 2; ++k) {
        if (isSlice(s, d, k * kCornerSides, kCornerSides) && corners[k] < 0) corners[k] = s;
      }
    }
    if (corners[0] < 0 || corners[1] < 0 || !take(corners[0]) || !take(corners[1])) return false;
    lt_ = throughCasts(out(corners[0]), halfDist);
    rb_ = throughCasts(out(corners[1]), halfDist);
    attrs_.halfDistance = halfDist;
    return true;
  }

  // x1y1 = anchors - lt, x2y2 = anchors + rb, centre = (x1y1 + x2y2) / divisor, size = x2y2 - x1y1,
  // concat, times the strides: one dtype throughout.
  bool matchDecode() {
    const int32_t sub = g_.only(lt_), add = g_.only(rb_);
    if (!isElementwise(sub, ElementWiseOperation::Sub) || in(sub, 1) != lt_ || !isElementwise(add, ElementWiseOperation::Sum)) return false;
    if (in(add, 1) != rb_ || in(sub, 0) != in(add, 0) || !take(sub) || !take(add)) return false;
    anchorPoints_ = constantBehind(in(sub, 0));
    if (anchorPoints_ < 0 || elementCount(dims(anchorPoints_)) != kCornerSides * anchors_) return false;
    decodeType_ = g_.tensor(anchorPoints_).dtype;
    const int32_t x1y1 = out(sub), x2y2 = out(add);
    if (g_.readers[x1y1].size() != 2 || g_.readers[x2y2].size() != 2) return false;
    int32_t sum = -1, size = -1;
    for (int32_t r : g_.readers[x1y1]) {
      if (isElementwise(r, ElementWiseOperation::Sum) && in(r, 0) == x1y1 && in(r, 1) == x2y2) sum = r;
      if (isElementwise(r, ElementWiseOperation::Sub) && in(r, 0) == x2y2 && in(r, 1) == x1y1) size = r;
    }
    if (sum < 0 || size < 0 || !take(sum) || !take(size)) return false;
    const int32_t div = g_.only(out(sum));
    if (!isElementwise(div, ElementWiseOperation::Div) || in(div, 0) != out(sum) || !take(div)) return false;
    const int32_t divisor = constantBehind(in(div, 1));
    if (divisor < 0 || elementCount(dims(divisor)) != 1) return false;
    attrs_.divisor = constantValue(divisor, 0);
    if (attrs_.divisor == 0.0f) return false;
    const int32_t cat = g_.only(out(div));
    const auto* c = g_.as<ConcatAttrs>(cat);
    if (!c || c->axis != kChannelAxis || op(cat).inputs != std::vector<int32_t>{out(div), out(size)} || g_.only(out(size)) != cat || !take(cat)) {
      return false;
    }
    const int32_t mul = g_.only(out(cat));
    if (!isElementwise(mul, ElementWiseOperation::Prod) || in(mul, 0) != out(cat) || !take(mul)) return false;
    strides_ = constantBehind(in(mul, 1));
    if (strides_ < 0 || elementCount(dims(strides_)) != anchors_ || g_.tensor(strides_).dtype != decodeType_) return false;
    for (int32_t e : {sub, add, sum, div, size, cat, mul}) {
      if (g_.tensor(out(e)).dtype != decodeType_) return false;
    }
    attrs_.halfDecode = decodeType_ == ir::DType::Float16;
    boxes_ = out(mul);
    return true;
  }

  // cls slice -> (widening Cast) -> Sigmoid -> (Casts).
  bool matchScores() {
    int32_t cls = -1;
    for (int32_t s : g_.readers[flat_]) {
      if (!region_.count(s) && isSlice(s, flat_, kSides * bins_, classes_)) cls = s;
    }
    if (cls < 0 || g_.readers[flat_].size() != 2 || g_.isOutput[flat_] || !take(cls)) return false;
    bool halfOnTheWay = false;
    const int32_t logits = throughCasts(out(cls), halfOnTheWay);
    if (halfOnTheWay && !g_.half(flat_)) return false;  // a narrowing Cast of the float32 logits: not reproduced
    const int32_t sig = g_.only(logits);
    const auto* a = g_.as<ActivationAttrs>(sig);
    if (!a || a->type != ActivationType::Sigmoid || !take(sig)) return false;
    scores_ = out(sig);
    return true;
  }

  // Concat (axis 1) [boxes, scores] (each through Casts) -> (Casts) -> the output.
  bool matchOutput() {
    bool halfBox = false, halfScore = false;
    const int32_t boxes = throughCasts(boxes_, halfBox), scores = throughCasts(scores_, halfScore);
    const int32_t cat = g_.only(boxes);
    const auto* c = g_.as<ConcatAttrs>(cat);
    if (!c || c->axis != kChannelAxis || op(cat).inputs != std::vector<int32_t>{boxes, scores} || !take(cat)) return false;
    bool halfOut = false;
    output_ = out(cat);
    if (g_.readers[output_].size() == 1 && !g_.isOutput[output_]) output_ = throughCasts(output_, halfOut);
    halfOut = halfOut || g_.half(output_);
    const std::vector<int64_t>& od = dims(output_);
    if (od.size() != 3 || od[1] != kSides + classes_ || od[2] != anchors_) return false;
    attrs_.halfBox = halfBox || halfOut;
    attrs_.halfScore = halfScore || halfOut;
    attrs_.bins = bins_;
    attrs_.classes = classes_;
    attrs_.levels = static_cast<int32_t>(inputs_.size());
    inputs_.push_back(anchorPoints_);
    inputs_.push_back(strides_);
    return true;
  }

  // Every tensor the region writes, but its output, is read only inside it.
  bool closed() const {
    for (int32_t i : region_) {
      for (int32_t t : op(i).outputs) {
        if (t == output_) continue;
        if (g_.isOutput[t]) return false;
        for (int32_t r : g_.readers[t])
          if (!region_.count(r)) return false;
      }
    }
    return true;
  }

  const Graph& g_;
  int32_t softmax_;
  std::set<int32_t> region_;
  std::vector<int32_t> inputs_;
  DetectDecodeAttrs attrs_;
  int64_t bins_ = 0, anchors_ = 0, classes_ = 0;
  ir::DType logitsType_ = ir::DType::Float32, decodeType_ = ir::DType::Float32;
  int32_t flat_ = -1, lt_ = -1, rb_ = -1, anchorPoints_ = -1, strides_ = -1, boxes_ = -1, scores_ = -1, output_ = -1;
};

// The longest '/'-terminated prefix all names share ("/model.22/").
std::string commonScope(const Program& p, const std::set<int32_t>& ops) {
  std::string prefix = p.ops[*ops.begin()].name;
  for (int32_t i : ops) {
    const std::string& n = p.ops[i].name;
    size_t k = 0;
    while (k < prefix.size() && k < n.size() && prefix[k] == n[k]) ++k;
    prefix.resize(k);
  }
  const size_t slash = prefix.rfind('/');
  return slash == std::string::npos ? "" : prefix.substr(0, slash + 1);
}

// Inserts `op` at `at`; ops from there on move one place, and fusedInto indices follow them.
void insertOp(Program& p, size_t at, OpDef op) {
  for (OpDef& o : p.ops)
    if (o.fusedInto >= static_cast<int32_t>(at)) ++o.fusedInto;
  p.ops.insert(p.ops.begin() + static_cast<std::ptrdiff_t>(at), std::move(op));
}

}  // namespace

Program fuseDetectDecode(Program out) {
  for (size_t i = 0; i < out.ops.size(); ++i) {
    if (!std::holds_alternative<SoftmaxAttrs>(out.ops[i].attrs) || out.ops[i].fusedInto >= 0) continue;
    const Graph graph(out);
    Matcher m(graph, static_cast<int32_t>(i));
    const std::optional<DetectDecodeAttrs> attrs = m.run();
    if (!attrs) continue;
    const auto at = static_cast<int32_t>(*m.region().rbegin() + 1);
    OpDef fused;
    fused.name = commonScope(out, m.region()) + "DetectDecode";
    fused.inputs = m.inputs();
    fused.outputs = {m.output()};
    fused.attrs = *attrs;
    fused.dtype = out.tensors[fused.inputs[0]].dtype;  // the levels'; computed in float32, rounded as the policy stores
    insertOp(out, static_cast<size_t>(at), std::move(fused));
    for (int32_t r : m.region()) {
      OpDef& op = out.ops[r];  // before `at`: unmoved
      op.fusedInto = at;
      op.inputs.clear();
      op.outputs.clear();
    }
  }
  return out;
}

}  // namespace netdef::cuda
