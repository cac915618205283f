// cast: y = x converted elementwise between float32 and float16 (float32 -> float16 rounds to
// nearest even, __float2half_rn; float16 -> float32 is exact), or a plain copy when from == to
// (any dtype, cudaMemcpyAsync). Four elements per thread with 16-byte float32 accesses where both
// pointers are aligned; scalar otherwise and for the tail.
//
// Test: native/tests/ops_cast.cu (bitwise equality with the host's __float2half_rn / __half2float).
#pragma once

#include "op_common.cuh"

namespace netdef::cuda::ops {

struct CastParams {
  ir::DType from = ir::DType::Float32;
  ir::DType to = ir::DType::Float16;
  const void* x = nullptr;
  void* y = nullptr;  // must not overlap x
  int64_t count = 0;  // elements
};

void launchCast(const CastParams& p, cudaStream_t stream);

}  // namespace netdef::cuda::ops
