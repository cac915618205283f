// elementwise: y = a op b for op in {add, sub, mul, div, max, min} with NumPy broadcasting of two
// contiguous inputs of rank <= kMaxRank into a contiguous y of the broadcast shape. float32 or
// float16, the same dtype for a, b and y (computed in float32, stored rounded to nearest even).
// y may equal a or b when that input has y's shape.
//
// Test: native/tests/ops_elementwise.cu (CPU reference in float; fp32 1e-6, fp16 1e-3 relative).
#pragma once

#include "op_common.cuh"

namespace netdef::cuda::ops {

struct ElementwiseParams {
  ir::ElementWiseOp op = ir::ElementWiseOp::Add;
  ir::DType dtype = ir::DType::Float32;
  const void* a = nullptr;
  const void* b = nullptr;
  void* y = nullptr;
  Dims aShape, bShape;
  Dims yShape;  // must equal broadcastShapes(aShape, bShape)
};

void launchElementwise(const ElementwiseParams& p, cudaStream_t stream);

}  // namespace netdef::cuda::ops
