// The engine blob: see engine_format.h.
#include "engine_format.h"

#include <cmath>
#include <cstring>

#include "byte_io.h"
#include "direct_conv_rule.h"
#include "ops/detect_decode.cuh"

namespace netdef::cuda {
namespace {

constexpr char kMagic[] = "NDCUDAE1";
constexpr size_t kMagicBytes = 8;
constexpr uint8_t kLastDType = static_cast<uint8_t>(ir::DType::Bool);
constexpr uint8_t kLastLayout = static_cast<uint8_t>(Layout::kNhwc);
constexpr uint8_t kLastLayoutMode = static_cast<uint8_t>(LayoutMode::kChannelsLastHalf);
// Bounds a tampered blob (its checksum recomputed) meets before any device work: no tensor of
// more dimensions or elements than these, no unfused op without outputs.
constexpr size_t kMaxRank = 8;
constexpr int64_t kMaxElements = int64_t{1} << 40;

[[noreturn]] void corrupt(const std::string& what) { throw Error(kErrEngineFormat, "engine blob is corrupted: " + what); }

template <typename E>
E enumFrom(uint8_t v, uint8_t last, const char* what) {
  if (v > last) corrupt(std::string("bad ") + what);
  return static_cast<E>(v);
}

void writeConvParams(ByteWriter& w, const ConvolutionParams& p) {
  for (int i = 0; i < 2; ++i) {
    w.i64(p.kernel[i]);
    w.i64(p.stride[i]);
    w.i64(p.dilation[i]);
    w.i64(p.prePadding[i]);
    w.i64(p.postPadding[i]);
  }
  w.i64(p.groups);
}

ConvolutionParams readConvParams(ByteReader& r) {
  ConvolutionParams p{};
  for (int i = 0; i < 2; ++i) {
    p.kernel[i] = r.i64();
    p.stride[i] = r.i64();
    p.dilation[i] = r.i64();
    p.prePadding[i] = r.i64();
    p.postPadding[i] = r.i64();
  }
  p.groups = r.i64();
  return p;
}

struct AttrWriter {
  ByteWriter& w;
  uint32_t version;
  void operator()(const ConvAttrs& a) const {
    w.i64(a.outChannels);
    writeConvParams(w, a.params);
    w.i32(a.weight);
    w.i32(a.bias);
    w.u8(static_cast<uint8_t>(a.activation));
    w.i32(a.weightScales);
    w.f32(a.inputScale);
    w.f32(a.outputScale);
    if (version >= kInt8ResidualFormatVersion) w.f32(a.residualScale);
  }
  void operator()(const ActivationAttrs& a) const { w.u8(static_cast<uint8_t>(a.type)); }
  void operator()(const ElementWiseAttrs& a) const { w.u8(static_cast<uint8_t>(a.op)); }
  void operator()(const ConcatAttrs& a) const { w.i32(a.axis); }
  void operator()(const SliceAttrs& a) const {
    w.i64s(a.start);
    w.i64s(a.size);
    w.i64s(a.stride);
  }
  void operator()(const PoolingAttrs& a) const {
    for (int i = 0; i < 2; ++i) {
      w.i64(a.params.window[i]);
      w.i64(a.params.stride[i]);
      w.i64(a.params.prePadding[i]);
      w.i64(a.params.postPadding[i]);
    }
    w.u8(static_cast<uint8_t>(a.type));
  }
  void operator()(const ResizeAttrs& a) const {
    w.u64(a.scales.size());
    for (float s : a.scales) w.f32(s);
  }
  void operator()(const ShuffleAttrs& a) const {
    w.i64s(a.reshape);
    w.u64(a.permutation.size());
    for (int32_t p : a.permutation) w.i32(p);
  }
  void operator()(const SoftmaxAttrs& a) const { w.i32(a.axis); }
  void operator()(const MatMulAttrs&) const {}
  void operator()(const CastAttrs& a) const { w.u8(static_cast<uint8_t>(a.to)); }
  void operator()(const QuantizeAttrs& a) const {
    w.i32(a.axis);
    w.u8(static_cast<uint8_t>(a.to));
  }
  void operator()(const DequantizeAttrs& a) const {
    w.i32(a.axis);
    w.u8(static_cast<uint8_t>(a.to));
  }
  void operator()(const ReformatAttrs&) const {}
  void operator()(const DetectDecodeAttrs& a) const {
    w.i32(a.levels);
    w.i64(a.bins);
    w.i64(a.classes);
    w.i32(a.dflWeight);
    w.f32(a.divisor);
    w.u8(static_cast<uint8_t>((a.halfSoftmax ? 1 : 0) | (a.halfDistance ? 2 : 0) | (a.halfDecode ? 4 : 0) | (a.halfBox ? 8 : 0) |
                              (a.halfScore ? 16 : 0)));
  }
};

// Kind tags are the OpAttrs alternative indices; this list must follow that order.
OpAttrs readAttrs(ByteReader& r, uint8_t kind, uint32_t version) {
  switch (kind) {
    case 0: {
      ConvAttrs a;
      a.outChannels = r.i64();
      a.params = readConvParams(r);
      a.weight = r.i32();
      a.bias = r.i32();
      a.activation = enumFrom<FusedActivation>(r.u8(), static_cast<uint8_t>(FusedActivation::kRelu), "activation");
      a.weightScales = r.i32();
      a.inputScale = r.f32();
      a.outputScale = r.f32();
      if (version >= kInt8ResidualFormatVersion) a.residualScale = r.f32();
      return a;
    }
    case 1: return ActivationAttrs{enumFrom<ActivationType>(r.u8(), static_cast<uint8_t>(ActivationType::Silu), "activation")};
    case 2: return ElementWiseAttrs{enumFrom<ElementWiseOperation>(r.u8(), static_cast<uint8_t>(ElementWiseOperation::Min), "operation")};
    case 3: return ConcatAttrs{r.i32()};
    case 4: {
      SliceAttrs a;
      a.start = r.i64s();
      a.size = r.i64s();
      a.stride = r.i64s();
      return a;
    }
    case 5: {
      PoolingAttrs a;
      for (int i = 0; i < 2; ++i) {
        a.params.window[i] = r.i64();
        a.params.stride[i] = r.i64();
        a.params.prePadding[i] = r.i64();
        a.params.postPadding[i] = r.i64();
      }
      a.type = enumFrom<PoolingType>(r.u8(), static_cast<uint8_t>(PoolingType::Average), "pooling");
      return a;
    }
    case 6: {
      ResizeAttrs a;
      a.scales.resize(r.count(4));
      for (float& s : a.scales) s = r.f32();
      return a;
    }
    case 7: {
      ShuffleAttrs a;
      a.reshape = r.i64s();
      a.permutation.resize(r.count(4));
      for (int32_t& p : a.permutation) p = r.i32();
      return a;
    }
    case 8: return SoftmaxAttrs{r.i32()};
    case 9: return MatMulAttrs{};
    case 10: return CastAttrs{enumFrom<ir::DType>(r.u8(), kLastDType, "dtype")};
    case 11: {
      QuantizeAttrs a;
      a.axis = r.i32();
      a.to = enumFrom<ir::DType>(r.u8(), kLastDType, "dtype");
      return a;
    }
    case 12: {
      DequantizeAttrs a;
      a.axis = r.i32();
      a.to = enumFrom<ir::DType>(r.u8(), kLastDType, "dtype");
      return a;
    }
    case 13: return ReformatAttrs{};
    case 14: {
      DetectDecodeAttrs a;
      a.levels = r.i32();
      a.bins = r.i64();
      a.classes = r.i64();
      a.dflWeight = r.i32();
      a.divisor = r.f32();
      const uint8_t half = r.u8();
      a.halfSoftmax = half & 1;
      a.halfDistance = half & 2;
      a.halfDecode = half & 4;
      a.halfBox = half & 8;
      a.halfScore = half & 16;
      return a;
    }
    default: corrupt("unknown op kind " + std::to_string(kind));
  }
}
static_assert(std::variant_size_v<OpAttrs> == 15, "readAttrs must read every OpAttrs alternative");

// Every dimension is a size (>= 0), or the batch (ir::kBatch) in front; the element count is bounded.
void checkDims(const TensorDef& t) {
  if (t.dims.size() > kMaxRank) corrupt("tensor rank");
  int64_t elements = 1;
  for (size_t i = 0; i < t.dims.size(); ++i) {
    const int64_t d = t.dims[i];
    if (d == ir::kBatch && i == 0) continue;
    if (d < 0 || d > kMaxElements) corrupt("tensor dimension");
    elements = d == 0 ? 0 : elements;
    if (d > 0 && elements > kMaxElements / d) corrupt("tensor size");
    elements *= d;
  }
}

void writeIds(ByteWriter& w, const std::vector<int32_t>& ids) {
  w.u64(ids.size());
  for (int32_t id : ids) w.i32(id);
}

std::vector<int32_t> readIds(ByteReader& r, size_t limit, const char* what) {
  std::vector<int32_t> ids(r.count(4));
  for (int32_t& id : ids) {
    id = r.i32();
    if (id < 0 || static_cast<size_t>(id) >= limit) corrupt(std::string(what) + " index out of range");
  }
  return ids;
}

void writePayload(ByteWriter& w, const EngineRecord& e, uint32_t version) {
  w.i64(e.config.minBatch);
  w.i64(e.config.optBatch);
  w.i64(e.config.maxBatch);
  w.u8(static_cast<uint8_t>(e.config.layoutMode));
  w.u8(e.config.channelViews ? 1 : 0);
  if (version >= kTf32FormatVersion) w.u8(e.config.tf32 ? 1 : 0);
  const Program& p = e.program;
  w.u64(p.tensors.size());
  for (const TensorDef& t : p.tensors) {
    w.str(t.name);
    w.u8(static_cast<uint8_t>(t.dtype));
    w.u8(static_cast<uint8_t>(t.layout));
    w.i32(t.constant);
    w.u8(t.isInput ? 1 : 0);
    w.i64s(t.dims);
  }
  w.u64(p.weights.size());
  for (const WeightDef& wd : p.weights) {
    w.str(wd.name);
    w.u8(static_cast<uint8_t>(wd.dtype));
    w.u64(wd.bytes.size());
    w.raw(wd.bytes.data(), wd.bytes.size());
  }
  writeIds(w, p.inputs);
  w.u64(p.outputs.size());
  for (const OutputDef& o : p.outputs) {
    w.str(o.name);
    w.i32(o.tensor);
  }
  w.u64(p.ops.size());
  for (const OpDef& op : p.ops) {
    w.str(op.name);
    w.u8(static_cast<uint8_t>(op.attrs.index()));
    w.i32(op.fusedInto);
    if (version >= kOpDtypeFormatVersion) w.u8(static_cast<uint8_t>(op.dtype));
    writeIds(w, op.inputs);
    writeIds(w, op.outputs);
    std::visit(AttrWriter{w, version}, op.attrs);
  }
  w.u64(e.tactics.size());
  for (const OpTactic& t : e.tactics) {
    w.i32(t.op);
    w.u8(static_cast<uint8_t>(t.tactic.kind));
    w.i32(t.tactic.algo);
    w.i32(t.tactic.mathType);
    w.i64(t.tactic.engine);
    w.f32(t.tactic.timeMs);
    if (version >= kSplitKFormatVersion) w.i32(t.tactic.splits);
  }
  if (version < kPlanTextsFormatVersion) return;
  w.str(e.planIdentity);
  w.u64(e.plans.size());
  for (const auto& [key, text] : e.plans) {
    w.str(key);
    w.str(text);
  }
}

void readPayload(ByteReader& r, EngineRecord& e, uint32_t version) {
  e.config.minBatch = r.i64();
  e.config.optBatch = r.i64();
  e.config.maxBatch = r.i64();
  e.config.layoutMode = enumFrom<LayoutMode>(r.u8(), kLastLayoutMode, "layout mode");
  e.config.channelViews = r.u8() != 0;
  e.config.tf32 = version >= kTf32FormatVersion && r.u8() != 0;
  e.config.poolingViews = version >= kPoolingViewsFormatVersion;
  if (e.config.minBatch < 1 || e.config.minBatch > e.config.optBatch || e.config.optBatch > e.config.maxBatch) corrupt("batch range");
  Program& p = e.program;
  p.tensors.resize(r.count(1));
  for (TensorDef& t : p.tensors) {
    t.name = r.str();
    t.dtype = enumFrom<ir::DType>(r.u8(), kLastDType, "dtype");
    t.layout = enumFrom<Layout>(r.u8(), kLastLayout, "layout");
    t.constant = r.i32();
    t.isInput = r.u8() != 0;
    t.dims = r.i64s();
    checkDims(t);
  }
  p.weights.resize(r.count(1));
  for (WeightDef& w : p.weights) {
    w.name = r.str();
    w.dtype = enumFrom<ir::DType>(r.u8(), kLastDType, "dtype");
    w.bytes = r.blob();
  }
  for (const TensorDef& t : p.tensors) {
    if (t.constant < -1 || t.constant >= static_cast<int32_t>(p.weights.size())) corrupt("constant index out of range");
  }
  p.inputs = readIds(r, p.tensors.size(), "input");
  p.outputs.resize(r.count(1));
  for (OutputDef& o : p.outputs) {
    o.name = r.str();
    o.tensor = r.i32();
    if (o.tensor < 0 || static_cast<size_t>(o.tensor) >= p.tensors.size()) corrupt("output index out of range");
  }
  p.ops.resize(r.count(1));
  for (OpDef& op : p.ops) {
    op.name = r.str();
    const uint8_t kind = r.u8();
    op.fusedInto = r.i32();
    if (op.fusedInto < -1 || op.fusedInto >= static_cast<int32_t>(p.ops.size())) corrupt("fused-into index out of range");
    if (version >= kOpDtypeFormatVersion) op.dtype = enumFrom<ir::DType>(r.u8(), kLastDType, "dtype");
    op.inputs = readIds(r, p.tensors.size(), "op input");
    op.outputs = readIds(r, p.tensors.size(), "op output");
    op.attrs = readAttrs(r, kind, version);
    // Ops fused into another keep no tensors of their own; every other op writes an output, and a
    // convolution reads one (what the run indexes without further checks).
    if (op.fusedInto < 0 && op.outputs.empty()) corrupt("op without outputs");
    if (op.fusedInto < 0 && std::holds_alternative<ConvAttrs>(op.attrs) && op.inputs.empty()) corrupt("convolution without input");
    if (const auto* c = std::get_if<ConvAttrs>(&op.attrs)) {
      const auto n = static_cast<int32_t>(p.weights.size());
      if (c->weight < 0 || c->weight >= n || c->bias < -1 || c->bias >= n || c->weightScales < -1 || c->weightScales >= n) {
        corrupt("weight index out of range");
      }
      if (c->isInt8() && (!(c->inputScale > 0) || !(c->outputScale >= 0) || !std::isfinite(c->inputScale) || !std::isfinite(c->outputScale))) {
        corrupt("int8 convolution scales out of range");
      }
      // An int8 residual scale exactly when an int8 convolution runs with a residual input.
      const bool int8Residual = c->isInt8() && op.fusedInto < 0 && op.inputs.size() > 1;
      if (int8Residual ? !(c->residualScale > 0 && std::isfinite(c->residualScale)) : c->residualScale != 0) corrupt("int8 residual scale out of range");
    }
    if (const auto* d = std::get_if<DetectDecodeAttrs>(&op.attrs)) {
      if (d->dflWeight < 0 || d->dflWeight >= static_cast<int32_t>(p.weights.size())) corrupt("weight index out of range");
      if (d->levels < 1 || d->levels > ops::kDetectDecodeMaxLevels || (op.fusedInto < 0 && op.inputs.size() != static_cast<size_t>(d->levels) + 2)) {
        corrupt("DetectDecode levels and inputs disagree");
      }
    }
  }
  // Blobs older than version 6 store no op dtype: derived from the tensors as recorded (a fused
  // op's from the op that computes it, which its own tensors were handed to).
  if (version < kOpDtypeFormatVersion) {
    for (OpDef& op : p.ops) op.dtype = op.fusedInto < 0 ? recordedDtype(p, op) : p.tensors[p.ops[op.fusedInto].outputs[0]].dtype;
  }
  e.tactics.resize(r.count(1));
  for (OpTactic& t : e.tactics) {
    t.op = r.i32();
    if (t.op < 0 || static_cast<size_t>(t.op) >= p.ops.size()) corrupt("tactic op out of range");
    t.tactic.kind = enumFrom<ConvTactic::Kind>(r.u8(), static_cast<uint8_t>(ConvTactic::kLastKind), "tactic kind");
    t.tactic.algo = r.i32();
    t.tactic.mathType = r.i32();
    t.tactic.engine = r.i64();
    t.tactic.timeMs = r.f32();
    if (version >= kSplitKFormatVersion) {
      t.tactic.splits = r.i32();
      const bool igemm = t.tactic.kind == ConvTactic::Kind::kIgemm;
      if (t.tactic.splits < 1 || t.tactic.splits > igemm::kMaxIgemmSplits || (!igemm && t.tactic.splits != 1)) {
        corrupt("tactic split-K slices out of range");
      }
    }
  }
  if (version < kInt8DirectFormatVersion) {
    for (const OpTactic& t : e.tactics) {
      const auto* c = std::get_if<ConvAttrs>(&p.ops[t.op].attrs);
      if (c && c->isInt8() && t.tactic.kind == ConvTactic::Kind::kIgemm && runsDirect(p, p.ops[t.op])) {
        throw Error(kErrEngineFormat, "engine format " + std::to_string(version) + " runs int8 convolution '" + p.ops[t.op].name +
                                          "' on igemm, which this netdef runs on its direct kernel: rebuild the engine");
      }
    }
  }
  if (version < kPlanTextsFormatVersion) return;
  e.planIdentity = r.str();
  const uint64_t plans = r.count(2 * sizeof(uint64_t));
  for (uint64_t i = 0; i < plans; ++i) {
    std::string key = r.str();
    e.plans[std::move(key)] = r.str();
  }
}

}  // namespace

std::vector<uint8_t> writeEngine(const EngineRecord& e, uint32_t version) {
  if (version < kOldestReadableFormatVersion || version > kEngineFormatVersion) {
    throw Error(kErrInvalidArgument, "cannot write engine format version " + std::to_string(version));
  }
  if (version < kInt8ResidualFormatVersion) {
    for (const OpDef& op : e.program.ops) {
      const auto* c = std::get_if<ConvAttrs>(&op.attrs);
      if (c && c->residualScale != 0) throw Error(kErrInvalidArgument, op.name + ": an int8 residual cannot be written in engine format " + std::to_string(version));
    }
  }
  if (version < kSplitKFormatVersion) {
    for (const OpTactic& t : e.tactics) {
      if (t.tactic.splits != 1) {
        throw Error(kErrInvalidArgument, "op " + std::to_string(t.op) + ": a split-K tactic cannot be written in engine format " + std::to_string(version));
      }
    }
  }
  ByteWriter payload;
  writePayload(payload, e, version);
  ByteWriter w;
  w.raw(kMagic, kMagicBytes);
  w.u32(version);
  w.u32(e.smMajor);
  w.u32(e.smMinor);
  w.str(e.deviceName);
  w.u64(payload.bytes().size());
  w.raw(payload.bytes().data(), payload.bytes().size());
  w.u64(fnv1a64(w.bytes().data(), w.bytes().size()));
  return std::move(w.bytes());
}

EngineRecord readEngine(const uint8_t* data, size_t size) {
  if (size < kMagicBytes || std::memcmp(data, kMagic, kMagicBytes) != 0) {
    throw Error(kErrEngineFormat, "not a netdef CUDA engine (bad magic)");
  }
  ByteReader r(data, size);
  r.take(kMagicBytes);
  const uint32_t version = r.u32();
  if (version < kOldestReadableFormatVersion || version > kEngineFormatVersion) {
    throw Error(kErrEngineFormat, "engine format version " + std::to_string(version) + " cannot be read by this build (versions " +
                                      std::to_string(kOldestReadableFormatVersion) + " to " + std::to_string(kEngineFormatVersion) + ")");
  }
  EngineRecord e;
  e.smMajor = r.u32();
  e.smMinor = r.u32();
  e.deviceName = r.str();
  const uint64_t payloadBytes = r.count(1);
  const size_t payloadAt = r.position();
  r.take(payloadBytes);
  const size_t checked = r.position();
  const uint64_t stored = r.u64();
  if (r.remaining() != 0) corrupt("trailing bytes");
  if (fnv1a64(data, checked) != stored) corrupt("checksum mismatch");
  ByteReader payload(data + payloadAt, payloadBytes);
  readPayload(payload, e, version);
  if (payload.remaining() != 0) corrupt("payload has trailing bytes");
  return e;
}

}  // namespace netdef::cuda
