// Layout pass: gives every 4-D activation a physical layout and inserts Reformat ops where a
// consumer needs another one. In kChannelsLastHalf mode, float16 convolutions whose input and
// output channels are multiples of kTensorCoreChannels run NHWC (cuDNN's tensor-core kernels take
// NHWC natively; NCHW costs them two transposes); concat, slice, resize, activation, cast,
// per-tensor Q/DQ and same-shape elementwise ops keep whatever layout their first input has;
// pooling, shuffle, softmax, matmul, per-channel Q/DQ and the network's inputs and outputs are
// row-major. kRowMajor mode leaves everything row-major (NCHW). The builder builds both modes
// when a network has float16 convolutions and keeps the one that measures faster.
//
// Test: native/tests/engine_test.cu (fp16 networks are checked in both modes against the CPU).
#pragma once

#include <cstdint>

#include "program.h"

namespace netdef::cuda {

enum class LayoutMode : uint8_t { kRowMajor = 0, kChannelsLastHalf = 1 };

// Channel counts that tensor-core kernels take without padding (8 halves = 16 bytes).
inline constexpr int64_t kTensorCoreChannels = 8;

Program assignLayouts(const Program& in, LayoutMode mode);

// True when `p` has a float16 convolution that kChannelsLastHalf would run NHWC.
bool hasChannelsLastCandidates(const Program& p);

const char* layoutModeName(LayoutMode mode);

}  // namespace netdef::cuda
