// Int8 convolution pass: see int8_conv_pass.h.
#include "int8_conv_pass.h"

#include <cstring>

#include "../common/error.h"

namespace netdef::cuda {
namespace {

struct Readers {
  std::vector<std::vector<int32_t>> ops;  // per tensor: the ops reading it
  std::vector<bool> isOutput;             // per tensor: a network output
};

Readers readersOf(const Program& p) {
  Readers r{std::vector<std::vector<int32_t>>(p.tensors.size()), std::vector<bool>(p.tensors.size(), false)};
  for (size_t i = 0; i < p.ops.size(); ++i) {
    if (p.ops[i].fusedInto >= 0) continue;
    for (int32_t t : p.ops[i].inputs) r.ops[t].push_back(static_cast<int32_t>(i));
  }
  for (const OutputDef& o : p.outputs) r.isOutput[o.tensor] = true;
  return r;
}

const ConvAttrs* int8Conv(const OpDef& op) {
  const auto* c = std::get_if<ConvAttrs>(&op.attrs);
  return c && c->isInt8() && op.fusedInto < 0 ? c : nullptr;
}

// The per-tensor scale of Quantize `q` (its input 1, a one-value float32 constant).
float quantizeScale(const Program& p, const OpDef& q) {
  const TensorDef& s = p.tensors[q.inputs[1]];
  if (s.constant < 0) throw Error(kErrInvalidArgument, q.name + ": the scale must be a constant");
  const WeightDef& w = p.weights[s.constant];
  float v = 0;
  if (w.dtype != ir::DType::Float32 || w.bytes.size() != sizeof v) throw Error(kErrInvalidArgument, q.name + ": the scale must be one float32");
  std::memcpy(&v, w.bytes.data(), sizeof v);
  return v;
}

// Step 1: folds each int8 convolution's lone per-tensor Quantize reader into it.
void foldQuantizes(Program& p) {
  const Readers r = readersOf(p);
  for (size_t i = 0; i < p.ops.size(); ++i) {
    if (!int8Conv(p.ops[i])) continue;
    const int32_t y = p.ops[i].outputs[0];
    if (r.isOutput[y] || r.ops[y].size() != 1) continue;
    OpDef& q = p.ops[r.ops[y][0]];
    const auto* qa = std::get_if<QuantizeAttrs>(&q.attrs);
    if (!qa || qa->axis >= 0 || qa->to != ir::DType::Int8 || q.inputs[0] != y) continue;
    auto& conv = std::get<ConvAttrs>(p.ops[i].attrs);
    conv.outputScale = quantizeScale(p, q);
    p.ops[i].outputs[0] = q.outputs[0];
    q.fusedInto = static_cast<int32_t>(i);
    q.inputs.clear();
    q.outputs.clear();
  }
}

// Step 2: the int8 convolutions left with a float32 output write float16, then a Cast follows.
Program castFloatOutputs(const Program& in) {
  Program out = in;
  out.ops.clear();
  std::vector<int32_t> newIndex(in.ops.size(), -1);
  for (size_t i = 0; i < in.ops.size(); ++i) {
    OpDef op = in.ops[i];
    newIndex[i] = static_cast<int32_t>(out.ops.size());
    if (!int8Conv(op) || out.tensors[op.outputs[0]].dtype != ir::DType::Float32) {
      out.ops.push_back(std::move(op));
      continue;
    }
    const int32_t y = op.outputs[0];
    TensorDef half = out.tensors[y];
    half.dtype = ir::DType::Float16;
    half.isInput = false;
    half.name += " (float16)";
    const auto h = static_cast<int32_t>(out.tensors.size());
    out.tensors.push_back(half);
    op.outputs[0] = h;
    OpDef cast;
    cast.name = op.name + "/cast_float32";
    cast.inputs = {h};
    cast.outputs = {y};
    cast.attrs = CastAttrs{ir::DType::Float32};
    out.ops.push_back(std::move(op));
    out.ops.push_back(std::move(cast));
  }
  for (OpDef& op : out.ops) {
    if (op.fusedInto >= 0) op.fusedInto = newIndex[op.fusedInto];
  }
  return out;
}

}  // namespace

Program lowerInt8Convolutions(const Program& in) {
  bool any = false;
  for (const OpDef& op : in.ops) any = any || int8Conv(op) != nullptr;
  if (!any) return in;
  Program folded = in;
  foldQuantizes(folded);
  return castFloatOutputs(folded);
}

}  // namespace netdef::cuda
