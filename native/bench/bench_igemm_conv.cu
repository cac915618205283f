// Timing of igemm/igemm_conv (the implicit-GEMM convolution) against cuDNN on YOLOv8 shapes
// (not run by the tests): per shape, our kernel int8 -> int8 with the whole epilogue (per-channel
// scales, bias, SiLU, requantize) for each tile shape and int8 -> float16 with the fastest tile;
// float16 -> float16 with bias and SiLU for each tile shape (the engine's float16 layers);
// cuDNN's legacy API float16 NHWC (tensor-op math, its fastest algorithm from
// cudnnFindConvolutionForwardAlgorithmEx, convolution only: no bias, no activation) and
// INT8_CONFIG (int8 in and out, int32 compute, NHWC, one scalar alpha: no per-channel scales,
// bias or SiLU). Each figure is the median over kSamples of the mean of kInner back-to-back
// launches (CUDA events), after kWarmup launches; TOPS counts 2 x multiply-accumulates.
// Build and run (GPU machine, repository root):
//   cmake -S native -B native/build/plain -DCMAKE_BUILD_TYPE=Release
//   cmake --build native/build/plain --target netdef_bench_igemm_conv && native/build/plain/netdef_bench_igemm_conv [TEXT]
// With TEXT, only the shapes whose name contains it (e.g. "320->320", for Nsight Compute).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "cuda/dnn_resources.h"
#include "cuda/igemm/igemm_conv.h"

namespace {

using netdef::cuda::FusedActivation;
using netdef::cuda::igemm::IgemmConvParams;
using netdef::cuda::igemm::IgemmTile;
namespace cudnn = netdef::cudnn;

constexpr int kWarmup = 10;
constexpr int kSamples = 21;
constexpr int kInner = 10;
constexpr size_t kWorkspaceBytes = 256ull << 20;
constexpr int kFillBlock = 256;
constexpr int kFillRange = 15;  // int8 data in [-7, 7]; float16 data the same values / 8

struct Shape {
  const char* name;
  int64_t n, h, w, c, k, r, stride;
};

const Shape kShapes[] = {
    {"yolov8 3x3 320->320 80x80 b32", 32, 80, 80, 320, 320, 3, 1},
    {"yolov8 1x1 640->640 40x40 b32", 32, 40, 40, 640, 640, 1, 1},
    {"yolov8 3x3 640->640 20x20 b1", 1, 20, 20, 640, 640, 3, 1},
    // A layer whose channel counts every 128- and 256-wide tile covers exactly (YOLOv8s's 3x3
    // 256->256 at 40x40, batch 32), where the tile shapes compare without padding.
    {"yolov8s 3x3 256->256 40x40 b32", 32, 40, 40, 256, 256, 3, 1},
    {"yolov8n model.1 3x3/2 16->32 320x320 b1", 1, 320, 320, 16, 32, 3, 2},
    {"yolov8n model.2 cv1 1x1 32->32 160x160 b1", 1, 160, 160, 32, 32, 1, 1},
    {"yolov8n model.4 m 3x3 32->32 80x80 b1", 1, 80, 80, 32, 32, 3, 1},
    {"yolov8n model.5 3x3/2 64->128 80x80 b1", 1, 80, 80, 64, 128, 3, 2},
    {"yolov8n model.8 m 3x3 128->128 20x20 b1", 1, 20, 20, 128, 128, 3, 1},
    {"yolov8n model.22 cv3 3x3 64->80 80x80 b1", 1, 80, 80, 64, 80, 3, 1},
    {"yolov8n model.22 cv2 3x3 64->64 80x80 b32", 32, 80, 80, 64, 64, 3, 1},
};

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::printf("%s: %s\n", what, cudaGetErrorString(e));
    std::exit(1);
  }
}

__global__ void fillInt8(int8_t* p, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    p[i] = static_cast<int8_t>(static_cast<int>((i * 2654435761u) >> 7) % kFillRange - kFillRange / 2);
}
__global__ void fillHalf(__half* p, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    p[i] = __float2half(static_cast<float>(static_cast<int>((i * 2654435761u) >> 7) % kFillRange - kFillRange / 2) / 8.0f);
}
__global__ void fillFloat(float* p, size_t n, float value) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) p[i] = value;
}
constexpr unsigned kFillGrid = 1024;

