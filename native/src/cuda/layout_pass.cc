// Layout pass: see layout_pass.h.
#include "layout_pass.h"

#include "direct_conv_rule.h"

#include <map>
#include <utility>

namespace netdef::cuda {
namespace {

constexpr size_t kSpatialRank = 4;

bool wantsNhwc(const Program& p, const OpDef& op) {
  const auto* c = std::get_if<ConvAttrs>(&op.attrs);
  if (!c || op.fusedInto >= 0) return false;
  const TensorDef& x = p.tensors[op.inputs[0]];
  return x.dtype == ir::DType::Float16 && c->params.groups == 1 && x.dims[1] % kTensorCoreChannels == 0 &&
         c->outChannels % kTensorCoreChannels == 0;
}

class LayoutAssigner {
 public:
  LayoutAssigner(const Program& in, LayoutMode mode) : in_(in), mode_(mode), out_(in) { out_.ops.clear(); }

  Program run() {
    for (const OpDef& op : in_.ops) visit(op);
    // Reformat ops shift the indices; a fused op may point forward (a Cast folded into the
    // convolution after it), so the indices are mapped once every op has its new one.
    for (OpDef& op : out_.ops)
      if (op.fusedInto >= 0) op.fusedInto = newIndex_.at(op.fusedInto);
    for (OutputDef& o : out_.outputs) o.tensor = ensure(o.tensor, Layout::kRowMajor, "output " + o.name);
    return std::move(out_);
  }

 private:
  Layout layoutOf(int32_t t) const { return out_.tensors[t].layout; }
  bool spatial(int32_t t) const { return out_.tensors[t].dims.size() == kSpatialRank; }

  // The tensor holding `t` in layout `want` (a Reformat op is added the first time).
  int32_t ensure(int32_t t, Layout want, const std::string& consumer) {
    if (!spatial(t) || layoutOf(t) == want || out_.tensors[t].constant >= 0) return t;
    auto key = std::make_pair(t, want);
    if (auto it = reformatted_.find(key); it != reformatted_.end()) return it->second;
    TensorDef copy = out_.tensors[t];
    copy.layout = want;
    copy.name += want == Layout::kNhwc ? " (nhwc)" : " (nchw)";
    return reformatted_[key] = addReformat(t, std::move(copy), consumer);
  }

  // The NHWC tensor an int8 convolution reads: `t` itself, or its copy with the channels padded to
  // a multiple of kInt8ConvChannels (see layout_pass.h).
  int32_t ensureInt8Input(int32_t t, const std::string& consumer) {
    const int64_t c = spatial(t) ? out_.tensors[t].dims[1] : 0;
    const int64_t padded = (c + kInt8ConvChannels - 1) / kInt8ConvChannels * kInt8ConvChannels;
    if (c == padded) return ensure(t, Layout::kNhwc, consumer);
    if (auto it = padded_.find(t); it != padded_.end()) return it->second;
    TensorDef copy = out_.tensors[t];
    copy.layout = Layout::kNhwc;
    copy.dims[1] = padded;
    copy.name += " (nhwc, " + std::to_string(padded) + " channels)";
    return padded_[t] = addReformat(t, std::move(copy), consumer);
  }

  // Adds `copy` (t's new form) and the Reformat op that writes it from `t`; returns the copy's index.
  int32_t addReformat(int32_t t, TensorDef copy, const std::string& consumer) {
    copy.isInput = false;
    const auto id = static_cast<int32_t>(out_.tensors.size());
    out_.tensors.push_back(std::move(copy));
    OpDef op;
    op.name = "Reformat " + out_.tensors[t].name + " for " + consumer;
    op.inputs = {t};
    op.outputs = {id};
    op.attrs = ReformatAttrs{};
    op.dtype = out_.tensors[t].dtype;
    out_.ops.push_back(std::move(op));
    return id;
  }

  void setOutputs(const OpDef& op, Layout l) {
    for (int32_t t : op.outputs) out_.tensors[t].layout = spatial(t) ? l : Layout::kRowMajor;
  }

  void visit(const OpDef& original) {
    OpDef op = original;
    if (op.fusedInto >= 0) {
      newIndex_.push_back(static_cast<int32_t>(out_.ops.size()));
      out_.ops.push_back(std::move(op));
      return;
    }
    Layout result = Layout::kRowMajor;
    std::visit([&](const auto& a) { result = place(op, a); }, op.attrs);
    setOutputs(op, result);
    newIndex_.push_back(static_cast<int32_t>(out_.ops.size()));
    out_.ops.push_back(std::move(op));
  }

