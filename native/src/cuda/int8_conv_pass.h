// Int8 convolution pass (after fuseConvolutionActivations, before the layout pass): shapes the
// int8 convolutions CudaNetwork recorded (float32 output, as TensorRT's explicit quantization has
// them) into what the igemm kernel writes:
//  1. A Quantize folded into the epilogue: when the convolution's (activated) output is read by
//     exactly one op, a per-tensor Quantize to int8, and is no network output, the convolution
//     writes that Quantize's int8 output itself (ConvAttrs::outputScale = its scale), and the
//     Quantize runs nothing (fusedInto). So int8 flows between int8 layers without a float tensor.
//  2. Every other int8 convolution writes float16 (the kernel has no float32 output): its output
//     gets a float16 tensor, and a Cast to the graph's float32 tensor follows it. The float32
//     values are then float16-rounded (relative error at most 2^-11) where the CPU backend keeps
//     float32.
// Float convolutions are left as they are; a program without int8 convolutions is returned
// unchanged.
//
// Test: native/tests/engine_test_int8.cu (the folded and the cast outputs, checked against an
// integer CPU reference, and the program's ops after the pass).
#pragma once

#include "program.h"

namespace netdef::cuda {

Program lowerInt8Convolutions(const Program& in);

}  // namespace netdef::cuda
