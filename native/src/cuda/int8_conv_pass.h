// Int8 convolution pass (after fuseConvolutionActivations, before the layout pass): folds
// Quantizes into the int8 convolutions CudaNetwork recorded (float32 output, as TensorRT's explicit
// quantization has them). When a convolution's (activated) output is read by exactly one op, a
// per-tensor Quantize to int8, and is no network output, the convolution writes that Quantize's
// int8 output itself (ConvAttrs::outputScale = its scale: the igemm epilogue requantizes), and the
// Quantize runs nothing (fusedInto). So int8 flows between int8 layers without a float tensor.
// Every other int8 convolution keeps its float32 output, which the igemm kernel writes directly.
// An int8 convolution the direct kernel runs (direct_conv_rule.h: all-int8's stem, C = 3, and
// DFL convolution, 16 -> 1) whose input is written by a per-tensor Quantize with a constant scale,
// its own input scale, read by nothing else takes that Quantize in too: it reads the float tensor
// and quantizes it as it reads it (the same values), so the network input is neither quantized
// nor reformatted by a kernel of its own. Float convolutions are left as they are; a
// program without int8 convolutions is returned unchanged.
//
// Test: native/tests/host/int8_passes.cc (the ops after the pass, no GPU) and
// native/tests/engine_test_int8.cu (the folded outputs against an integer CPU reference).
#pragma once

#include "program.h"

namespace netdef::cuda {

Program foldInt8Quantizes(Program p);

// The per-tensor scale of Quantize or Dequantize `q` (its input 1, a one-value float32 constant);
// ERR_INVALID_ARGUMENT naming q otherwise.
float int8ConstantScale(const Program& p, const OpDef& q);

}  // namespace netdef::cuda
