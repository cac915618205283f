// pooling: 2-D max or average pooling of x [batch, channels, height, width] into y
// [batch, channels, outHeight, outWidth], with a kernel, a stride and padding (top, left, bottom,
// right, as ir::PoolingNode); output sizes round down (PyTorch's ceil_mode=False). Max: padded
// cells never win. Average: the sum over the window's in-image cells divided by the full window
// size, i.e. padding counts as zeros (PyTorch's count_include_pad=True). float32 or float16
// (average accumulated in float32), or int8 for max pooling only (compared as floats, which hold
// every int8 exactly: the result is bit exact; max commutes with quantization, so an int8 region
// pools without requantizing). One kernel, templated on the element type. One thread per output
// element. x and y are addressed through element strides (batch, channel, row, column; all zero:
// dense NCHW), so NHWC tensors and channel ranges of a wider tensor (a concat's buffer, written
// in place) work; where y's channels are contiguous (NHWC) consecutive threads take consecutive
// channels, so reads and writes stay coalesced.
//
// Test: native/tests/ops_pooling.cu (CPU loop doing the same float operations: exact; int8 max
// against an integer loop; NHWC and channel-range strides).
#pragma once

#include "op_common.cuh"

namespace netdef::cuda::ops {

struct PoolingParams {
  ir::PoolingOp op = ir::PoolingOp::Max;
  ir::DType dtype = ir::DType::Float32;
  const void* x = nullptr;
  void* y = nullptr;
  int64_t batch = 1, channels = 1, height = 1, width = 1;
  int64_t kernel[2] = {1, 1};
  int64_t stride[2] = {1, 1};
  int64_t padding[4] = {0, 0, 0, 0};  // top, left, bottom, right
  int64_t outHeight = 1, outWidth = 1;  // must equal poolingOutputSize(...) per axis
  int64_t xStrides[4] = {}, yStrides[4] = {};  // elements; all zero: dense NCHW
};

// floor((in + padBegin + padEnd - kernel) / stride) + 1
inline int64_t poolingOutputSize(int64_t in, int64_t kernel, int64_t stride, int64_t padBegin, int64_t padEnd) {
  return (in + padBegin + padEnd - kernel) / stride + 1;
}

void launchPooling(const PoolingParams& p, cudaStream_t stream);

}  // namespace netdef::cuda::ops
