// Fusion pass: see fuse_pass.h.
#include "fuse_pass.h"

#include "../common/error.h"
#include "detect_decode_pass.h"
#include "direct_conv_rule.h"
#include "int8_conv_pass.h"

namespace netdef::cuda {
namespace {

FusedActivation fusedFor(ActivationType t) {
  switch (t) {
    case ActivationType::Silu: return FusedActivation::kSilu;
    case ActivationType::Sigmoid: return FusedActivation::kSigmoid;
    case ActivationType::Relu: return FusedActivation::kRelu;
  }
  return FusedActivation::kNone;
}

// Per tensor: how many ops (and network outputs) read it, which op writes it (-1: none) and the
// last op that reads it (-1: none).
struct Uses {
  std::vector<int32_t> consumers, producer, reader;
  explicit Uses(const Program& p) : consumers(p.tensors.size(), 0), producer(p.tensors.size(), -1), reader(p.tensors.size(), -1) {
    for (size_t i = 0; i < p.ops.size(); ++i) {
      for (int32_t t : p.ops[i].inputs) {
        ++consumers[t];
        reader[t] = static_cast<int32_t>(i);
      }
      for (int32_t t : p.ops[i].outputs) producer[t] = static_cast<int32_t>(i);
    }
    for (const OutputDef& o : p.outputs) ++consumers[o.tensor];
  }
  // Op `into` now computes `op`: it writes op's output, and op runs nothing.
  void absorb(Program& p, OpDef& op, int32_t into) {
    p.ops[into].outputs[0] = op.outputs[0];
    producer[op.outputs[0]] = into;
    op.fusedInto = into;
    op.inputs.clear();
    op.outputs.clear();
  }
};

}  // namespace

Program fuseConvolutionActivations(Program out) {
  Uses uses(out);
  std::vector<int32_t>& consumers = uses.consumers;
  std::vector<int32_t>& producer = uses.producer;

  for (size_t i = 0; i < out.ops.size(); ++i) {
    OpDef& act = out.ops[i];
    const auto* a = std::get_if<ActivationAttrs>(&act.attrs);
    if (!a || act.fusedInto >= 0) continue;
    const int32_t x = act.inputs[0];
    const int32_t p = producer[x];
    if (p < 0 || consumers[x] != 1) continue;
    OpDef& conv = out.ops[p];
    auto* c = std::get_if<ConvAttrs>(&conv.attrs);
    if (!c || c->activation != FusedActivation::kNone) continue;
    c->activation = fusedFor(a->type);
    uses.absorb(out, act, p);
  }
  return out;
}

Program fuseResidualAdds(Program out) {
  Uses uses(out);
  std::vector<int32_t>& consumers = uses.consumers;
  std::vector<int32_t>& producer = uses.producer;
  // The per-tensor int8 -> float Dequantize that writes `a` for the add alone (-1: none), with its scale.
  auto int8Residual = [&](int32_t a, float& scale) -> int32_t {
    const int32_t d = producer[a];
    if (d < 0 || consumers[a] != 1) return -1;
    const OpDef& dq = out.ops[d];
    const auto* da = std::get_if<DequantizeAttrs>(&dq.attrs);
    if (!da || da->axis >= 0 || dq.fusedInto >= 0 || out.tensors[dq.inputs[0]].dtype != ir::DType::Int8) return -1;
    try {
      scale = int8ConstantScale(out, dq);
    } catch (const Error&) {
      return -1;  // not one constant float32 scale: the Dequantize runs on its own
    }
    return d;
  };
  // The convolution that can take add `op`'s input `k` as its output, with the other input as
  // residual: a float convolution with a float residual of its dtype, or an int8 one with a
  // dequantized int8 residual (read as int8, the Dequantize folded in: `dequantize` its op).
  auto fusable = [&](const OpDef& op, size_t k, int32_t& dequantize, float& scale) -> int32_t {
    const int32_t b = op.inputs[k], a = op.inputs[1 - k];
    const int32_t p = producer[b];
    dequantize = -1;
    if (p < 0 || consumers[b] != 1 || a == b) return -1;
    const OpDef& conv = out.ops[p];
    const auto* c = std::get_if<ConvAttrs>(&conv.attrs);
    if (!c || conv.fusedInto >= 0 || conv.inputs.size() != 1) return -1;
    if (c->isInt8() && (dequantize = int8Residual(a, scale)) < 0) return -1;
    const int32_t residual = dequantize >= 0 ? out.ops[dequantize].inputs[0] : a;
    if (producer[residual] >= p) return -1;  // the residual must exist when the convolution runs
    const TensorDef& ta = out.tensors[a];
    const TensorDef& tb = out.tensors[b];
    const TensorDef& ty = out.tensors[op.outputs[0]];
    if (ta.dims != tb.dims || ta.dims != ty.dims || ta.dtype != tb.dtype || ta.dtype != ty.dtype || ta.dims.size() != 4) return -1;
    if (ta.dtype != ir::DType::Float16 && ta.dtype != ir::DType::Float32) return -1;
    return p;
  };
  for (size_t i = 0; i < out.ops.size(); ++i) {
    OpDef& add = out.ops[i];
    const auto* e = std::get_if<ElementWiseAttrs>(&add.attrs);
    if (!e || e->op != ElementWiseOperation::Sum || add.fusedInto >= 0 || add.inputs.size() != 2) continue;
    // The later-produced input is the convolution's output, as a rule; but an int8 shortcut's
    // Dequantize is recorded just before the add, after the convolution, so the other side is
    // tried too (fusable checks that the residual exists when the convolution runs).
    const size_t later = producer[add.inputs[1]] > producer[add.inputs[0]] ? 1 : 0;
    int32_t dequantize = -1;
    float scale = 0;
    size_t k = later;
    int32_t p = fusable(add, k, dequantize, scale);
    if (p < 0) p = fusable(add, k = 1 - later, dequantize, scale);
    if (p < 0) continue;
    if (dequantize >= 0) {
      OpDef& dq = out.ops[dequantize];
      out.ops[p].inputs.push_back(dq.inputs[0]);
      std::get<ConvAttrs>(out.ops[p].attrs).residualScale = scale;
      dq.fusedInto = p;
      dq.inputs.clear();
      dq.outputs.clear();
    } else {
      out.ops[p].inputs.push_back(add.inputs[1 - k]);
    }
    uses.absorb(out, add, p);
  }
  return out;
}

Program foldCastsIntoDirectConvolutions(Program out) {
  const Uses uses(out);
  for (size_t i = 0; i < out.ops.size(); ++i) {
    OpDef& cast = out.ops[i];
    if (!std::holds_alternative<CastAttrs>(cast.attrs) || cast.fusedInto >= 0 || cast.inputs.size() != 1) continue;
    const int32_t from = cast.inputs[0], to = cast.outputs[0];
    if (!isFloatDType(out.tensors[from].dtype) || !isFloatDType(out.tensors[to].dtype) || uses.consumers[to] != 1) continue;
    const int32_t c = uses.reader[to];
    if (c < 0) continue;  // read by a network output only
    OpDef& conv = out.ops[c];
    // Not into an int8 convolution: it quantizes what it reads, and quantizing the Cast's input
    // instead of its output could round a value to another integer.
    if (!runsDirect(out, conv) || conv.inputs[0] != to || std::get<ConvAttrs>(conv.attrs).isInt8()) continue;
    conv.inputs[0] = from;
    cast.fusedInto = c;
    cast.inputs.clear();
    cast.outputs.clear();
  }
  return out;
}

Program runFusionPasses(Program recorded) {
  // Each pass takes the program by value: moved along the chain, the weights are never copied.
  return foldCastsIntoDirectConvolutions(
      foldInt8Quantizes(fuseResidualAdds(fuseConvolutionActivations(fuseDetectDecode(std::move(recorded))))));
}

}  // namespace netdef::cuda
