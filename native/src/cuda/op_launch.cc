// Runs one op: see op_launch.h.
#include "op_launch.h"

#include "../common/error.h"
#include "ops/activation.cuh"
#include "ops/cast.cuh"
#include "ops/copy_strided.cuh"
#include "ops/dequantize.cuh"
#include "ops/detect_decode.cuh"
#include "ops/elementwise.cuh"
#include "ops/matmul.cuh"
#include "ops/pooling.cuh"
#include "ops/quantize.cuh"
#include "ops/resize_nearest.cuh"
#include "ops/softmax.cuh"

namespace netdef::cuda {
namespace {

constexpr int kSpatialRank = 4;

int64_t product(const std::vector<int64_t>& d, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i) p *= d[i];
  return p;
}

const uint8_t* offsetBytes(const void* p, int64_t elements, ir::DType t) {
  return static_cast<const uint8_t*>(p) + elements * static_cast<int64_t>(ops::elementBytes(t));
}

class Launcher {
 public:
  Launcher(const ExecContext& ctx, size_t index, int64_t batch, const StreamResources* side)
      : ctx_(ctx), p_(*ctx.program), op_(p_.ops[index]), index_(index), batch_(batch), side_(side), stream_(side ? side->stream : ctx.stream) {}

  void operator()(const ConvAttrs&) {
    ConvBuffers b = convBuffers(ctx_, index_);
    if (side_) {
      b.workspace = side_->workspace;
      b.workspaceBytes = side_->workspaceBytes;
      b.splitCounters = side_->splitCounters;
      b.splitCounterCount = side_->splitCounterCount;
    }
    (*ctx_.convs)[index_]->enqueue(ctx_.cudnn, stream_, b, batch_);
  }

  void operator()(const ActivationAttrs& a) {
    ops::ActivationParams p;
    p.op = a.type == ActivationType::Silu ? ir::Activation::Silu
           : a.type == ActivationType::Sigmoid ? ir::Activation::Sigmoid
                                               : ir::Activation::Relu;
    p.dtype = in(0).dtype;
    p.x = ptr(0);
    p.y = out();
    p.spatial = count(in(0));
    ops::launchActivation(p, stream_);
  }

  void operator()(const ElementWiseAttrs& a) {
    ops::ElementwiseParams p;
    p.op = elementwiseOp(a.op);
    p.dtype = in(0).dtype;
    p.a = ptr(0);
    p.b = ptr(1);
    p.y = out();
    p.aShape = dims(in(0));
    p.bShape = dims(in(1));
    p.yShape = dims(outDef());
    ops::launchElementwise(p, stream_);
  }

  void operator()(const ConcatAttrs& a) {
    const TensorDef& y = outDef();
    const ops::Dims yStrides = strides(op_.outputs[0]);
    const auto& inPlace = ctx_.views.concatInPlace;
    int64_t offset = 0;
    for (size_t i = 0; i < op_.inputs.size(); ++i) {
      const TensorDef& x = in(i);
      if (index_ < inPlace.size() && i < inPlace[index_].size() && inPlace[index_][i]) {  // written there by its producer
        offset += x.dims[a.axis];
        continue;
      }
      ops::CopyStridedParams c;
      c.dtype = x.dtype;
      c.src = ptr(i);
      c.dst = const_cast<uint8_t*>(offsetBytes(out(), offset * yStrides[a.axis], y.dtype));
      c.shape = dims(x);
      c.srcStrides = strides(op_.inputs[i]);
      c.dstStrides = yStrides;
      ops::launchCopyStrided(c, stream_);
      offset += x.dims[a.axis];
    }
  }

  void operator()(const SliceAttrs& a) {
    if (isChannelView(op_.outputs[0])) return;  // a view of its input's storage
    const TensorDef& x = in(0);
    const ops::Dims xStrides = strides(op_.inputs[0]);
    ops::CopyStridedParams c;
    c.dtype = x.dtype;
    int64_t start = 0;
    c.srcStrides = xStrides;
    for (size_t i = 0; i < a.start.size(); ++i) {
      start += a.start[i] * xStrides[i];
      c.srcStrides[i] = xStrides[i] * a.stride[i];
    }
    c.src = offsetBytes(ptr(0), start, x.dtype);
    c.dst = out();
    c.shape = dims(outDef());
    c.dstStrides = strides(op_.outputs[0]);
    ops::launchCopyStrided(c, stream_);
  }