  Layout allRowMajor(OpDef& op) {
    for (int32_t& t : op.inputs) t = ensure(t, Layout::kRowMajor, op.name);
    return Layout::kRowMajor;
  }
  Layout followFirst(OpDef& op) { return spatial(op.inputs[0]) ? layoutOf(op.inputs[0]) : Layout::kRowMajor; }

  Layout place(OpDef& op, const ConvAttrs& a) {
    if (runsDirect(out_, op)) {
      const TensorDef& y = out_.tensors[op.outputs[0]];
      // The direct kernel reads any layout and writes its own: NHWC where the convolutions after
      // it run NHWC (float16 ones in channels-last mode; int8 ones always, on whole 16-channel
      // groups), so nothing is reformatted between them.
      const bool half = mode_ == LayoutMode::kChannelsLastHalf && y.dtype == ir::DType::Float16 && a.outChannels % kTensorCoreChannels == 0;
      const bool int8 = y.dtype == ir::DType::Int8 && a.outChannels % kInt8ConvChannels == 0;
      const Layout out = half || int8 ? Layout::kNhwc : Layout::kRowMajor;
      for (size_t i = 1; i < op.inputs.size(); ++i) op.inputs[i] = ensure(op.inputs[i], out, op.name);  // a fused residual
      return out;
    }
    if (a.isInt8()) {
      op.inputs[0] = a.params.groups == 1 ? ensureInt8Input(op.inputs[0], op.name) : ensure(op.inputs[0], Layout::kNhwc, op.name);
      for (size_t i = 1; i < op.inputs.size(); ++i) op.inputs[i] = ensure(op.inputs[i], Layout::kNhwc, op.name);  // a fused int8 residual
      return Layout::kNhwc;
    }
    const Layout l = mode_ == LayoutMode::kChannelsLastHalf && wantsNhwc(out_, op) ? Layout::kNhwc : Layout::kRowMajor;
    for (int32_t& t : op.inputs) t = ensure(t, l, op.name);  // the input, and a fused residual in the output's layout
    return l;
  }
  Layout place(OpDef& op, const ActivationAttrs&) { return followFirst(op); }
  Layout place(OpDef& op, const CastAttrs&) { return followFirst(op); }
  Layout place(OpDef& op, const ConcatAttrs&) { return followFirst(op); }  // copies read any layout
  Layout place(OpDef& op, const SliceAttrs&) { return followFirst(op); }
  Layout place(OpDef& op, const ResizeAttrs&) { return followFirst(op); }
  Layout place(OpDef& op, const ElementWiseAttrs&) {
    if (out_.tensors[op.inputs[0]].dims != out_.tensors[op.inputs[1]].dims) return allRowMajor(op);
    const Layout l = followFirst(op);
    op.inputs[1] = ensure(op.inputs[1], l, op.name);
    return l;
  }
  Layout place(OpDef& op, const QuantizeAttrs& a) { return a.axis < 0 ? followFirst(op) : allRowMajor(op); }
  Layout place(OpDef& op, const DequantizeAttrs& a) { return a.axis < 0 ? followFirst(op) : allRowMajor(op); }
  Layout place(OpDef& op, const PoolingAttrs&) { return followFirst(op); }  // the kernel takes strides
  Layout place(OpDef& op, const ShuffleAttrs&) { return allRowMajor(op); }
  Layout place(OpDef& op, const SoftmaxAttrs&) { return allRowMajor(op); }
  Layout place(OpDef& op, const MatMulAttrs&) { return allRowMajor(op); }
  Layout place(OpDef& op, const ReformatAttrs&) { return followFirst(op); }
  Layout place(OpDef&, const DetectDecodeAttrs&) { return Layout::kRowMajor; }  // reads the levels through strides

  const Program& in_;
  LayoutMode mode_;
  Program out_;
  std::map<std::pair<int32_t, Layout>, int32_t> reformatted_;
  std::map<int32_t, int32_t> padded_;  // tensor -> its channel-padded NHWC copy
  std::vector<int32_t> newIndex_;  // input op index -> output op index
};

}  // namespace

Program assignLayouts(const Program& in, LayoutMode mode) { return LayoutAssigner(in, mode).run(); }

bool hasChannelsLastCandidates(const Program& p) {
  for (const OpDef& op : p.ops)
    if (wantsNhwc(p, op)) return true;
  return false;
}

const char* layoutModeName(LayoutMode mode) { return mode == LayoutMode::kChannelsLastHalf ? "channels-last fp16" : "row-major"; }

}  // namespace netdef::cuda
