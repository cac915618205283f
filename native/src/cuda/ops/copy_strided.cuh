// copy_strided: dst[i · dstStrides] = src[i · srcStrides] for every index i of `shape` (rank <=
// kMaxRank, strides in elements, src and dst pointing at the first element copied). Covers concat
// (each input into a channel range of the output), split and slice (a channel range out), and
// transpose/shuffle (permuted strides). Any dtype: elements are copied as bytes, bit for bit.
// Dimensions are put in dst memory order and coalesced first; when the innermost dimension is
// contiguous on both sides (concat, split, slice in NCHW or NHWC), rows are copied in units of up to
// 16 bytes by consecutive threads, short rows packed together; when src and dst are contiguous along
// different dimensions (transposes such as NCHW <-> NHWC), 32x32 tiles go through shared memory so
// that reads and writes are both coalesced. src and dst must not overlap; dst strides must not map
// two indices to one element.
//
// Test: native/tests/ops_copy_strided.cu (bitwise equality with a CPU loop).
#pragma once

#include "op_common.cuh"

namespace netdef::cuda::ops {

struct CopyStridedParams {
  ir::DType dtype = ir::DType::Float32;
  const void* src = nullptr;
  void* dst = nullptr;
  Dims shape;
  Dims srcStrides;  // same rank as shape; may be negative or 0 (a broadcast read)
  Dims dstStrides;  // same rank as shape
};

void launchCopyStrided(const CopyStridedParams& p, cudaStream_t stream);

}  // namespace netdef::cuda::ops
