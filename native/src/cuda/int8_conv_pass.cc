// Int8 convolution pass: see int8_conv_pass.h.
#include "int8_conv_pass.h"

#include <cstring>

#include "../common/error.h"
#include "direct_conv_rule.h"

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

}  // namespace

float int8ConstantScale(const Program& p, const OpDef& q) {
  const TensorDef& s = p.tensors[q.inputs[1]];
  if (s.constant < 0) throw Error(kErrInvalidArgument, q.name + ": the scale must be a constant");
  const WeightDef& w = p.weights[s.constant];
  float v = 0;
  if (w.dtype != ir::DType::Float32 || w.bytes.size() != sizeof v) throw Error(kErrInvalidArgument, q.name + ": the scale must be one float32");
  std::memcpy(&v, w.bytes.data(), sizeof v);
  return v;
}

namespace {

// Folds each int8 convolution's lone per-tensor Quantize reader into it.
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
    conv.outputScale = int8ConstantScale(p, q);
    p.ops[i].outputs[0] = q.outputs[0];
    q.fusedInto = static_cast<int32_t>(i);
    q.inputs.clear();
    q.outputs.clear();
  }
}

// Folds the per-tensor Quantize that writes a direct int8 convolution's input (direct_conv_rule.h)
// into the convolution, which then reads the Quantize's float input and quantizes it as it reads it
// (at its inputScale, which must be the Quantize's own). The Quantize's output must have no other
// reader and be no network output.
void foldInputQuantizes(Program& p) {
  const Readers r = readersOf(p);
  for (size_t i = 0; i < p.ops.size(); ++i) {
    OpDef& q = p.ops[i];
    const auto* qa = std::get_if<QuantizeAttrs>(&q.attrs);
    if (!qa || q.fusedInto >= 0 || qa->axis >= 0 || qa->to != ir::DType::Int8 || q.inputs.size() != 2) continue;
    const int32_t from = q.inputs[0], to = q.outputs[0];
    if (!isFloatDType(p.tensors[from].dtype) || r.isOutput[to] || r.ops[to].size() != 1) continue;
    const int32_t c = r.ops[to][0];
    OpDef& conv = p.ops[c];
    const ConvAttrs* a = int8Conv(conv);
    if (!a || conv.inputs[0] != to || !runsDirect(p, conv) || p.tensors[q.inputs[1]].constant < 0) continue;
    if (a->inputScale != int8ConstantScale(p, q)) continue;
    conv.inputs[0] = from;
    q.fusedInto = c;
    q.inputs.clear();
    q.outputs.clear();
  }
}

}  // namespace

Program foldInt8Quantizes(Program p) {
  bool any = false;
  for (const OpDef& op : p.ops) any = any || int8Conv(op) != nullptr;
  if (!any) return p;
  foldQuantizes(p);
  foldInputQuantizes(p);
  return p;
}

}  // namespace netdef::cuda
