// Channel-range views: see channel_views.h.
#include "channel_views.h"

#include <algorithm>

#include "ops/op_common.cuh"

namespace netdef::cuda {
namespace {

constexpr size_t kSpatialRank = 4;
constexpr int64_t kVectorBytes = 16;

class ViewPlanner {
 public:
  ViewPlanner(const Program& p, bool poolingViews) : p_(p), poolingViews_(poolingViews), consumers_(p.tensors.size()), producer_(p.tensors.size(), -1),
                                           isOutput_(p.tensors.size(), false), isBuffer_(p.tensors.size(), false) {
    r_.views.resize(p.tensors.size());
    r_.concatInPlace.resize(p.ops.size());
    for (size_t i = 0; i < p.ops.size(); ++i) {
      const OpDef& op = p.ops[i];
      if (op.fusedInto >= 0) continue;
      for (int32_t t : op.inputs) consumers_[t].push_back(static_cast<int32_t>(i));
      for (int32_t t : op.outputs) producer_[t] = static_cast<int32_t>(i);
    }
    for (const OutputDef& o : p.outputs) isOutput_[o.tensor] = true;
  }

  ChannelViews run() {
    for (size_t i = 0; i < p_.ops.size(); ++i) {
      if (const auto* c = std::get_if<ConcatAttrs>(&p_.ops[i].attrs); c && p_.ops[i].fusedInto < 0) concatParts(i, *c);
    }
    for (size_t i = 0; i < p_.ops.size(); ++i) {
      if (const auto* s = std::get_if<SliceAttrs>(&p_.ops[i].attrs); s && p_.ops[i].fusedInto < 0) sliceView(i, *s);
    }
    for (size_t i = 0; i < p_.ops.size(); ++i) {
      const OpDef& op = p_.ops[i];
      if (!std::holds_alternative<ConcatAttrs>(op.attrs) || op.fusedInto >= 0) continue;
      r_.concatInPlace[i].assign(op.inputs.size(), 0);
      if (!isBuffer_[op.outputs[0]]) continue;
      int64_t offset = 0;
      for (size_t k = 0; k < op.inputs.size(); ++k) {
        if (inPlace(op.inputs[k], op.outputs[0], offset)) {
          r_.concatInPlace[i][k] = 1;
          ++r_.inPlaceCount;
        }
        offset += p_.tensors[op.inputs[k]].dims[1];
      }
    }
    for (const ChannelView& v : r_.views) r_.viewCount += v.root >= 0 ? 1 : 0;
    return std::move(r_);
  }

 private:
  const TensorDef& t(int32_t i) const { return p_.tensors[i]; }

  // A plain activation: 4-D, in the arena, not an input, output or constant.
  bool plain(int32_t i) const {
    const TensorDef& d = t(i);
    return d.dims.size() == kSpatialRank && d.constant < 0 && !d.isInput && !isOutput_[i] && r_.views[i].root < 0 && !isBuffer_[i];
  }

  // Every op that reads `x` takes a strided input.
  bool readsStrided(int32_t x) const {
    for (int32_t c : consumers_[x]) {
      const OpDef& op = p_.ops[c];
      if (std::holds_alternative<ConcatAttrs>(op.attrs) || std::holds_alternative<ReformatAttrs>(op.attrs)) continue;
      if (std::holds_alternative<SliceAttrs>(op.attrs) || (poolingViews_ && std::holds_alternative<PoolingAttrs>(op.attrs))) continue;
      // A convolution reads its input and its residual (fuse_pass.h) strided, but not the same tensor twice.
      if (std::holds_alternative<ConvAttrs>(op.attrs) && std::count(op.inputs.begin(), op.inputs.end(), x) == 1) continue;
      return false;
    }
    return true;
  }

  // The producer writes a strided output: a convolution (its epilogue and cuDNN take strides) or a
  // pooling (ops/pooling.cuh).
  bool writesStrided(int32_t x) const {
    const int32_t op = producer_[x];
    return op >= 0 && (std::holds_alternative<ConvAttrs>(p_.ops[op].attrs) || (poolingViews_ && std::holds_alternative<PoolingAttrs>(p_.ops[op].attrs)));
  }

  bool alignedView(const TensorDef& x, int64_t offset, int64_t rootChannels) const {
    const auto eb = static_cast<int64_t>(ops::elementBytes(x.dtype));
    const int64_t pixels = x.dims[2] * x.dims[3];
    if (x.layout == Layout::kNhwc) return offset * eb % kVectorBytes == 0 && rootChannels * eb % kVectorBytes == 0;
    return offset * pixels * eb % kVectorBytes == 0 && rootChannels * pixels * eb % kVectorBytes == 0;
  }

  bool sameGeometry(const TensorDef& a, const TensorDef& b) const {
    return a.dtype == b.dtype && a.layout == b.layout && a.dims.size() == kSpatialRank && b.dims.size() == kSpatialRank &&
           a.dims[0] == b.dims[0] && a.dims[2] == b.dims[2] && a.dims[3] == b.dims[3];
  }

