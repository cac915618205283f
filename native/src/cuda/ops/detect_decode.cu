// detect_decode: see detect_decode.cuh.
#include <cmath>

#include "detect_decode.cuh"
#include "op_device.cuh"

namespace netdef::cuda::ops {
namespace {

constexpr const char* kOp = "detect_decode";
constexpr int kWarpSize = 32;
// Class logits staged per pass; +1 float of padding per anchor row against bank conflicts.
constexpr int64_t kClassChunk = 64;
constexpr int64_t kRowPad = 1;
constexpr int64_t kBoxRow = kDetectBoxSides * kDetectDecodeMaxBins + kRowPad;
constexpr int64_t kClassRow = kClassChunk + kRowPad;

struct Args {
  DetectDecodeParams p;
  int64_t anchors = 0, tilesPerImage = 0;
  int64_t levelStart[kDetectDecodeMaxLevels + 1] = {};
  bool channelsInner = false;  // every level's channels are contiguous (NHWC)
};

__device__ __forceinline__ float roundIf(float v, bool half) { return half ? __half2float(__float2half_rn(v)) : v; }

__device__ __forceinline__ float loadFloat(const void* p, int64_t i, ir::DType t) {
  return t == ir::DType::Float16 ? __half2float(static_cast<const __half*>(p)[i]) : static_cast<const float*>(p)[i];
}

// Where anchor a0 + j of image n lies: its level's element at channel 0 and that level's channel
// stride (null for anchors past the end). Computed once per block, so staging does no division.
template <typename TIn>
struct AnchorSlots {
  const TIn* at[kDetectDecodeTile];
  int64_t channelStride[kDetectDecodeTile];
};

template <typename TIn>
__device__ void locateAnchors(const Args& g, int64_t n, int64_t a0, AnchorSlots<TIn>& slots) {
  for (int64_t j = threadIdx.x; j < kDetectDecodeTile; j += blockDim.x) {
    const int64_t a = a0 + j;
    slots.at[j] = nullptr;
    if (a >= g.anchors) continue;
    int l = 0;
    while (a >= g.levelStart[l + 1]) ++l;
    const DetectDecodeLevel& lv = g.p.levels[l];
    const int64_t cell = a - g.levelStart[l], h = cell / lv.width, w = cell % lv.width;
    slots.at[j] = static_cast<const TIn*>(lv.x) + n * lv.strides[0] + h * lv.strides[2] + w * lv.strides[3];
    slots.channelStride[j] = lv.strides[1];
  }
}

// Stages channels [c0, c0 + channels) of the tile's anchors into rows[j * rowStride + c], walking
// the storage order: with contiguous channels (NHWC) a warp reads one anchor's channels, else one
// channel across anchors (adjacent cells adjacent in memory).
template <typename TIn>
__device__ void stage(const Args& g, const AnchorSlots<TIn>& slots, int64_t c0, int64_t channels, float* rows, int64_t rowStride) {
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize, warp = static_cast<int>(threadIdx.x) / kWarpSize;
  const int warps = static_cast<int>(blockDim.x) / kWarpSize;
  if (g.channelsInner) {
    for (int64_t j = warp; j < kDetectDecodeTile; j += warps) {
      const TIn* x = slots.at[j];
      if (!x) continue;
      for (int64_t c = lane; c < channels; c += kWarpSize) rows[j * rowStride + c] = toFloat(x[c0 + c]);
    }
    return;
  }
  for (int64_t c = warp; c < channels; c += warps) {
    for (int64_t j = lane; j < kDetectDecodeTile; j += kWarpSize) {
      const TIn* x = slots.at[j];
      if (x) rows[j * rowStride + c] = toFloat(x[(c0 + c) * slots.channelStride[j]]);
    }
  }
}

template <typename TIn, typename TOut>
__global__ void __launch_bounds__(kDetectDecodeBlock) detectDecodeKernel(Args g) {
  __shared__ float box[kDetectDecodeTile * kBoxRow];
  __shared__ float cls[kDetectDecodeTile * kClassRow];
  __shared__ float dist[kDetectDecodeTile][kDetectBoxSides];
  __shared__ float dfl[kDetectDecodeMaxBins];
  __shared__ AnchorSlots<TIn> slots;
  const DetectDecodeParams& p = g.p;
  const int64_t n = blockIdx.x / g.tilesPerImage, a0 = (blockIdx.x % g.tilesPerImage) * kDetectDecodeTile;
  const int64_t bins = p.bins, boxChannels = kDetectBoxSides * bins, outChannels = kDetectBoxSides + p.classes;
  TOut* y = static_cast<TOut*>(p.y) + n * outChannels * g.anchors;

  for (int64_t r = threadIdx.x; r < bins; r += blockDim.x) dfl[r] = loadFloat(p.dfl, r, p.dflDtype);
  locateAnchors<TIn>(g, n, a0, slots);
  __syncthreads();
  stage<TIn>(g, slots, 0, boxChannels, box, kBoxRow);
  __syncthreads();

  // Distances: the softmax over each side's bins as the softmax op computes it, then the DFL's
  // weighted sum (the convolution's float32 accumulation).
  for (int64_t i = threadIdx.x; i < kDetectDecodeTile * kDetectBoxSides; i += blockDim.x) {
    const int64_t j = i / kDetectBoxSides, s = i % kDetectBoxSides;
    const float* logits = box + j * kBoxRow + s * bins;
    float maxValue = -INFINITY;
    for (int64_t r = 0; r < bins; ++r) maxValue = fmaxf(maxValue, logits[r]);
    float sum = 0.0f;
    for (int64_t r = 0; r < bins; ++r) sum += expf(logits[r] - maxValue);
    const float inverse = 1.0f / sum;
    float d = 0.0f;
    for (int64_t r = 0; r < bins; ++r) d = fmaf(roundIf(expf(logits[r] - maxValue) * inverse, p.halfSoftmax), dfl[r], d);
    dist[j][s] = roundIf(d, p.halfDistance);
  }
  __syncthreads();

  // Boxes: centre and size in input pixels, one output row (x, y, w, h) after another.
  for (int64_t i = threadIdx.x; i < kDetectDecodeTile * kDetectBoxSides; i += blockDim.x) {
    const int64_t row = i / kDetectDecodeTile, j = i % kDetectDecodeTile, a = a0 + j;
    if (a >= g.anchors) continue;
    const int64_t axis = row % 2;  // 0: x, 1: y
    const float point = loadFloat(p.anchors, axis * g.anchors + a, p.constDtype);
    const float stride = loadFloat(p.strides, a, p.constDtype);
    const float low = roundIf(point - dist[j][axis], p.halfDecode);
    const float high = roundIf(point + dist[j][axis + 2], p.halfDecode);
    const float v = row < 2 ? roundIf(__fdiv_rn(roundIf(low + high, p.halfDecode), p.divisor), p.halfDecode) : roundIf(high - low, p.halfDecode);
    y[row * g.anchors + a] = fromFloat<TOut>(roundIf(v * stride, p.halfDecode || p.halfBox));
  }

  // Scores, kClassChunk classes at a time.
  for (int64_t c0 = 0; c0 < p.classes; c0 += kClassChunk) {
    const int64_t chunk = p.classes - c0 < kClassChunk ? p.classes - c0 : kClassChunk;
    __syncthreads();  // the previous chunk is written out
    stage<TIn>(g, slots, boxChannels + c0, chunk, cls, kClassRow);
    __syncthreads();
    for (int64_t i = threadIdx.x; i < kDetectDecodeTile * chunk; i += blockDim.x) {
      const int64_t c = i / kDetectDecodeTile, j = i % kDetectDecodeTile, a = a0 + j;
      if (a >= g.anchors) continue;
      // As the Sigmoid op the fusion replaced computes it (activation.cu: expf and an IEEE
      // division), so that the fused head's scores are the unfused ones'.
      const float score = 1.0f / (1.0f + expf(-cls[j * kClassRow + c]));
      y[(kDetectBoxSides + c0 + c) * g.anchors + a] = fromFloat<TOut>(roundIf(score, p.halfScore));
    }
  }
}

template <typename TIn, typename TOut>
void run(const Args& g, cudaStream_t stream) {
  const int64_t blocks = g.p.batch * g.tilesPerImage;
  detectDecodeKernel<TIn, TOut><<<static_cast<unsigned>(blocks), kDetectDecodeBlock, 0, stream>>>(g);
  checkLaunch(kOp);
}

template <typename TIn>
void runFor(const Args& g, cudaStream_t stream) {
  if (g.p.outDtype == ir::DType::Float32) return run<TIn, float>(g, stream);
  return run<TIn, __half>(g, stream);
}

}  // namespace

int64_t detectDecodeAnchors(const DetectDecodeParams& p) {
  int64_t a = 0;
  for (int l = 0; l < p.levelCount; ++l) a += p.levels[l].height * p.levels[l].width;
  return a;
}

void launchDetectDecode(const DetectDecodeParams& p, cudaStream_t stream) {
  requireFloatType(p.inDtype, kOp);
  requireFloatType(p.dflDtype, kOp);
  requireFloatType(p.constDtype, kOp);
  requireFloatType(p.outDtype, kOp);
  if (p.levelCount < 1 || p.levelCount > kDetectDecodeMaxLevels) {
    throwInvalid(kOp, "takes 1 to " + std::to_string(kDetectDecodeMaxLevels) + " levels, got " + std::to_string(p.levelCount));
  }
  if (p.bins < 1 || p.bins > kDetectDecodeMaxBins) {
    throwInvalid(kOp, "takes 1 to " + std::to_string(kDetectDecodeMaxBins) + " DFL bins, got " + std::to_string(p.bins));
  }
  require(p.classes >= 1 && p.batch >= 0, kOp, "bad shape (classes must be >= 1)");
  require(p.divisor != 0.0f, kOp, "the centre's divisor is 0");
  if (p.batch == 0) return;
  require(p.dfl && p.anchors && p.strides && p.y, kOp, "null DFL weights, anchors, strides or y");
  Args g;
  g.p = p;
  g.channelsInner = true;
  for (int l = 0; l < p.levelCount; ++l) {
    const DetectDecodeLevel& lv = p.levels[l];
    if (!lv.x || lv.height < 1 || lv.width < 1) throwInvalid(kOp, "level " + std::to_string(l) + ": null x or empty");
    g.levelStart[l + 1] = g.levelStart[l] + lv.height * lv.width;
    g.channelsInner = g.channelsInner && lv.strides[1] == 1;
  }
  g.anchors = g.levelStart[p.levelCount];
  g.tilesPerImage = (g.anchors + kDetectDecodeTile - 1) / kDetectDecodeTile;
  if (p.inDtype == ir::DType::Float32) return runFor<float>(g, stream);
  return runFor<__half>(g, stream);
}

}  // namespace netdef::cuda::ops
