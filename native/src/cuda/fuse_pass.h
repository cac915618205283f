// Fusion pass over a Program: a Convolution whose only consumer is an Activation (SiLU, sigmoid,
// ReLU) takes that activation into its epilogue. The activation op stays in the program (so
// layers() still lists it, as "fused into <conv>") but runs nothing; the convolution now writes
// the activation's output tensor. Pure (the Program by value: a caller moves it in to avoid copying its weights).
//
// Test: native/tests/engine_test.cu (conv + SiLU networks report one fused pair and still match
// the CPU reference); native/tests/engine_test_chain.cu (C2f bottlenecks' residual adds fused,
// against the CPU reference); native/tests/host/direct_conv_passes.cc (Cast folding).
#pragma once

#include "program.h"

namespace netdef::cuda {

Program fuseConvolutionActivations(Program p);

// A residual add y = a + b (ElementWise Sum, both inputs of y's shape and dtype) where b is the
// output of a convolution read by nothing else, and a is produced before that convolution
// runs: the convolution takes a as a second input and adds it after its activation
// (ConvGeometry::hasResidual), writing y itself; the add runs nothing (fused into the
// convolution). Then the add's output, being a convolution's, can be written in place into a
// concat (channel_views.h). An int8 convolution (float32 output) takes the add when a is a per-tensor
// Dequantize of an int8 tensor read by the add alone (the int8 pass's Bottleneck shortcut,
// dsl/quantize/int8-regions.ts): it reads that int8 tensor as its residual at the Dequantize's
// scale (ConvAttrs::residualScale) and the Dequantize runs nothing either; a Quantize after the add
// then folds into the convolution too (int8_conv_pass.h). Test: native/tests/host/int8_passes.cc,
// native/tests/engine_test_int8.cu. Pure (the Program by value: a caller moves it in to avoid
// copying its weights).
Program fuseResidualAdds(Program p);

// A float Cast (float32 <-> float16) whose output only a float direct convolution reads
// (direct_conv_rule.h, e.g. the stem reading the float32 network input in a float16 network):
// the convolution reads the Cast's input itself (ConvGeometry::inDtype) and the Cast runs nothing
// (fused into the convolution, which comes after it). Pure (the Program by value: a caller moves it in to avoid copying its weights).
Program foldCastsIntoDirectConvolutions(Program p);

// The passes a build runs on a recorded network, in order: the Detect head's tail
// (detect_decode_pass.h), activations, residual adds, int8 Quantize readers (int8_conv_pass.h),
// Casts into direct convolutions.
Program runFusionPasses(Program recorded);

}  // namespace netdef::cuda
