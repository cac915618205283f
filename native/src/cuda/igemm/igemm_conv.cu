// The implicit-GEMM convolution's host side: argument checks, ConvArgs, and the dispatch over tile
// shape and output type to igemmConvKernel. See igemm_conv.h.
#include <algorithm>
#include <atomic>
#include <iterator>
#include <type_traits>
#include <climits>
#include <cmath>

#include <cudaTypedefs.h>  // PFN_cuTensorMapEncodeTiled / Im2col (the driver's, through cudaGetDriverEntryPointByVersion)

#include "../../common/error.h"
#include "../ops/op_common.cuh"
#include "igemm_conv.h"
#include "igemm_kernel.cuh"
#include "igemm_ws_kernel.cuh"

namespace netdef::cuda::igemm {
namespace {

constexpr const char* kOp = "igemm conv";
// Devices whose dynamic shared-memory limit has been raised, one bit each, per kernel.
constexpr int kMaxTrackedDevices = 64;

int64_t orDefault(int64_t stride, int64_t dense) { return stride > 0 ? stride : dense; }

// A tile shape's block M and N, its reduction step in bytes, whether it runs wgmma, whether the
// accelerator copies its weights and whether its activations too (im2col: steps tap by tap) (the
// kernels' TileConfig; the same for every element type).
struct TileShape {
  int64_t m, n, kBytes;
  bool wgmma, tmaWeights, im2col;
};
template <typename Cfg>
constexpr TileShape shapeOfConfig() {
  return {Cfg::kBlockM, Cfg::kBlockN, Cfg::kRowBytes, Cfg::kWgmma, Cfg::kTmaB, Cfg::kIm2col};
}
TileShape shapeOf(IgemmTile t) {
  switch (t) {
    case IgemmTile::k128x128: return shapeOfConfig<Tile128x128<int8_t>>();
    case IgemmTile::k128x64: return shapeOfConfig<Tile128x64<int8_t>>();
    case IgemmTile::k64x64: return shapeOfConfig<Tile64x64<int8_t>>();
    case IgemmTile::k64x32: return shapeOfConfig<Tile64x32<int8_t>>();
    case IgemmTile::k32x32: return shapeOfConfig<Tile32x32<int8_t>>();
    case IgemmTile::k128x128w8: return shapeOfConfig<Tile128x128W8<int8_t>>();
    case IgemmTile::k256x128: return shapeOfConfig<Tile256x128<int8_t>>();
    case IgemmTile::kWgmma128x128: return shapeOfConfig<TileWgmma128x128<int8_t>>();
    case IgemmTile::kWgmma128x128s3: return shapeOfConfig<TileWgmma128x128S3<int8_t>>();
    case IgemmTile::kWgmma128x128s6: return shapeOfConfig<TileWgmma128x128S6<int8_t>>();
    case IgemmTile::kWs128x128: return shapeOfConfig<TileWs128x128<int8_t>>();
    case IgemmTile::kWs256x128: return shapeOfConfig<TileWs256x128<int8_t>>();
    case IgemmTile::kWs128x160: return shapeOfConfig<TileWs128x160<int8_t>>();
    case IgemmTile::kWs256x80: return shapeOfConfig<TileWs256x80<int8_t>>();
    case IgemmTile::kWsTma128x160: return shapeOfConfig<TileWsTma128x160<int8_t>>();
    case IgemmTile::kWsTma256x128: return shapeOfConfig<TileWsTma256x128<int8_t>>();
    case IgemmTile::kWsIm2col128x160: return shapeOfConfig<TileWsIm2col128x160<int8_t>>();
    case IgemmTile::kWsIm2col256x128: return shapeOfConfig<TileWsIm2col256x128<int8_t>>();
    case IgemmTile::k128x32n: return shapeOfConfig<Tile128x32N<int8_t>>();
    case IgemmTile::k64x32n: return shapeOfConfig<Tile64x32N<int8_t>>();
    case IgemmTile::kWsIm2col128x256: return shapeOfConfig<TileWsIm2col128x256<int8_t>>();
  }
  return shapeOfConfig<Tile128x64<int8_t>>();
}

// Reduction steps per slice: every slice but the last this many, none empty.
int64_t stepsPerSlice(const IgemmConvParams& p) {
  const int64_t steps = igemmReductionSteps(p);
  const int64_t splits = std::max<int64_t>(1, std::min<int64_t>(p.splits, steps));
  return (steps + splits - 1) / splits;
}

bool aligned(const void* p, size_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

bool positiveFinite(float v) { return std::isfinite(v) && v > 0.0f; }

size_t outBytes(ir::DType t) { return ops::elementBytes(t); }

// Elements of one 16-byte store of the output type.
int64_t vectorOf(ir::DType t) { return static_cast<int64_t>(kChunkBytes / outBytes(t)); }

// Whether the epilogue may store 16-byte vectors: output channel count, offsets and strides, and
// every pointer it reads per channel, aligned.
bool canStoreVectors(const IgemmConvParams& p) {
  const int64_t v = vectorOf(p.outType);
  const int64_t yStride = orDefault(p.yPixelStride, p.outChannels);
  bool ok = p.outChannels % v == 0 && yStride % v == 0 && p.yChannelOffset % v == 0 && aligned(p.y, kChunkBytes);
  // Vectors of float32 scales and biases are read as 16-byte loads when kChunkBytes / 4 channels
  // or more; a float16 bias vector is half that.
  if (p.outType != ir::DType::Int32) ok = ok && aligned(p.weightScales, kChunkBytes) && (!p.bias || aligned(p.bias, kChunkBytes));
  if (p.residual) {
    const int64_t rStride = orDefault(p.residualPixelStride, p.outChannels);
    const size_t rBytes = std::min<size_t>(kChunkBytes, v * outBytes(p.residualType));
    ok = ok && rStride % v == 0 && p.residualChannelOffset % v == 0 && aligned(p.residual, rBytes);
  }
  return ok;
}

ConvArgs makeArgs(const IgemmConvParams& p) {
  ConvArgs a;
  a.gemmM = static_cast<int>(p.batch * p.outHeight * p.outWidth);
  a.gemmN = static_cast<int>(p.outChannels);
  a.gemmK = static_cast<int>(p.kernelH * p.kernelW * p.inChannels);
  a.height = static_cast<int>(p.height);
  a.width = static_cast<int>(p.width);
  a.channels = static_cast<int>(p.inChannels);
  a.outHeight = static_cast<int>(p.outHeight);
  a.outWidth = static_cast<int>(p.outWidth);
  a.kernelH = static_cast<int>(p.kernelH);
  a.kernelW = static_cast<int>(p.kernelW);
  a.strideH = static_cast<int>(p.strideH);
  a.strideW = static_cast<int>(p.strideW);
  a.padTop = static_cast<int>(p.padTop);
  a.padLeft = static_cast<int>(p.padLeft);
  a.x = p.x;
  a.xPixelStride = orDefault(p.xPixelStride, p.inChannels);
  a.w = p.w;
  a.inputScale = p.inputScale;
  a.weightScales = p.weightScales;
  a.bias = p.bias;
  a.biasHalf = p.biasType == ir::DType::Float16;
  a.activation = p.activation;
  a.outputScale = p.outputScale;
  a.y = p.y;
  a.yPixelStride = orDefault(p.yPixelStride, p.outChannels);
  a.yChannelOffset = p.yChannelOffset;
  if (p.residual) {
    a.residualKind = p.residualType == ir::DType::Int8 ? ResidualKind::kInt8 : ResidualKind::kFloat16;
    a.residual = p.residual;
    a.residualScale = p.residualScale;
    a.residualPixelStride = orDefault(p.residualPixelStride, p.outChannels);
    a.residualChannelOffset = p.residualChannelOffset;
  }
  a.vectorStore = canStoreVectors(p);
  a.splits = igemmEffectiveSplits(p);
  a.splitSteps = static_cast<int>(stepsPerSlice(p));
  if (a.splits > 1) {
    a.splitPartials = p.splitWorkspace;
    a.splitCounters = p.splitCounters;
  }
  return a;
}

// The kernel that runs tile config Cfg: the warp-specialized one for its configs.
template <typename Cfg, typename OutT>
constexpr auto kernelOf() {
  if constexpr (Cfg::kWarpSpecialized) {
    return igemmWsConvKernel<Cfg, OutT>;
  } else {
    return igemmConvKernel<Cfg, OutT>;
  }
}

// Raises the kernel's dynamic shared-memory limit once per device (a host-side attribute, allowed
// while a stream is being captured).
template <typename Cfg, typename OutT>
void allowSharedMemory() {
  static std::atomic<uint64_t> done{0};
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess) ops::checkLaunch(kOp);
  const uint64_t bit = device < kMaxTrackedDevices ? uint64_t{1} << device : 0;
  if (bit && (done.load(std::memory_order_acquire) & bit)) return;
  const cudaError_t err =
      cudaFuncSetAttribute(kernelOf<Cfg, OutT>(), cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::kLaunchSharedBytes);
  if (err != cudaSuccess) {
    cudaGetLastError();
    throw Error(kErrBackend, std::string(kOp) + ": cannot allow " + std::to_string(Cfg::kLaunchSharedBytes) +
                                 " bytes of shared memory: " + cudaGetErrorString(err));
  }
  done.fetch_or(bit, std::memory_order_acq_rel);
}

// A driver entry point through the runtime (the addon links no driver library): null where the
// driver has none. (cudaGetDriverEntryPointByVersion came with CUDA 12.5: older toolkits build
// without the tiles that need these.) Called once per entry point, at the first use of such a
// tile: no earlier error of the caller's is pending then.
void* driverEntryPoint(const char* name) {
  void* fn = nullptr;
#if CUDART_VERSION >= 12050
  constexpr int kApiVersion = 12000;  // the tensor-map entry points' first version
  cudaDriverEntryPointQueryResult found{};
  if (cudaGetDriverEntryPointByVersion(name, &fn, kApiVersion, cudaEnableDefault, &found) != cudaSuccess || found != cudaDriverEntryPointSuccess) {
    cudaGetLastError();
    fn = nullptr;
  }
#endif
  return fn;
}

PFN_cuTensorMapEncodeTiled_v12000 tensorMapEncoder() {
  static const auto encode = reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(driverEntryPoint("cuTensorMapEncodeTiled"));
  return encode;
}

PFN_cuTensorMapEncodeIm2col_v12000 im2colMapEncoder() {
  static const auto encode = reinterpret_cast<PFN_cuTensorMapEncodeIm2col_v12000>(driverEntryPoint("cuTensorMapEncodeIm2col"));
  return encode;
}

// The tensor map of the weights [K][R * S * C] as bytes, the box one stage's B: 128 bytes of the
// reduction (the stage row) by Cfg::kBlockN output channels, with the stages' 128-byte swizzle;
// out-of-range boxes read as zeros.
template <typename Cfg>
CUtensorMap weightTensorMap(const IgemmConvParams& p, const ConvArgs& a) {
  CUtensorMap map{};
  const PFN_cuTensorMapEncodeTiled_v12000 encode = tensorMapEncoder();
  if (!encode)
    throw Error(kErrBackend, std::string(kOp) + ": the driver has no cuTensorMapEncodeTiled (tile " + igemmTileName(p.tile) + ")");
  const cuuint64_t rowBytes = static_cast<cuuint64_t>(a.gemmK) * sizeof(typename Cfg::Element);
  const cuuint64_t dims[2] = {rowBytes, static_cast<cuuint64_t>(a.gemmN)};
  const cuuint64_t strides[1] = {rowBytes};
  const cuuint32_t box[2] = {static_cast<cuuint32_t>(Cfg::kRowBytes), static_cast<cuuint32_t>(Cfg::kBlockN)};
  const cuuint32_t elementStrides[2] = {1, 1};
  const CUresult r = encode(&map, CU_TENSOR_MAP_DATA_TYPE_UINT8, 2, const_cast<void*>(p.w), dims, strides, box, elementStrides,
                            CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                            CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS)
    throw Error(kErrBackend, std::string(kOp) + ": cuTensorMapEncodeTiled refused the weights' map (CUresult " + std::to_string(r) + ")");
  return map;
}

// x [N, H, W, C] (pixels xPixelStride elements apart) as the accelerator's im2col map: the box
// one stage's A, BlockM output pixels by kBlockK channels (128 bytes) with the stages' 128-byte
// swizzle. The bounding box spans the top-left filter taps of the output pixels: from -padding to
// (out - 1) * stride - padding (inclusive), walked with the convolution's strides, so that BlockM
// consecutive output pixels are BlockM steps of its walk; the tap's offsets shift it. Cells
// outside x, and channels past C, read as zeros.
template <typename Cfg>
CUtensorMap inputTensorMap(const IgemmConvParams& p, const ConvArgs& a) {
  CUtensorMap map{};
  const PFN_cuTensorMapEncodeIm2col_v12000 encode = im2colMapEncoder();
  if (!encode)
    throw Error(kErrBackend, std::string(kOp) + ": the driver has no cuTensorMapEncodeIm2col (tile " + igemmTileName(p.tile) + ")");
  using T = typename Cfg::Element;
  const cuuint64_t pixelBytes = static_cast<cuuint64_t>(a.xPixelStride) * sizeof(T);
  const cuuint64_t dims[4] = {static_cast<cuuint64_t>(a.channels), static_cast<cuuint64_t>(a.width), static_cast<cuuint64_t>(a.height),
                              static_cast<cuuint64_t>(p.batch)};
  const cuuint64_t strides[3] = {pixelBytes, pixelBytes * a.width, pixelBytes * a.width * a.height};
  const int lower[2] = {-a.padLeft, -a.padTop};
  const int upper[2] = {(a.outWidth - 1) * a.strideW + 1 - a.width - a.padLeft, (a.outHeight - 1) * a.strideH + 1 - a.height - a.padTop};
  const cuuint32_t elementStrides[4] = {1, static_cast<cuuint32_t>(a.strideW), static_cast<cuuint32_t>(a.strideH), 1};
  const CUtensorMapDataType type = std::is_same_v<T, __half> ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16 : CU_TENSOR_MAP_DATA_TYPE_UINT8;
  const CUresult r = encode(&map, type, 4, const_cast<void*>(p.x), dims, strides, lower, upper, static_cast<cuuint32_t>(Cfg::kBlockK),
                            static_cast<cuuint32_t>(Cfg::kBlockM), elementStrides, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                            CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS)
    throw Error(kErrBackend, std::string(kOp) + ": cuTensorMapEncodeIm2col refused the activations' map (CUresult " + std::to_string(r) + ")");
  return map;
}

template <typename Cfg, typename OutT>
void launchTile(const IgemmConvParams& p, const ConvArgs& a, cudaStream_t stream) {
  allowSharedMemory<Cfg, OutT>();
  const dim3 grid(static_cast<unsigned>(igemmOutputTiles(p) * a.splits)), block(Cfg::kThreads);
  if constexpr (Cfg::kWarpSpecialized) {
    CUtensorMap weights{}, input{};  // read only where the weights (activations) are the accelerator's
    if constexpr (Cfg::kTmaB) weights = weightTensorMap<Cfg>(p, a);
    if constexpr (Cfg::kIm2col) input = inputTensorMap<Cfg>(p, a);
    ops::launchKernel(kOp, p.programmatic, kernelOf<Cfg, OutT>(), grid, block, Cfg::kLaunchSharedBytes, stream, a, weights, input);
  } else {
    ops::launchKernel(kOp, p.programmatic, kernelOf<Cfg, OutT>(), grid, block, Cfg::kLaunchSharedBytes, stream, a);
  }
}

template <typename T, typename OutT>
void launchOut(const IgemmConvParams& p, const ConvArgs& a, cudaStream_t stream) {
  static_assert(!std::is_same_v<T, __half> || !std::is_same_v<OutT, int32_t>, "float16 accumulates in float32: no int32 output");
  switch (p.tile) {
    case IgemmTile::k128x128: return launchTile<Tile128x128<T>, OutT>(p, a, stream);
    case IgemmTile::k128x64: return launchTile<Tile128x64<T>, OutT>(p, a, stream);
    case IgemmTile::k64x64: return launchTile<Tile64x64<T>, OutT>(p, a, stream);
    case IgemmTile::k64x32: return launchTile<Tile64x32<T>, OutT>(p, a, stream);
    case IgemmTile::k32x32: return launchTile<Tile32x32<T>, OutT>(p, a, stream);
    case IgemmTile::k128x128w8: return launchTile<Tile128x128W8<T>, OutT>(p, a, stream);
    case IgemmTile::k256x128: return launchTile<Tile256x128<T>, OutT>(p, a, stream);
    case IgemmTile::kWgmma128x128: return launchTile<TileWgmma128x128<T>, OutT>(p, a, stream);
    case IgemmTile::kWgmma128x128s3: return launchTile<TileWgmma128x128S3<T>, OutT>(p, a, stream);
    case IgemmTile::kWgmma128x128s6: return launchTile<TileWgmma128x128S6<T>, OutT>(p, a, stream);
    case IgemmTile::kWs128x128: return launchTile<TileWs128x128<T>, OutT>(p, a, stream);
    case IgemmTile::kWs256x128: return launchTile<TileWs256x128<T>, OutT>(p, a, stream);
    case IgemmTile::kWs128x160: return launchTile<TileWs128x160<T>, OutT>(p, a, stream);
    case IgemmTile::kWs256x80: return launchTile<TileWs256x80<T>, OutT>(p, a, stream);
    case IgemmTile::kWsTma128x160: return launchTile<TileWsTma128x160<T>, OutT>(p, a, stream);
    case IgemmTile::kWsTma256x128: return launchTile<TileWsTma256x128<T>, OutT>(p, a, stream);
    case IgemmTile::kWsIm2col128x160: return launchTile<TileWsIm2col128x160<T>, OutT>(p, a, stream);
    case IgemmTile::kWsIm2col256x128: return launchTile<TileWsIm2col256x128<T>, OutT>(p, a, stream);
    case IgemmTile::k128x32n: return launchTile<Tile128x32N<T>, OutT>(p, a, stream);
    case IgemmTile::k64x32n: return launchTile<Tile64x32N<T>, OutT>(p, a, stream);
    case IgemmTile::kWsIm2col128x256: return launchTile<TileWsIm2col128x256<T>, OutT>(p, a, stream);
  }
}

// What the accelerator's im2col map (inputTensorMap) cannot describe: for a 4-D tensor its bounding
// box's corners lie in [-128, 127] and a tap's offsets in [0, 255] (PTX ISA, im2col mode), its
// traversal strides in [1, 8], and a batch's bytes stay below 2^40. An output one pixel high or
// wide (a bounding box of no area along that side, which the encoder may refuse) is left to the
// other tiles. "" when it can.
std::string im2colWhyNot(const IgemmConvParams& p) {
  constexpr int64_t kCornerMin = -128, kCornerMax = 127, kMaxStride = 8, kMaxOffset = 255;
  constexpr int64_t kMaxStrideBytes = int64_t{1} << 40;
  const int64_t upperW = (p.outWidth - 1) * p.strideW + 1 - p.width - p.padLeft;
  const int64_t upperH = (p.outHeight - 1) * p.strideH + 1 - p.height - p.padTop;
  const std::string tile = std::string("tile ") + igemmTileName(p.tile) + ": ";
  if (-p.padLeft < kCornerMin || -p.padTop < kCornerMin || upperW < kCornerMin || upperW > kCornerMax || upperH < kCornerMin ||
      upperH > kCornerMax)
    return tile + "padding or output size outside the accelerator's im2col bounding box (-128 to 127)";
  if (p.strideH > kMaxStride || p.strideW > kMaxStride) return tile + "stride above the accelerator's 8";
  if (p.kernelH - 1 > kMaxOffset || p.kernelW - 1 > kMaxOffset) return tile + "kernel beyond 8-bit tap offsets";
  if (p.outHeight == 1 || p.outWidth == 1) return tile + "an output one pixel high or wide (left to the other tiles)";
  const int64_t imageBytes = orDefault(p.xPixelStride, p.inChannels) * static_cast<int64_t>(ops::elementBytes(p.inType)) * p.height * p.width;
  if (imageBytes >= kMaxStrideBytes) return tile + "an image of x spans 2^40 bytes or more";
  return "";
}

}  // namespace

int64_t igemmOutputTiles(const IgemmConvParams& p) {
  const TileShape t = shapeOf(p.tile);
  return (p.batch * p.outHeight * p.outWidth + t.m - 1) / t.m * ((p.outChannels + t.n - 1) / t.n);
}

int64_t igemmReductionSteps(const IgemmConvParams& p) {
  const TileShape t = shapeOf(p.tile);
  const int64_t k = t.kBytes / static_cast<int64_t>(ops::elementBytes(p.inType));  // elements a step
  return reductionSteps(p.kernelH, p.kernelW, p.inChannels, k, t.im2col);
}

int igemmEffectiveSplits(const IgemmConvParams& p) {
  if (p.splits <= 1) return 1;
  const int64_t per = stepsPerSlice(p);
  return static_cast<int>((igemmReductionSteps(p) + per - 1) / per);
}

size_t igemmSplitWorkspaceBytes(const IgemmConvParams& p) {
  const int splits = igemmEffectiveSplits(p);
  if (splits <= 1) return 0;
  const TileShape t = shapeOf(p.tile);
  constexpr size_t kAccumulatorBytes = 4;  // int32 or float32
  return static_cast<size_t>(igemmOutputTiles(p)) * splits * t.m * t.n * kAccumulatorBytes;
}

bool isWgmmaTile(IgemmTile tile) { return shapeOf(tile).wgmma; }

bool igemmTileUsable(IgemmTile tile) {
  if (!isWgmmaTile(tile)) return true;
#if NETDEF_CUDA_SM90A
  constexpr int kHopperMajor = 9, kHopperMinor = 0;  // sm_90a code runs on compute capability 9.0 only
  int device = 0, major = 0, minor = 0;
  if (cudaGetDevice(&device) != cudaSuccess || cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess ||
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  if (major != kHopperMajor || minor != kHopperMinor) return false;
  const TileShape t = shapeOf(tile);  // else the driver cannot describe the weights (activations)
  return (!t.tmaWeights || tensorMapEncoder()) && (!t.im2col || im2colMapEncoder());
#else
  return false;
#endif
}

std::vector<IgemmTile> igemmUsableTiles() {
  std::vector<IgemmTile> out;
  for (IgemmTile t : kIgemmTiles)
    if (igemmTileUsable(t)) out.push_back(t);
  return out;
}

const char* igemmTileName(IgemmTile t) {
  switch (t) {
    case IgemmTile::k128x128: return "128x128";
    case IgemmTile::k128x64: return "128x64";
    case IgemmTile::k64x64: return "64x64";
    case IgemmTile::k64x32: return "64x32";
    case IgemmTile::k32x32: return "32x32";
    case IgemmTile::k128x128w8: return "128x128w8";
    case IgemmTile::k256x128: return "256x128";
    case IgemmTile::kWgmma128x128: return "wgmma128x128";
    case IgemmTile::kWgmma128x128s3: return "wgmma128x128s3";
    case IgemmTile::kWgmma128x128s6: return "wgmma128x128s6";
    case IgemmTile::kWs128x128: return "ws128x128";
    case IgemmTile::kWs256x128: return "ws256x128";
    case IgemmTile::kWs128x160: return "ws128x160";
    case IgemmTile::kWs256x80: return "ws256x80";
    case IgemmTile::kWsTma128x160: return "wstma128x160";
    case IgemmTile::kWsTma256x128: return "wstma256x128";
    case IgemmTile::kWsIm2col128x160: return "wsim2col128x160";
    case IgemmTile::kWsIm2col256x128: return "wsim2col256x128";
    case IgemmTile::k128x32n: return "128x32n";
    case IgemmTile::k64x32n: return "64x32n";
    case IgemmTile::kWsIm2col128x256: return "wsim2col128x256";
  }
  return "unknown";
}

std::string checkIgemmConvShape(const IgemmConvParams& p) {
  using ir::DType;
  if (p.inType != DType::Int8 && p.inType != DType::Float16)
    return std::string("input type ") + ops::dtypeLabel(p.inType) + " is not supported (int8, float16)";
  const auto kChannelMultiple = static_cast<int64_t>(kChunkBytes / ops::elementBytes(p.inType));  // channels per 16-byte copy
  const bool half = p.inType == DType::Float16;
  if (std::find(std::begin(kIgemmTiles), std::end(kIgemmTiles), p.tile) == std::end(kIgemmTiles)) return "unknown tile shape";
  if (p.batch < 1 || p.height < 1 || p.width < 1 || p.inChannels < 1 || p.outChannels < 1 || p.outHeight < 1 || p.outWidth < 1)
    return "every size must be >= 1";
  if (p.kernelH < 1 || p.kernelW < 1 || p.strideH < 1 || p.strideW < 1) return "kernel and stride must be >= 1";
  if (p.padTop < 0 || p.padLeft < 0) return "padding must be >= 0";
  if (p.inChannels % kChannelMultiple != 0)
    return "input channels (" + std::to_string(p.inChannels) + ") must be a multiple of " + std::to_string(kChannelMultiple) +
           " (a network's first convolution, C = 3, runs on the direct kernel)";
  const int64_t xStride = orDefault(p.xPixelStride, p.inChannels);
  if (xStride < p.inChannels || xStride % kChannelMultiple != 0)
    return "x's pixel stride must be >= C and a multiple of " + std::to_string(kChannelMultiple);
  if (p.batch * p.outHeight * p.outWidth > INT_MAX || p.kernelH * p.kernelW * p.inChannels > INT_MAX ||
      p.outChannels > INT_MAX || p.height * p.width > INT_MAX || (p.outHeight - 1) * p.strideH + p.kernelH > INT_MAX ||
      (p.outWidth - 1) * p.strideW + p.kernelW > INT_MAX)
    return "sizes exceed 32-bit GEMM indices";
  {
    constexpr int64_t kSmallestTile = 32;  // of kIgemmTiles, along M and N
    const int64_t tiles = (p.batch * p.outHeight * p.outWidth + kSmallestTile - 1) / kSmallestTile *
                          ((p.outChannels + kSmallestTile - 1) / kSmallestTile);
    if (tiles > INT_MAX) return "too many output tiles for one grid";
  }
  if (p.splits < 1 || p.splits > kMaxIgemmSplits) return "splits must be 1 to " + std::to_string(kMaxIgemmSplits);
  if (igemmOutputTiles(p) * p.splits > INT_MAX) return "too many output tiles x splits for one grid";
  if (shapeOf(p.tile).im2col) {
    const std::string why = im2colWhyNot(p);
    if (!why.empty()) return why;
  }
  if (p.outType != DType::Int8 && p.outType != DType::Float16 && p.outType != DType::Float32 && p.outType != DType::Int32)
    return std::string("output type ") + ops::dtypeLabel(p.outType) + " is not supported (int8, float16, float32, int32)";
  const int64_t yStride = orDefault(p.yPixelStride, p.outChannels);
  if (p.yChannelOffset < 0 || yStride < p.yChannelOffset + p.outChannels)
    return "y's channel offset + K exceeds its pixel stride";
  if (p.outType == DType::Int32) {
    if (half) return "a float16 input accumulates in float32: no int32 output";
    if (p.activation != FusedActivation::kNone || p.residual)
      return "the int32 output is the raw accumulator: no scales, bias, activation or residual";
    return "";
  }
  if (p.biasType != DType::Float32 && !(half && p.biasType == DType::Float16))
    return std::string("bias type ") + ops::dtypeLabel(p.biasType) + " is not supported (float32; float16 with a float16 input)";
  if (!positiveFinite(p.inputScale)) return "the input scale must be finite and > 0";
  if (p.outType == DType::Int8 && !positiveFinite(p.outputScale)) return "the output scale must be finite and > 0";
  if (p.residual) {
    if (p.residualType != DType::Int8 && p.residualType != DType::Float16)
      return std::string("residual type ") + ops::dtypeLabel(p.residualType) + " is not supported (int8, float16)";
    if (!std::isfinite(p.residualScale)) return "the residual scale must be finite";
    const int64_t rStride = orDefault(p.residualPixelStride, p.outChannels);
    if (p.residualChannelOffset < 0 || rStride < p.residualChannelOffset + p.outChannels)
      return "the residual's channel offset + K exceeds its pixel stride";
  }
  return "";
}

std::string checkIgemmConv(const IgemmConvParams& p) {
  using ir::DType;
  const std::string shape = checkIgemmConvShape(p);
  if (!shape.empty()) return shape;
  if (!igemmTileUsable(p.tile)) return std::string("tile ") + igemmTileName(p.tile) + " needs a compute capability 9.0 GPU and a build for sm_90a";
  if (!p.x || !p.w || !p.y) return "null x, w or y";
  if (!aligned(p.x, kChunkBytes) || !aligned(p.w, kChunkBytes)) return "x and w must be 16-byte aligned";
  if (shapeOf(p.tile).tmaWeights && p.kernelH * p.kernelW * p.inChannels * static_cast<int64_t>(ops::elementBytes(p.inType)) > INT_MAX)
    return std::string("tile ") + igemmTileName(p.tile) +
           ": a weight row of more than 2^31 bytes (the accelerator's coordinates are 32-bit)";
  if (igemmEffectiveSplits(p) > 1) {
    if (!p.splitWorkspace || !aligned(p.splitWorkspace, kChunkBytes) || p.splitWorkspaceBytes < igemmSplitWorkspaceBytes(p))
      return "split-K needs " + std::to_string(igemmSplitWorkspaceBytes(p)) + " bytes of 16-byte aligned workspace";
    if (!p.splitCounters || p.splitCounterCount < igemmOutputTiles(p))
      return "split-K needs " + std::to_string(igemmOutputTiles(p)) + " zeroed counters";
  }
  if (p.outType == DType::Int32) {
    if (p.weightScales || p.bias) return "the int32 output is the raw accumulator: no scales, bias, activation or residual";
    return "";
  }
  if (!p.weightScales && p.inType == DType::Int8) return "null weight scales";
  if (p.residual && !aligned(p.residual, outBytes(p.residualType))) return "the residual is not aligned to its element size";
  return "";
}

void launchIgemmConv(const IgemmConvParams& p, cudaStream_t stream) {
  const std::string why = checkIgemmConv(p);
  if (!why.empty()) ops::throwInvalid(kOp, why);
  const ConvArgs a = makeArgs(p);
  if (p.inType == ir::DType::Float16) {
    switch (p.outType) {
      case ir::DType::Int8: return launchOut<__half, int8_t>(p, a, stream);
      case ir::DType::Float16: return launchOut<__half, __half>(p, a, stream);
      default: return launchOut<__half, float>(p, a, stream);  // the checks allow float32 here
    }
  }
  switch (p.outType) {
    case ir::DType::Int8: return launchOut<int8_t, int8_t>(p, a, stream);
    case ir::DType::Float16: return launchOut<int8_t, __half>(p, a, stream);
    case ir::DType::Float32: return launchOut<int8_t, float>(p, a, stream);
    default: return launchOut<int8_t, int32_t>(p, a, stream);
  }
}

}  // namespace netdef::cuda::igemm
