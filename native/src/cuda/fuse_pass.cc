// Fusion pass: see fuse_pass.h.
#include "fuse_pass.h"

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

}  // namespace

Program fuseConvolutionActivations(const Program& in) {
  Program out = in;
  std::vector<int32_t> consumers(out.tensors.size(), 0);
  std::vector<int32_t> producer(out.tensors.size(), -1);
  for (size_t i = 0; i < out.ops.size(); ++i) {
    for (int32_t t : out.ops[i].inputs) ++consumers[t];
    for (int32_t t : out.ops[i].outputs) producer[t] = static_cast<int32_t>(i);
  }
  for (const OutputDef& o : out.outputs) ++consumers[o.tensor];

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
    conv.outputs[0] = act.outputs[0];
    producer[act.outputs[0]] = p;
    act.fusedInto = p;
    act.inputs.clear();
    act.outputs.clear();
  }
  return out;
}

}  // namespace netdef::cuda
