// matmul: y = a @ b, batched and row-major as NumPy's matmul: a [..., M, K], b [..., K, N] (rank
// 2..kMaxRank each), the leading (batch) dimensions broadcast, y [broadcast batch..., M, N].
// float32 or float16, the same for a, b and y; products accumulated in float32 (fp16 output
// rounded to nearest even). A plain shared-memory tiled kernel, kMatMulTile x kMatMulTile outputs
// per block: correctness over speed (the convolutions do not come through here).
//
// Test: native/tests/ops_matmul.cu (CPU reference in double; error relative to sum |a||b|:
// fp32 1e-6, fp16 1e-3).
#pragma once

#include "op_common.cuh"

namespace netdef::cuda::ops {

struct MatMulParams {
  ir::DType dtype = ir::DType::Float32;
  const void* a = nullptr;
  const void* b = nullptr;
  void* y = nullptr;  // must not overlap a or b
  Dims aShape;        // [..., M, K]
  Dims bShape;        // [..., K, N]
  Dims yShape;        // [broadcast batch..., M, N]
};

void launchMatMul(const MatMulParams& p, cudaStream_t stream);

}  // namespace netdef::cuda::ops