struct Buffer {
  void* p = nullptr;
  explicit Buffer(size_t bytes) { check(cudaMalloc(&p, bytes), "cudaMalloc"); }
  ~Buffer() { cudaFree(p); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
};

// Median over kSamples of the mean time of kInner launches, in ms; negative when body throws.
double timeIt(const std::function<void()>& body) {
  cudaEvent_t a, b;
  check(cudaEventCreate(&a), "event");
  check(cudaEventCreate(&b), "event");
  for (int i = 0; i < kWarmup; ++i) body();
  check(cudaDeviceSynchronize(), "warm-up");
  std::vector<float> ms;
  for (int s = 0; s < kSamples; ++s) {
    check(cudaEventRecord(a), "record");
    for (int i = 0; i < kInner; ++i) body();
    check(cudaEventRecord(b), "record");
    check(cudaEventSynchronize(b), "sync");
    float t = 0;
    cudaEventElapsedTime(&t, a, b);
    ms.push_back(t / kInner);
  }
  std::sort(ms.begin(), ms.end());
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return ms[ms.size() / 2];
}

void report(const char* what, double ms, double macs) {
  std::printf("  %-40s %9.4f ms %8.1f TOPS\n", what, ms, 2.0 * macs / (ms * 1e-3) / 1e12);
  std::fflush(stdout);
}

// cuDNN legacy convolution, NHWC, on data type `dt` (int8: INT8_CONFIG), its fastest algorithm.
double timeCudnn(cudnn::Handle handle, const Shape& s, int64_t p, int64_t q, cudnn::DataType dt, const void* x,
                 const void* w, void* y, void* workspace, std::string& algoName) {
  using namespace netdef::cuda;
  const CudnnApi& api = cudnnApi();
  const int pad = static_cast<int>(s.r / 2);
  TensorDesc xd = makeTensorDesc(), yd = makeTensorDesc();
  FilterDesc fd = makeFilterDesc();
  ConvDesc cd = makeConvDesc();
  auto nhwc = [&](TensorDesc& d, int64_t c, int64_t h, int64_t wd) {
    checkCudnn(api.setTensor4dDescriptorEx(d.get(), dt, (int)s.n, (int)c, (int)h, (int)wd, (int)(h * wd * c), 1, (int)(wd * c), (int)c),
               "tensor descriptor");
  };
  nhwc(xd, s.c, s.h, s.w);
  nhwc(yd, s.k, p, q);
  checkCudnn(api.setFilter4dDescriptor(fd.get(), dt, cudnn::kFormatNhwc, (int)s.k, (int)s.c, (int)s.r, (int)s.r), "filter");
  const int compute = dt == cudnn::kDataInt8 ? cudnn::kDataInt32 : cudnn::kDataFloat;
  checkCudnn(api.setConvolution2dDescriptor(cd.get(), pad, pad, (int)s.stride, (int)s.stride, 1, 1, cudnn::kCrossCorrelation, compute),
             "convolution");
  checkCudnn(api.setConvolutionMathType(cd.get(), dt == cudnn::kDataInt8 ? cudnn::kDefaultMath : cudnn::kTensorOpMath), "math");
  cudnn::FwdAlgoPerf perf[cudnn::kFwdAlgoCount] = {};
  int returned = 0;
  checkCudnn(api.findConvolutionForwardAlgorithmEx(handle, xd.get(), x, fd.get(), w, cd.get(), yd.get(), y, cudnn::kFwdAlgoCount,
                                                   &returned, perf, workspace, kWorkspaceBytes),
             "cudnnFindConvolutionForwardAlgorithmEx");
  int chosen = -1;
  for (int i = 0; i < returned && chosen < 0; ++i)
    if (perf[i].status == cudnn::kStatusSuccess && perf[i].memory <= kWorkspaceBytes) chosen = i;
  if (chosen < 0) return -1;
  const int algo = perf[chosen].algo;
  checkCudnn(api.setConvolutionMathType(cd.get(), perf[chosen].mathType), "math");
  algoName = "algo " + std::to_string(algo) + " math " + std::to_string(perf[chosen].mathType);
  const float alpha = 1.0f, beta = 0.0f;
  return timeIt([&] {
    checkCudnn(api.convolutionForward(handle, &alpha, xd.get(), x, fd.get(), w, cd.get(), algo, workspace, kWorkspaceBytes, &beta,
                                      yd.get(), y),
               "cudnnConvolutionForward");
  });
}

// Our kernel: int8 out with each tile, then float16 out with the fastest.
void timeOurs(IgemmConvParams cp, double macs) {
  double best = 1e30;
  IgemmTile bestTile = IgemmTile::k128x64;
  for (IgemmTile t : netdef::cuda::igemm::igemmUsableTiles()) {
    cp.tile = t;
    cp.outType = netdef::ir::DType::Int8;
    const double ms = timeIt([&] { netdef::cuda::igemm::launchIgemmConv(cp, nullptr); });
    report((std::string("ours int8->int8 silu ") + netdef::cuda::igemm::igemmTileName(t)).c_str(), ms, macs);
    if (ms < best) best = ms, bestTile = t;
  }
  cp.tile = bestTile;
  cp.outType = netdef::ir::DType::Float16;
  report((std::string("ours int8->fp16 silu ") + netdef::cuda::igemm::igemmTileName(bestTile)).c_str(),
         timeIt([&] { netdef::cuda::igemm::launchIgemmConv(cp, nullptr); }), macs);
}

// Our kernel with float16 input (x and w already float16): bias + SiLU, float16 out, each tile.
void timeOursHalf(IgemmConvParams cp, double macs) {
  cp.inType = netdef::ir::DType::Float16;
  cp.inputScale = 1.0f;
  cp.weightScales = nullptr;
  cp.outType = netdef::ir::DType::Float16;
  for (IgemmTile t : netdef::cuda::igemm::igemmUsableTiles()) {
    cp.tile = t;
    report((std::string("ours fp16->fp16 bias+silu ") + netdef::cuda::igemm::igemmTileName(t)).c_str(),
           timeIt([&] { netdef::cuda::igemm::launchIgemmConv(cp, nullptr); }), macs);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string only = argc > 1 ? argv[1] : "";
  int device = 0;
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  std::printf("device: %s (sm_%d%d, %d SMs)\n", prop.name, prop.major, prop.minor, prop.multiProcessorCount);
  netdef::cuda::CudnnHandle handle;
  std::string cudnnWhy;
  try {
    handle = netdef::cuda::makeCudnnHandle();
    std::printf("cuDNN %s\n", netdef::cuda::cudnnVersionString(netdef::cuda::cudnnApi().version).c_str());
  } catch (const std::exception& e) {
    cudnnWhy = e.what();
    std::printf("cuDNN not timed: %s\n", e.what());
  }
  Buffer workspace(kWorkspaceBytes);
  for (const Shape& s : kShapes) {
    if (!only.empty() && std::string(s.name).find(only) == std::string::npos) continue;
    const int64_t pad = s.r / 2;
    const int64_t p = (s.h + 2 * pad - s.r) / s.stride + 1, q = (s.w + 2 * pad - s.r) / s.stride + 1;
    const size_t xCount = size_t(s.n) * s.h * s.w * s.c, wCount = size_t(s.k) * s.r * s.r * s.c,
                 yCount = size_t(s.n) * p * q * s.k;
    Buffer x(xCount * sizeof(__half)), w(wCount * sizeof(__half)), y(yCount * sizeof(__half));
    Buffer scales(s.k * sizeof(float)), bias(s.k * sizeof(float));
    IgemmConvParams cp;
    cp.batch = s.n;
    cp.height = s.h;
    cp.width = s.w;
    cp.inChannels = s.c;
    cp.outChannels = s.k;
    cp.outHeight = p;
    cp.outWidth = q;
    cp.kernelH = cp.kernelW = s.r;
    cp.strideH = cp.strideW = s.stride;
    cp.padTop = cp.padLeft = pad;
    cp.x = x.p;
    cp.w = w.p;
    cp.y = y.p;
    cp.inputScale = 1.0f / 64;
    cp.weightScales = static_cast<float*>(scales.p);
    cp.bias = static_cast<float*>(bias.p);
    cp.activation = FusedActivation::kSilu;
    cp.outputScale = 0.05f;
    const double macs = netdef::cuda::igemm::igemmMacs(cp);
    std::printf("\n%s  (%.2f GMAC)\n", s.name, macs / 1e9);
    fillInt8<<<kFillGrid, kFillBlock>>>(static_cast<int8_t*>(x.p), xCount);
    fillInt8<<<kFillGrid, kFillBlock>>>(static_cast<int8_t*>(w.p), wCount);
    fillFloat<<<kFillGrid, kFillBlock>>>(static_cast<float*>(scales.p), s.k, 1.0f / 127);
    fillFloat<<<kFillGrid, kFillBlock>>>(static_cast<float*>(bias.p), s.k, 0.1f);
    check(cudaDeviceSynchronize(), "fill");
    try {
      timeOurs(cp, macs);
    } catch (const std::exception& e) {
      std::printf("  ours: %s\n", e.what());
    }
    if (handle) try {
      std::string algo;
      const double int8ms = timeCudnn(handle.get(), s, p, q, cudnn::kDataInt8, x.p, w.p, y.p, workspace.p, algo);
      if (int8ms > 0) report(("cuDNN INT8_CONFIG (no epilogue) " + algo).c_str(), int8ms, macs);
      else std::printf("  cuDNN INT8_CONFIG: no algorithm\n");
    } catch (const std::exception& e) {
      std::printf("  cuDNN INT8_CONFIG: %s\n", e.what());
    }
    fillHalf<<<kFillGrid, kFillBlock>>>(static_cast<__half*>(x.p), xCount);
    fillHalf<<<kFillGrid, kFillBlock>>>(static_cast<__half*>(w.p), wCount);
    check(cudaDeviceSynchronize(), "fill");
    try {
      timeOursHalf(cp, macs);
    } catch (const std::exception& e) {
      std::printf("  ours fp16: %s\n", e.what());
    }
    if (handle) try {
      std::string algo;
      const double fp16ms = timeCudnn(handle.get(), s, p, q, cudnn::kDataHalf, x.p, w.p, y.p, workspace.p, algo);
      if (fp16ms > 0) report(("cuDNN fp16 (no epilogue) " + algo).c_str(), fp16ms, macs);
      else std::printf("  cuDNN fp16: no algorithm\n");
    } catch (const std::exception& e) {
      std::printf("  cuDNN fp16: %s\n", e.what());
    }
  }
  check(cudaDeviceSynchronize(), "end");
  return 0;
}
