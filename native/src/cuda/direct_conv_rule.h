// Which convolutions run on the engine's direct convolution kernel (ops/direct_conv.cuh) rather
// than cuDNN: float ones with fewer input or output channels than a tensor-core kernel takes
// unpadded (kTensorCoreChannels), ungrouped, whose whole receptive field (C x R x S values) fits
// the kernel's registers. In YOLOv8 those are the stem (C = 3, 3x3) and the DFL's 1x1
// convolution (16 -> 1, where cuDNN runs a GEMM with one useful column). Such a layer reads its
// input in whatever layout and dtype it lies (a float32 input's Cast is folded in, fuse_pass.h)
// and writes its output in the layout its consumers want, so neither a Cast nor a Reformat runs
// before the first tensor-core convolution. One rule for the passes (fuse_pass, layout_pass) and
// the layer (conv_layer), header-only so that the host tests compile it.
//
// Test: native/tests/host/direct_conv_passes.cc (passes), native/tests/ops_direct_conv.cu (kernel).
#pragma once

#include <cstdint>

#include "layout_pass.h"
#include "program.h"

namespace netdef::cuda {

// The largest C x R x S a direct convolution holds in registers (one output pixel per thread).
inline constexpr int64_t kDirectConvMaxPatch = 32;

// `dtype`: the convolution's own dtype (its weights' and output's); `inChannels`: its input's.
inline bool directConvApplies(ir::DType dtype, int64_t inChannels, const ConvAttrs& a) {
  const ConvolutionParams& p = a.params;
  return !a.isInt8() && isFloatDType(dtype) && p.groups == 1 && inChannels > 0 &&
         (inChannels < kTensorCoreChannels || a.outChannels < kTensorCoreChannels) &&
         inChannels * p.kernel[0] * p.kernel[1] <= kDirectConvMaxPatch;
}

}  // namespace netdef::cuda
