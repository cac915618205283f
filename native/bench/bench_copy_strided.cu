// Timing of ops/copy_strided on the three copies that dominate yolov8x fp16 at batch 32 (not run by
// the tests): (1) an NHWC channel slice [32,160,160,160] into channels [160,320) of [32,160,160,320],
// (2) NCHW -> NHWC of [32,80,320,320], (3) an NCHW concat of [32,160,160,160] into [32,320,160,160];
// plus a plain device-to-device cudaMemcpy as the ceiling. Median of kRepeats after kWarmup, CUDA
// events; GB/s counts bytes read plus bytes written.
// Build and run (GPU machine, repository root):
//   nvcc -std=c++17 -O3 -arch=sm_90 -I native/src native/src/cuda/ops/copy_strided.cu \
//        native/bench/bench_copy_strided.cu -o /tmp/bench_copy_strided && /tmp/bench_copy_strided
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <vector>

#include "cuda/ops/copy_strided.cuh"

namespace {

using netdef::cuda::ops::CopyStridedParams;
using netdef::cuda::ops::Dims;

constexpr int kWarmup = 5;
constexpr int kRepeats = 50;

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::printf("%s: %s\n", what, cudaGetErrorString(e));
    std::exit(1);
  }
}

void timeIt(const char* name, double bytes, const std::function<void()>& body) {
  cudaEvent_t a, b;
  check(cudaEventCreate(&a), "event");
  check(cudaEventCreate(&b), "event");
  for (int i = 0; i < kWarmup; ++i) body();
  std::vector<float> ms;
  for (int i = 0; i < kRepeats; ++i) {
    cudaEventRecord(a);
    body();
    cudaEventRecord(b);
    check(cudaEventSynchronize(b), name);
    float t = 0;
    cudaEventElapsedTime(&t, a, b);
    ms.push_back(t);
  }
  std::sort(ms.begin(), ms.end());
  const double med = ms[ms.size() / 2];
  std::printf("%-44s %8.3f ms  %7.0f GB/s\n", name, med, bytes / (med * 1e-3) / 1e9);
  cudaEventDestroy(a);
  cudaEventDestroy(b);
}

}  // namespace

int main() {
  constexpr size_t kHalf = 2;
  const int64_t n = 32;
  const size_t bigBytes = size_t(n) * 320 * 160 * 160 * kHalf;  // the largest buffer: [32,320,160,160]
  const size_t reformatBytes = size_t(n) * 80 * 320 * 320 * kHalf;
  void *src, *dst;
  check(cudaMalloc(&src, std::max(bigBytes, reformatBytes)), "cudaMalloc");
  check(cudaMalloc(&dst, std::max(bigBytes, reformatBytes)), "cudaMalloc");
  cudaMemset(src, 1, std::max(bigBytes, reformatBytes));

  {
    const size_t bytes = bigBytes / 2;
    timeIt("cudaMemcpy D2D (ceiling)", 2.0 * bytes, [&] { cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice); });
  }
  {  // (1) NHWC channel slice into channels [160, 320) of a 320-channel NHWC tensor.
    const int64_t c = 160, h = 160, w = 160, total = 320;
    CopyStridedParams p;
    p.dtype = netdef::ir::DType::Float16;
    p.src = src;
    p.dst = static_cast<char*>(dst) + c * kHalf;
    p.shape = Dims{n, c, h, w};
    p.srcStrides = Dims{h * w * c, 1, w * c, c};
    p.dstStrides = Dims{h * w * total, 1, w * total, total};
    timeIt("(1) NHWC concat [32,160,160,160]->[..,320]", 2.0 * n * c * h * w * kHalf,
           [&] { netdef::cuda::ops::launchCopyStrided(p, nullptr); });
  }
  {  // (2) NCHW -> NHWC of [32, 80, 320, 320].
    const int64_t c = 80, h = 320, w = 320;
    CopyStridedParams p;
    p.dtype = netdef::ir::DType::Float16;
    p.src = src;
    p.dst = dst;
    p.shape = Dims{n, c, h, w};
    p.srcStrides = Dims{c * h * w, h * w, w, 1};
    p.dstStrides = Dims{h * w * c, 1, w * c, c};
    timeIt("(2) NCHW->NHWC [32,80,320,320]", 2.0 * n * c * h * w * kHalf,
           [&] { netdef::cuda::ops::launchCopyStrided(p, nullptr); });
  }
  {  // (3) NCHW concat: [32,160,160,160] into channels [160, 320) of [32,320,160,160].
    const int64_t c = 160, h = 160, w = 160, total = 320;
    CopyStridedParams p;
    p.dtype = netdef::ir::DType::Float16;
    p.src = src;
    p.dst = static_cast<char*>(dst) + c * h * w * kHalf;
    p.shape = Dims{n, c, h, w};
    p.srcStrides = Dims{c * h * w, h * w, w, 1};
    p.dstStrides = Dims{total * h * w, h * w, w, 1};
    timeIt("(3) NCHW concat [32,160,160,160]->[..,320,..]", 2.0 * n * c * h * w * kHalf,
           [&] { netdef::cuda::ops::launchCopyStrided(p, nullptr); });
  }
  check(cudaDeviceSynchronize(), "sync");
  cudaFree(src);
  cudaFree(dst);
  return 0;
}