  void operator()(const PoolingAttrs& a) {
    const std::vector<int64_t> x = resolveDims(in(0), batch_), y = resolveDims(outDef(), batch_);
    ops::PoolingParams p;
    p.op = a.type == PoolingType::Max ? ir::PoolingOp::Max : ir::PoolingOp::Average;
    p.dtype = in(0).dtype;
    p.x = ptr(0);
    p.y = out();
    p.batch = x[0];
    p.channels = x[1];
    p.height = x[2];
    p.width = x[3];
    for (int i = 0; i < 2; ++i) {
      p.kernel[i] = a.params.window[i];
      p.stride[i] = a.params.stride[i];
      p.padding[i] = a.params.prePadding[i];
      p.padding[2 + i] = a.params.postPadding[i];
    }
    p.outHeight = y[2];
    p.outWidth = y[3];
    // NHWC and channel-range views (a concat's buffer): the kernel takes both tensors' strides.
    const ops::Dims xs = strides(op_.inputs[0]), ys = strides(op_.outputs[0]);
    for (int i = 0; i < 4; ++i) {
      p.xStrides[i] = xs[i];
      p.yStrides[i] = ys[i];
    }
    ops::launchPooling(p, stream_);
  }

  void operator()(const ResizeAttrs& a) {
    const TensorDef& x = in(0);
    const std::vector<int64_t> d = resolveDims(x, batch_);
    const size_t rank = d.size();
    const auto sh = static_cast<int64_t>(a.scales[rank - 2]), sw = static_cast<int64_t>(a.scales[rank - 1]);
    if (x.layout == Layout::kNhwc) return resizeChannelsLast(d, sh, sw);
    ops::ResizeNearestParams p;
    p.dtype = x.dtype;
    p.x = ptr(0);
    p.y = out();
    p.outer = product(d, 0, rank - 2);
    p.height = d[rank - 2];
    p.width = d[rank - 1];
    p.scaleH = sh;
    p.scaleW = sw;
    ops::launchResizeNearest(p, stream_);
  }

  void operator()(const ShuffleAttrs& a) {
    if (a.permutation.empty()) return;  // a view
    TensorDef reshaped = in(0);
    if (!a.reshape.empty()) reshaped.dims = a.reshape;
    const ops::Dims from = physicalStrides(reshaped, batch_);
    ops::CopyStridedParams c;
    c.dtype = reshaped.dtype;
    c.src = ptr(0);
    c.dst = out();
    c.shape = dims(outDef());
    c.srcStrides = from;
    for (size_t i = 0; i < a.permutation.size(); ++i) c.srcStrides[static_cast<int>(i)] = from[a.permutation[i]];
    c.dstStrides = physicalStrides(outDef(), batch_);
    ops::launchCopyStrided(c, stream_);
  }

  void operator()(const SoftmaxAttrs& a) {
    const std::vector<int64_t> d = resolveDims(in(0), batch_);
    ops::SoftmaxParams p;
    p.dtype = in(0).dtype;
    p.x = ptr(0);
    p.y = out();
    p.outer = product(d, 0, a.axis);
    p.axis = d[a.axis];
    p.inner = product(d, a.axis + 1, d.size());
    ops::launchSoftmax(p, stream_);
  }

  void operator()(const MatMulAttrs&) {
    ops::MatMulParams p;
    p.dtype = in(0).dtype;
    p.a = ptr(0);
    p.b = ptr(1);
    p.y = out();
    p.aShape = dims(in(0));
    p.bShape = dims(in(1));
    p.yShape = dims(outDef());
    ops::launchMatMul(p, stream_);
  }

  void operator()(const CastAttrs& a) {
    ops::CastParams p;
    p.from = in(0).dtype;
    p.to = a.to;
    p.x = ptr(0);
    p.y = out();
    p.count = count(in(0));
    ops::launchCast(p, stream_);
  }

