// Fusion pass over a Program: a Convolution whose only consumer is an Activation (SiLU, sigmoid,
// ReLU) takes that activation into its epilogue. The activation op stays in the program (so
// layers() still lists it, as "fused into <conv>") but runs nothing; the convolution now writes
// the activation's output tensor. Pure: returns a new Program.
//
// Test: native/tests/engine_test.cu (conv + SiLU networks report one fused pair and still match
// the CPU reference).
#pragma once

#include "program.h"

namespace netdef::cuda {

Program fuseConvolutionActivations(const Program& in);

}  // namespace netdef::cuda
