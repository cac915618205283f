// Program helpers: see program.h.
#include "program.h"

#include "ops/op_common.cuh"

namespace netdef::cuda {

namespace {
struct KindName {
  const char* operator()(const ConvAttrs&) const { return "Convolution"; }
  const char* operator()(const ActivationAttrs&) const { return "Activation"; }
  const char* operator()(const ElementWiseAttrs&) const { return "ElementWise"; }
  const char* operator()(const ConcatAttrs&) const { return "Concatenation"; }
  const char* operator()(const SliceAttrs&) const { return "Slice"; }
  const char* operator()(const PoolingAttrs&) const { return "Pooling"; }
  const char* operator()(const ResizeAttrs&) const { return "Resize"; }
  const char* operator()(const ShuffleAttrs&) const { return "Shuffle"; }
  const char* operator()(const SoftmaxAttrs&) const { return "Softmax"; }
  const char* operator()(const MatMulAttrs&) const { return "MatrixMultiply"; }
  const char* operator()(const CastAttrs&) const { return "Cast"; }
  const char* operator()(const QuantizeAttrs&) const { return "Quantize"; }
  const char* operator()(const DequantizeAttrs&) const { return "Dequantize"; }
  const char* operator()(const ReformatAttrs&) const { return "Reformat"; }
  const char* operator()(const DetectDecodeAttrs&) const { return "DetectDecode"; }
};
}  // namespace

const char* opKindName(const OpAttrs& attrs) { return std::visit(KindName{}, attrs); }

ir::DType recordedDtype(const Program& p, const OpDef& op) {
  if (std::holds_alternative<CastAttrs>(op.attrs) || std::holds_alternative<DequantizeAttrs>(op.attrs)) return p.tensors[op.outputs[0]].dtype;
  if (const auto* c = std::get_if<ConvAttrs>(&op.attrs)) return p.weights[c->weight].dtype;
  return p.tensors[op.inputs.empty() ? op.outputs[0] : op.inputs[0]].dtype;
}

const char* fusedActivationName(FusedActivation a) {
  switch (a) {
    case FusedActivation::kSilu: return "silu";
    case FusedActivation::kSigmoid: return "sigmoid";
    case FusedActivation::kRelu: return "relu";
    case FusedActivation::kNone: return "none";
  }
  return "none";
}

std::vector<int64_t> resolveDims(const TensorDef& t, int64_t batch) {
  std::vector<int64_t> d = t.dims;
  if (t.batched()) d[0] = batch;
  return d;
}

int64_t elementCount(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

uint64_t tensorBytes(const TensorDef& t, int64_t batch) {
  return static_cast<uint64_t>(elementCount(resolveDims(t, batch))) * ops::elementBytes(t.dtype);
}

bool isView(const OpDef& op) {
  if (op.fusedInto >= 0) return true;
  const auto* s = std::get_if<ShuffleAttrs>(&op.attrs);
  return s && s->permutation.empty();
}

}  // namespace netdef::cuda
