// softmax: y = exp(x - max) / sum(exp(x - max)) along the middle axis of x viewed as
// [outer, axis, inner] (contiguous), e.g. the DFL's axis 1 of [B, 16, 4, A]: outer B, axis 16,
// inner 4*A. float32 or float16 in and out; max, exponentials and sum in float32. One thread per
// (outer, inner) column, adjacent threads on adjacent inner positions (coalesced); suited to short
// axes (the DFL's 16), correct for any. y may equal x.
//
// Test: native/tests/ops_softmax.cu (CPU reference in double; fp32 1e-6, fp16 1e-3 relative).
#pragma once

#include "op_common.cuh"

namespace netdef::cuda::ops {

struct SoftmaxParams {
  ir::DType dtype = ir::DType::Float32;
  const void* x = nullptr;
  void* y = nullptr;  // may equal x
  int64_t outer = 1, axis = 1, inner = 1;
};

void launchSoftmax(const SoftmaxParams& p, cudaStream_t stream);

}  // namespace netdef::cuda::ops
