// Output shapes of the network-definition operations, as TensorRT computes them, with -1 for the
// dynamic batch: used by the RecordingNetwork (and by any builder that wants the same rules).
// Each rule throws netdef::Error(ERR_INVALID_ARGUMENT) on inputs a real network would refuse.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "network.h"

namespace netdef {

// "float16[-1,16,320,320]"
std::string formatDims(const Dims& dims);
std::string formatType(DType type, const Dims& dims);

// Product of the dimensions (1 for rank 0); -1 dimensions are skipped.
int64_t fixedVolume(const Dims& dims);

// One spatial output size of a convolution or pooling window (-1 stays -1).
int64_t windowOutput(int64_t size, int64_t kernel, int64_t stride, int64_t padBefore, int64_t padAfter, int64_t dilation);

// IConvolutionLayer: [N, C, H, W] -> [N, outChannels, H', W'] (channels and groups checked by the caller).
Dims convolutionDims(const Dims& input, int64_t outChannels, const ConvolutionParams& params);

// Element-wise broadcasting between equal ranks: per axis equal, or one side 1.
Dims broadcastDims(const Dims& a, const Dims& b);

Dims concatDims(const std::vector<const Dims*>& inputs, int axis);

// ISliceLayer: `size` is the output size; -1 in it keeps the input's (dynamic) dimension.
Dims sliceDims(const Dims& input, const Dims& start, const Dims& size, const Dims& stride);

// IShuffleLayer: reshape (at most one -1: the dynamic batch carried over, or a size inferred when the
// input is fixed), then permutation; empty means none.
Dims shuffleDims(const Dims& input, const Dims& reshape, const std::vector<int>& permutation);

Dims resizeDims(const Dims& input, const std::vector<float>& scales);

// [..., m, k] x [..., k, n] -> [..., m, n], leading axes broadcast.
Dims matMulDims(const Dims& a, const Dims& b);

// INMSLayer: boxes [B, N, 4] and scores [B, N, C] -> {selected indices [-1, 3], their count []};
// also checks the settings (thresholds, counts, TopK limit) as dsl/ir/nodes/nms.ts does.
std::vector<Dims> nmsDims(const Dims& boxes, const Dims& scores, const NmsParams& params);

// Normalises an axis against a rank (negative counts from the end).
int normalizeAxis(int axis, size_t rank);

}  // namespace netdef