  // Slice `op` of channels [c0, c0 + count) of its input, full H and W, stride 1: c0, else -1.
  int64_t channelSlice(const OpDef& op) const {
    const auto* s = std::get_if<SliceAttrs>(&op.attrs);
    if (!s || op.inputs.size() != 1) return -1;
    const TensorDef& x = t(op.inputs[0]);
    const TensorDef& y = t(op.outputs[0]);
    if (!sameGeometry(x, y) || s->start.size() != kSpatialRank) return -1;
    for (size_t i = 0; i < kSpatialRank; ++i) {
      if (s->stride[i] != 1) return -1;
      if (i != 1 && s->start[i] != 0) return -1;
    }
    return s->start[1];
  }

  // x's data already lies at channel `offset` of `out`: x is that view, or a slice of one.
  bool inPlace(int32_t x, int32_t out, int64_t offset) const {
    const ChannelView& v = r_.views[x];
    if (v.root >= 0) return v.root == out && v.offset == offset;
    const int32_t sp = producer_[x];
    const int64_t c0 = sp >= 0 ? channelSlice(p_.ops[sp]) : -1;
    if (c0 < 0) return false;
    const ChannelView& y = r_.views[p_.ops[sp].inputs[0]];
    return y.root == out && y.offset + c0 == offset;
  }

  void claim(int32_t x, int32_t root, int64_t offset) {
    r_.views[x] = ChannelView{root, offset, t(root).dims[1]};
    isBuffer_[root] = true;
  }

  void concatParts(size_t i, const ConcatAttrs& a) {
    const OpDef& op = p_.ops[i];
    const int32_t out = op.outputs[0];
    const TensorDef& o = t(out);
    if (a.axis != 1 || op.inputs.size() < 2 || o.dims.size() != kSpatialRank || o.constant >= 0 || o.isInput || r_.views[out].root >= 0) return;
    std::vector<int64_t> at(op.inputs.size());
    int64_t offset = 0;
    for (size_t k = 0; k < op.inputs.size(); ++k) {
      at[k] = offset;
      offset += t(op.inputs[k]).dims[1];
    }
    auto once = [&](int32_t x) { return std::count(op.inputs.begin(), op.inputs.end(), x) == 1; };
    for (size_t k = 0; k < op.inputs.size(); ++k) {
      const int32_t x = op.inputs[k];
      if (x == out || !sameGeometry(t(x), o)) continue;
      if (plain(x) && once(x) && writesStrided(x) && readsStrided(x) && alignedView(t(x), at[k], o.dims[1])) {
        claim(x, out, at[k]);
        continue;
      }
      // x = slice(y): y (a conv output) becomes the view when the concat inputs over y's range are
      // exactly its slices in order.
      const int32_t sp = producer_[x];
      if (sp < 0 || !once(x)) continue;
      const int64_t c0 = channelSlice(p_.ops[sp]);
      const int32_t y = c0 >= 0 ? p_.ops[sp].inputs[0] : -1;
      if (y < 0 || !plain(y) || !sameGeometry(t(y), o) || !writesStrided(y) || !readsStrided(y)) continue;
      const int64_t base = at[k] - c0, end = base + t(y).dims[1];
      if (base < 0 || end > o.dims[1] || !alignedView(t(y), base, o.dims[1])) continue;
      bool fits = true;
      for (size_t j = 0; j < op.inputs.size() && fits; ++j) {
        const int64_t lo = at[j], hi = at[j] + t(op.inputs[j]).dims[1];
        if (hi <= base || lo >= end) continue;
        const int32_t pj = producer_[op.inputs[j]];
        fits = lo >= base && hi <= end && pj >= 0 && channelSlice(p_.ops[pj]) == lo - base && p_.ops[pj].inputs[0] == y;
      }
      if (fits) claim(y, out, base);
    }
  }

  void sliceView(size_t i, const SliceAttrs&) {
    const OpDef& op = p_.ops[i];
    const int64_t c0 = channelSlice(op);
    const int32_t x = op.inputs.empty() ? -1 : op.inputs[0], s = op.outputs[0];
    if (c0 < 0 || t(x).constant >= 0 || !plain(s) || !readsStrided(s)) return;
    const ChannelView& v = r_.views[x];
    const int32_t root = v.root >= 0 ? v.root : x;
    const int64_t offset = (v.root >= 0 ? v.offset : 0) + c0;
    if (!alignedView(t(s), offset, t(root).dims[1])) return;
    r_.views[s] = ChannelView{root, offset, t(root).dims[1]};
  }

  const Program& p_;
  bool poolingViews_;
  std::vector<std::vector<int32_t>> consumers_;
  std::vector<int32_t> producer_;
  std::vector<bool> isOutput_, isBuffer_;
  ChannelViews r_;
};

}  // namespace

ChannelViews planChannelViews(const Program& p, bool poolingViews) { return ViewPlanner(p, poolingViews).run(); }

}  // namespace netdef::cuda