  void operator()(const QuantizeAttrs& a) {
    ops::QuantizeParams p;
    p.dtype = in(0).dtype;
    p.x = ptr(0);
    p.y = static_cast<int8_t*>(out());
    p.scales = static_cast<const float*>(ptr(1));
    p.count = count(in(0));
    scaleLayout(a.axis, p.channels, p.inner);
    ops::launchQuantize(p, stream_);
  }

  void operator()(const DequantizeAttrs& a) {
    ops::DequantizeParams p;
    p.to = a.to;
    p.x = static_cast<const int8_t*>(ptr(0));
    p.y = out();
    p.scales = static_cast<const float*>(ptr(1));
    p.count = count(in(0));
    scaleLayout(a.axis, p.channels, p.inner);
    ops::launchDequantize(p, stream_);
  }

  void operator()(const ReformatAttrs&) {
    ops::CopyStridedParams c;
    c.dtype = in(0).dtype;
    c.src = ptr(0);
    c.dst = out();
    c.shape = dims(in(0));
    c.srcStrides = strides(op_.inputs[0]);
    c.dstStrides = strides(op_.outputs[0]);
    ops::launchCopyStrided(c, stream_);
  }

  void operator()(const DetectDecodeAttrs& a) {
    ops::DetectDecodeParams p;
    p.inDtype = in(0).dtype;
    p.dflDtype = p_.weights[a.dflWeight].dtype;
    p.constDtype = in(a.levels).dtype;
    p.outDtype = outDef().dtype;
    p.levelCount = a.levels;
    ops::require(a.levels >= 1 && a.levels <= ops::kDetectDecodeMaxLevels && op_.inputs.size() == static_cast<size_t>(a.levels) + 2,
                 "detect_decode", "level count and inputs disagree");
    for (int l = 0; l < a.levels; ++l) {
      const TensorDef& x = in(l);
      const ops::Dims s = strides(op_.inputs[l]);
      ops::DetectDecodeLevel& lv = p.levels[l];
      lv.x = ptr(l);
      lv.height = x.dims[2];
      lv.width = x.dims[3];
      for (int i = 0; i < 4; ++i) lv.strides[i] = s[i];
    }
    p.dfl = ctx_.filters[index_];
    p.anchors = ptr(a.levels);
    p.strides = ptr(a.levels + 1);
    p.y = out();
    p.batch = batch_;
    p.bins = a.bins;
    p.classes = a.classes;
    p.divisor = a.divisor;
    p.halfSoftmax = a.halfSoftmax;
    p.halfDistance = a.halfDistance;
    p.halfDecode = a.halfDecode;
    p.halfBox = a.halfBox;
    p.halfScore = a.halfScore;
    ops::launchDetectDecode(p, stream_);
  }

 private:
  const TensorDef& in(size_t i) const { return p_.tensors[op_.inputs[i]]; }
  const TensorDef& outDef() const { return p_.tensors[op_.outputs[0]]; }
  const void* ptr(size_t i) const { return ctx_.tensors[op_.inputs[i]]; }
  void* out() const { return ctx_.tensors[op_.outputs[0]]; }
  ops::Dims dims(const TensorDef& t) const { return ops::Dims(resolveDims(t, batch_)); }
  int64_t count(const TensorDef& t) const { return elementCount(resolveDims(t, batch_)); }
  ops::Dims strides(int32_t t) const { return tensorStrides(ctx_, t, batch_); }
  bool isChannelView(int32_t t) const { return static_cast<size_t>(t) < ctx_.views.views.size() && ctx_.views.views[t].root >= 0; }

  void scaleLayout(int32_t axis, int64_t& channels, int64_t& inner) const {
    if (axis < 0) return;
    const std::vector<int64_t> d = resolveDims(in(0), batch_);
    channels = d[axis];
    inner = product(d, axis + 1, d.size());
  }

