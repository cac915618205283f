// resize_nearest: integer-factor nearest upsampling over the last two axes, as PyTorch's
// Upsample(mode='nearest'): x [outer, height, width] -> y [outer, height*scaleH, width*scaleW]
// with y[o, v, u] = x[o, floor(v / scaleH), floor(u / scaleW)]; outer is the product of the
// leading axes (N*C for NCHW). Any dtype: elements are copied bit for bit. One thread per output
// element (writes coalesced, reads served by the cache).
//
// Test: native/tests/ops_resize_nearest.cu (bitwise equality with a CPU loop).
#pragma once

#include "op_common.cuh"

namespace netdef::cuda::ops {

struct ResizeNearestParams {
  ir::DType dtype = ir::DType::Float32;
  const void* x = nullptr;
  void* y = nullptr;
  int64_t outer = 1, height = 1, width = 1;
  int64_t scaleH = 2, scaleW = 2;  // >= 1
};

void launchResizeNearest(const ResizeNearestParams& p, cudaStream_t stream);

}  // namespace netdef::cuda::ops
