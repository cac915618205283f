// Which convolutions run on the engine's direct convolution kernel (ops/direct_conv.cuh) rather
// than cuDNN or igemm: float or int8 ones with fewer input or output channels than a tensor-core
// kernel takes unpadded (kTensorCoreChannels), ungrouped, whose whole receptive field (C x R x S
// values) fits the kernel's registers; an int8 one only without a fused residual. In YOLOv8 those
// are the stem (C = 3, 3x3) and the DFL's 1x1 convolution (16 -> 1, where cuDNN runs a GEMM with
// one useful column). Such a layer reads its input in whatever layout and dtype it lies (a float32
// input's Cast is folded into a float one, fuse_pass.h; the input's Quantize into an int8 one,
// int8_conv_pass.h) and writes its output in the layout its consumers want, so neither a Cast, a
// Quantize nor a Reformat runs before the first tensor-core convolution. One rule for the passes
// (fuse_pass, int8_conv_pass, layout_pass) and the layer (conv_layer), header-only so that the host
// tests compile it. An int8 layer the rule picks has the direct kernel as its only candidate (no
// timed igemm alternative, which would need the input padded to 16 channels): right for YOLOv8's
// stem and DFL, measured; an int8 layer of few input channels and many output channels elsewhere
// (8 -> 256, say) might run faster on igemm, unmeasured.
//
// Test: native/tests/host/direct_conv_passes.cc (passes), native/tests/ops_direct_conv.cu (kernel).
#pragma once

#include <cstdint>

#include "layout_pass.h"
#include "program.h"

namespace netdef::cuda {

// The largest C x R x S a direct convolution holds in registers (one output pixel per thread).
inline constexpr int64_t kDirectConvMaxPatch = 32;

// `dtype`: the convolution's own dtype, its weights' (int8 for an int8 convolution); the channel
// counts are its input's and output's; `residual`: a residual add is fused in.
inline bool directConvApplies(ir::DType dtype, int64_t inChannels, int64_t outChannels, const ConvolutionParams& p, bool residual) {
  const bool int8 = dtype == ir::DType::Int8;
  return (isFloatDType(dtype) || (int8 && !residual)) && p.groups == 1 && inChannels > 0 &&
         (inChannels < kTensorCoreChannels || outChannels < kTensorCoreChannels) && inChannels * p.kernel[0] * p.kernel[1] <= kDirectConvMaxPatch;
}

// True when `op` of `p` is a convolution the rule picks (what every pass and the engine ask).
inline bool runsDirect(const Program& p, const OpDef& op) {
  const auto* c = std::get_if<ConvAttrs>(&op.attrs);
  if (!c || op.fusedInto >= 0 || op.inputs.empty()) return false;
  const TensorDef& x = p.tensors[op.inputs[0]];
  return x.dims.size() == 4 && directConvApplies(p.weights[c->weight].dtype, x.dims[1], c->outChannels, c->params, op.inputs.size() > 1);
}

}  // namespace netdef::cuda