  static ir::ElementWiseOp elementwiseOp(ElementWiseOperation op) {
    switch (op) {
      case ElementWiseOperation::Sum: return ir::ElementWiseOp::Add;
      case ElementWiseOperation::Sub: return ir::ElementWiseOp::Sub;
      case ElementWiseOperation::Prod: return ir::ElementWiseOp::Mul;
      case ElementWiseOperation::Div: return ir::ElementWiseOp::Div;
      case ElementWiseOperation::Max: return ir::ElementWiseOp::Max;
      case ElementWiseOperation::Min: return ir::ElementWiseOp::Min;
    }
    throw Error(kErrBackend, "unknown elementwise operation");
  }

  // Nearest upsampling of NHWC as one strided copy: y viewed as [N, H, sh, W, sw, C], x read with
  // stride 0 along the two repeat axes.
  void resizeChannelsLast(const std::vector<int64_t>& d, int64_t sh, int64_t sw) {
    const int64_t n = d[0], c = d[1], h = d[2], w = d[3];
    ops::CopyStridedParams p;
    p.dtype = in(0).dtype;
    p.src = ptr(0);
    p.dst = out();
    p.shape = ops::Dims{n, h, sh, w, sw, c};
    p.srcStrides = ops::Dims{h * w * c, w * c, 0, c, 0, 1};
    p.dstStrides = ops::Dims{h * sh * w * sw * c, sh * w * sw * c, w * sw * c, sw * c, c, 1};
    ops::launchCopyStrided(p, stream_);
  }

  const ExecContext& ctx_;
  const Program& p_;
  const OpDef& op_;
  size_t index_;
  int64_t batch_;
  const StreamResources* side_;
  cudaStream_t stream_;
};

}  // namespace

ops::Dims physicalStrides(const TensorDef& t, int64_t batch) {
  const std::vector<int64_t> d = resolveDims(t, batch);
  if (t.layout == Layout::kNhwc && d.size() == kSpatialRank) {
    const int64_t c = d[1], h = d[2], w = d[3];
    return ops::Dims{h * w * c, 1, w * c, c};
  }
  return ops::contiguousStrides(ops::Dims(d));
}

int64_t storageChannels(const ExecContext& ctx, int32_t t) {
  if (static_cast<size_t>(t) < ctx.views.views.size() && ctx.views.views[t].root >= 0) return ctx.views.views[t].rootChannels;
  return ctx.program->tensors[t].dims[1];
}

ops::Dims tensorStrides(const ExecContext& ctx, int32_t t, int64_t batch) {
  const TensorDef& def = ctx.program->tensors[t];
  if (static_cast<size_t>(t) >= ctx.views.views.size() || ctx.views.views[t].root < 0) return physicalStrides(def, batch);
  const int64_t c = ctx.views.views[t].rootChannels, h = def.dims[2], w = def.dims[3];
  if (def.layout == Layout::kNhwc) return ops::Dims{h * w * c, 1, w * c, c};
  return ops::Dims{c * h * w, h * w, w, 1};
}

ConvBuffers convBuffers(const ExecContext& ctx, size_t opIndex) {
  const OpDef& op = ctx.program->ops[opIndex];
  ConvBuffers b;
  b.x = ctx.tensors[op.inputs[0]];
  b.w = ctx.filters[opIndex];
  b.bias = ctx.biases[opIndex];
  b.weightScales = opIndex < ctx.weightScales.size() ? ctx.weightScales[opIndex] : nullptr;
  b.residual = op.inputs.size() > 1 ? ctx.tensors[op.inputs[1]] : nullptr;
  b.y = ctx.tensors[op.outputs[0]];
  b.workspace = ctx.workspace;
  b.workspaceBytes = ctx.workspaceBytes;
  b.splitCounters = ctx.splitCounters;
  b.splitCounterCount = ctx.splitCounterCount;
  return b;
}

void enqueueOp(const ExecContext& ctx, size_t opIndex, int64_t batch, const StreamResources* side) {
  const OpDef& op = ctx.program->ops[opIndex];
  if (op.fusedInto >= 0) return;
  Launcher launcher(ctx, opIndex, batch, side);
  std::visit(launcher, op.attrs);
}

}  // namespace netdef::cuda
