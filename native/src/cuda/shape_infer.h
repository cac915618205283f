// Output shapes of the engine's ops, with the symbolic batch (ir::kBatch) carried in the first
// dimension, as CudaNetwork needs them when a layer is added (TensorRT infers shapes at add time
// too). Each function throws netdef::Error(ERR_INVALID_ARGUMENT) saying what does not fit; the
// caller prefixes the layer's name.
//
// Test: native/tests/engine_test.cu builds networks of every kind and compares the output shapes.
#pragma once

#include <cstdint>
#include <vector>

#include "program.h"

namespace netdef::cuda::shapes {

using Shape = std::vector<int64_t>;

Shape convolution(const Shape& x, const ConvAttrs& a);
Shape pooling(const Shape& x, const PoolingAttrs& a);
// NumPy broadcasting; the batch symbol broadcasts against 1 and itself only.
Shape broadcast(const Shape& a, const Shape& b);
Shape concat(const std::vector<Shape>& xs, int32_t axis);
Shape slice(const Shape& x, const SliceAttrs& a);
Shape resize(const Shape& x, const ResizeAttrs& a);
Shape shuffle(const Shape& x, const ShuffleAttrs& a);
Shape matmul(const Shape& a, const Shape& b);
// An axis in [0, rank) (negative counts from the end); the batch axis is refused for batched shapes.
int32_t normalizeAxis(int64_t axis, const Shape& x, const char* what);

std::string toString(const Shape& s);

}  // namespace netdef::cuda::shapes
