// detect_decode: the tail of a YOLOv8 Detect head in one kernel, from the per-level head outputs
// to the network's [N, 4 + nc, A] output (detect_decode_pass.h finds it in a program). For batch
// n and anchor a (level l, cell (h, w)), with x_l[n, c, h, w] the level's 4·R box logits then nc
// class logits:
//
//   dist[s]   = sum_r softmax_r(x_l[n, s·R + r, h, w]) · dfl[r]          (s = left, top, right, bottom)
//   x1 = ax - dist[0], y1 = ay - dist[1], x2 = ax + dist[2], y2 = ay + dist[3]   (anchor point (ax, ay))
//   y[n, 0..3, a] = ((x1 + x2) / divisor, (y1 + y2) / divisor, x2 - x1, y2 - y1) · stride[a]
//   y[n, 4 + c, a] = sigmoid(x_l[n, 4·R + c, h, w])
//
// which the unfused graph computes as reshapes, a concat, splits, a transpose, a softmax, the
// DFL's 16 -> 1 convolution, six elementwise ops, a sigmoid and two concats. Computed in float32;
// where the unfused graph stores an intermediate in float16 (the softmax's probabilities, the
// distances, the decode's sums and products, the scores), the kernel rounds it to float16 at that
// point, so the result is what the policy's precisions give, not more precise than asked.
//
// Levels are read through element strides (batch, channel, row, column): NCHW, NHWC or a
// channel-range view, so no Reformat runs before the kernel. Work split: a block takes
// kDetectDecodeTile anchors of one image; it stages their box logits and then chunks of their
// class logits in shared memory, read in the levels' storage order (coalesced for NHWC and NCHW
// alike), and writes y along the anchors (coalesced). One kernel family, templated on the levels'
// and the output's element types.
//
// Test: native/tests/ops_detect_decode.cu (float32 and float16, NCHW and NHWC levels, rounding
// flags, against the unfused computation on the CPU).
#pragma once

#include "op_common.cuh"

namespace netdef::cuda::ops {

// Anchors per block; the DFL bins (R) and levels the kernel takes.
inline constexpr int64_t kDetectDecodeTile = 64;
// Threads per block. A block holds about 35 KB of staged logits, so an SM keeps at most 6 blocks:
// with 128 threads that was 768 resident threads (37 % occupancy, each warp staging 16 anchors
// one after another); with 512, the registers (40 a thread on sm_90) let an SM keep 3 blocks, 1536
// threads, and at batch 1 (132 blocks, one per SM) each warp stages 4 anchors.
inline constexpr int kDetectDecodeBlock = 512;
inline constexpr int64_t kDetectDecodeMaxBins = 16;  // YOLOv8's reg_max
inline constexpr int kDetectDecodeMaxLevels = 5;
// Box sides per anchor (left, top, right, bottom).
inline constexpr int64_t kDetectBoxSides = 4;

struct DetectDecodeLevel {
  const void* x = nullptr;  // [N, 4·R + nc, height, width] through strides
  int64_t height = 0, width = 0;
  int64_t strides[4] = {};  // elements: batch, channel, row, column
};

struct DetectDecodeParams {
  ir::DType inDtype = ir::DType::Float32;       // the levels'
  ir::DType dflDtype = ir::DType::Float32;      // the DFL weights'
  ir::DType constDtype = ir::DType::Float32;    // the anchor points' and strides'
  ir::DType outDtype = ir::DType::Float32;      // y's
  int levelCount = 0;
  DetectDecodeLevel levels[kDetectDecodeMaxLevels];
  const void* dfl = nullptr;      // [R] the DFL convolution's weights
  const void* anchors = nullptr;  // [2, A]: x then y of every anchor point, level after level
  const void* strides = nullptr;  // [A]
  void* y = nullptr;              // [N, 4 + nc, A], contiguous
  int64_t batch = 1, bins = 16, classes = 80;
  float divisor = 2.0f;  // of the centre (the graph's Div constant)
  // Round to float16 after the softmax, the distances, each decode step, the final boxes (the
  // decode's product, where only later tensors are float16), the sigmoid.
  bool halfSoftmax = false, halfDistance = false, halfDecode = false, halfBox = false, halfScore = false;
};

// Anchors of all levels together (sum of height x width).
int64_t detectDecodeAnchors(const DetectDecodeParams& p);

// ERR_INVALID_ARGUMENT for what the kernel cannot run (dtypes, bins, levels, null pointers);
// ERR_BACKEND when the launch fails.
void launchDetectDecode(const DetectDecodeParams& p, cudaStream_t stream);

}  // namespace netdef::cuda::ops
