// candidates: see candidates.cuh.
#include <cub/block/block_scan.cuh>

#include <cmath>

#include "candidates.cuh"
#include "op_device.cuh"

namespace netdef::cuda::ops {
namespace {

constexpr const char* kOp = "candidates";
constexpr int kScoreBlock = 256;
constexpr int kSelectBlock = 1024;
constexpr int kDigitBits = 8;
constexpr int kDigits = 1 << kDigitBits;
constexpr int kBoxChannels = 4;

// Per anchor: key = the maximum's float bits when it is a candidate (> conf > -0, so non-zero), else 0.
template <typename T>
__global__ void scoreKernel(const T* __restrict__ pred, int channels, int anchors, float conf, const uint8_t* __restrict__ allowed,
                            uint32_t* __restrict__ keys, int32_t* __restrict__ classes) {
  const int a = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (a >= anchors) return;
  const int64_t b = blockIdx.y;
  const T* col = pred + (b * channels + kBoxChannels) * static_cast<int64_t>(anchors) + a;
  float m = toFloat(col[0]);
  int best = 0;
  for (int c = 1; c < channels - kBoxChannels; ++c) {
    const float v = toFloat(col[static_cast<int64_t>(c) * anchors]);
    if (v > m || (isnan(v) && !isnan(m))) {  // strictly greater keeps the first index; NaN sticks
      m = v;
      best = c;
    }
  }
  const bool keep = m > conf && (allowed == nullptr || allowed[best] != 0);
  keys[b * anchors + a] = keep ? __float_as_uint(m) : 0u;
  classes[b * anchors + a] = best;
}

using BlockScan = cub::BlockScan<int, kSelectBlock>;

// One block per image: how many pass, the selection threshold when more than `capacity` pass,
// then the kept anchors compacted in anchor order.
template <typename T>
__global__ void selectKernel(const T* __restrict__ pred, int channels, int anchors, int capacity, const uint32_t* __restrict__ allKeys,
                             const int32_t* __restrict__ allClasses, CandidateRecord* __restrict__ allOut, int32_t* __restrict__ counts) {
  __shared__ typename BlockScan::TempStorage scanStorage;
  __shared__ int histogram[kDigits];
  __shared__ int passing;
  __shared__ uint32_t prefix;
  __shared__ int remaining;
  __shared__ int carryEqual, carryKept;
  const int64_t b = blockIdx.x;
  const uint32_t* keys = allKeys + b * anchors;
  const int32_t* classes = allClasses + b * anchors;
  CandidateRecord* out = allOut + b * capacity;
  const T* image = pred + b * channels * static_cast<int64_t>(anchors);
  if (threadIdx.x == 0) {
    passing = 0;
    prefix = 0;
    remaining = 0;
    carryEqual = 0;
    carryKept = 0;
  }
  __syncthreads();
  int mine = 0;
  for (int a = threadIdx.x; a < anchors; a += blockDim.x) mine += keys[a] != 0u;
  atomicAdd(&passing, mine);
  __syncthreads();
  // threshold: keep key > T, and the first `remaining` (in anchor order) with key == T.
  if (passing > capacity && capacity > 0) {
    if (threadIdx.x == 0) remaining = capacity;
    uint32_t mask = 0;
    for (int shift = 32 - kDigitBits; shift >= 0; shift -= kDigitBits) {
      for (int d = threadIdx.x; d < kDigits; d += blockDim.x) histogram[d] = 0;
      __syncthreads();
      const uint32_t want = prefix;
      for (int a = threadIdx.x; a < anchors; a += blockDim.x) {
        const uint32_t k = keys[a];
        if (k != 0u && (k & mask) == want) atomicAdd(&histogram[(k >> shift) & (kDigits - 1)], 1);
      }
      __syncthreads();
      if (threadIdx.x == 0) {
        int above = 0;
        for (int d = kDigits - 1; d >= 0; --d) {
          if (above + histogram[d] >= remaining) {
            prefix |= static_cast<uint32_t>(d) << shift;
            remaining -= above;
            break;
          }
          above += histogram[d];
        }
      }
      mask |= static_cast<uint32_t>(kDigits - 1) << shift;
      __syncthreads();
    }
  }
  const bool limited = passing > capacity;
  const uint32_t threshold = limited ? prefix : 0u;
  const int takeEqual = limited ? remaining : 0;
  // capacity 0: nothing is kept (every key is at most the threshold, and none equal is taken).
  const bool none = capacity == 0;
  for (int start = 0; start < anchors; start += blockDim.x) {
    const int a = start + static_cast<int>(threadIdx.x);
    const uint32_t k = a < anchors ? keys[a] : 0u;
    const int equal = (!none && limited && k == threshold) ? 1 : 0;
    int equalBefore = 0;
    BlockScan(scanStorage).ExclusiveSum(equal, equalBefore);
    __syncthreads();
    const bool keep = !none && k != 0u && (k > threshold || (equal && carryEqual + equalBefore < takeEqual));
    int keptBefore = 0, keptHere = 0;
    BlockScan(scanStorage).ExclusiveSum(keep ? 1 : 0, keptBefore, keptHere);
    if (keep) {
      const int64_t at = a;
      CandidateRecord r;
      r.cx = toFloat(image[at]);
      r.cy = toFloat(image[anchors + at]);
      r.w = toFloat(image[2 * static_cast<int64_t>(anchors) + at]);
      r.h = toFloat(image[3 * static_cast<int64_t>(anchors) + at]);
      r.score = __uint_as_float(k);
      r.classId = classes[a];
      r.anchor = a;
      out[carryKept + keptBefore] = r;
    }
    // the chunk's equal count: the last thread's exclusive sum plus its own flag
    __syncthreads();
    if (threadIdx.x == blockDim.x - 1) {
      carryEqual += equalBefore + equal;
      carryKept += keptHere;
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) counts[b] = carryKept;
}

template <typename T>
void run(const CandidateParams& p, int capacity, cudaStream_t stream) {
  const T* pred = static_cast<const T*>(p.prediction);
  const dim3 scoreGrid((p.anchors + kScoreBlock - 1) / kScoreBlock, p.batch);
  scoreKernel<T><<<scoreGrid, kScoreBlock, 0, stream>>>(pred, p.channels, p.anchors, p.conf, p.allowedClasses, p.keys, p.classes);
  checkLaunch(kOp);
  selectKernel<T><<<p.batch, kSelectBlock, 0, stream>>>(pred, p.channels, p.anchors, capacity, p.keys, p.classes, p.out, p.counts);
  checkLaunch(kOp);
}

}  // namespace

void launchCandidates(const CandidateParams& p, cudaStream_t stream) {
  require(p.batch >= 0 && p.anchors >= 1, kOp, "batch must be non-negative and anchors positive");
  require(p.channels > kBoxChannels, kOp, "the output needs 4 box channels and at least one class");
  require(std::isfinite(p.conf) && p.conf >= 0.0f && p.conf <= 1.0f, kOp, "conf must be in [0, 1]");
  require(p.maxNms >= 0, kOp, "maxNms must be non-negative");
  if (p.batch == 0) return;
  require(p.prediction && p.keys && p.classes && p.out && p.counts, kOp, "null prediction, scratch or output");
  const int capacity = static_cast<int>(candidateCapacity(p.anchors, p.maxNms));
  if (p.dtype == ir::DType::Float32) return run<float>(p, capacity, stream);
  if (p.dtype == ir::DType::Float16) return run<__half>(p, capacity, stream);
  throwInvalid(kOp, std::string("the output must be float32 or float16, not ") + dtypeLabel(p.dtype));
}

}  // namespace netdef::cuda::ops
