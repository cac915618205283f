// Layout pass: gives every 4-D activation a physical layout and inserts Reformat ops where a
// consumer needs another one. In kChannelsLastHalf mode, float16 convolutions whose input and
// output channels are multiples of kTensorCoreChannels run NHWC (cuDNN's tensor-core kernels take
// NHWC natively; NCHW costs them two transposes); concat, slice, resize, pooling, activation,
// cast, per-tensor Q/DQ and same-shape elementwise ops keep whatever layout their first input has;
// shuffle, softmax, matmul, per-channel Q/DQ and the network's inputs and outputs are
// row-major. kRowMajor mode leaves everything row-major (NCHW). A direct convolution
// (direct_conv_rule.h: few input or output channels, e.g. the stem, float or int8) reads its input
// in whatever layout it has and writes NHWC where the convolutions after it want it: float16 in
// kChannelsLastHalf mode (output channels a multiple of kTensorCoreChannels), int8 in both modes
// (a multiple of kInt8ConvChannels); its input is never reformatted and neither is its output. The
// builder builds both modes when a network has float16 convolutions and keeps the one that
// measures faster.
// Other int8 convolutions run NHWC in both modes (the igemm kernel takes nothing else). One whose
// input channels are not a multiple of kInt8ConvChannels reads a padded copy: the Reformat into
// NHWC writes the C channels into a tensor of kInt8ConvChannels (rounded up) channels per pixel,
// its output tensor declaring the padded channel count; the filter is padded with zero weights
// (engine_impl), so the padding's values, whatever they are, add exactly 0 to the int32 sums.
// (All-int8's stem, C = 3, runs direct and reads the float input unpadded.)
//
// Test: native/tests/engine_test.cu (fp16 networks are checked in both modes against the CPU).
#pragma once

#include <cstdint>

#include "program.h"

namespace netdef::cuda {

enum class LayoutMode : uint8_t { kRowMajor = 0, kChannelsLastHalf = 1 };

// Channel counts that tensor-core kernels take without padding (8 halves = 16 bytes).
inline constexpr int64_t kTensorCoreChannels = 8;
// An int8 convolution's input channels are a multiple of this (one 16-byte copy of int8 channels).
inline constexpr int64_t kInt8ConvChannels = 16;

Program assignLayouts(const Program& in, LayoutMode mode);

// True when `p` has a float16 convolution that kChannelsLastHalf would run NHWC.
bool hasChannelsLastCandidates(const Program& p);

const char* layoutModeName(LayoutMode mode);

}  // namespace netdef::cuda
