// One convolution layer on the igemm kernel (int8, or float16 beside cuDNN): see igemm_layer.h.
#include "igemm_layer.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <sstream>
#include <vector>

#include "../common/env_switch.h"
#include "../common/error.h"
#include "cuda_check.h"
#include "ops/pdl.h"
#include "conv_layer.h"
#include "timing.h"

namespace netdef::cuda {
namespace {

const char* activationLabel(FusedActivation a) {
  switch (a) {
    case FusedActivation::kSilu: return "silu";
    case FusedActivation::kSigmoid: return "sigmoid";
    case FusedActivation::kRelu: return "relu";
    case FusedActivation::kNone: return "";
  }
  return "";
}

bool isTile(int32_t algo) {
  for (igemm::IgemmTile t : igemm::kIgemmTiles)
    if (static_cast<int32_t>(t) == algo) return true;
  return false;
}

bool isIgemmTactic(const ConvTactic& t) {
  return t.kind == ConvTactic::Kind::kIgemm && isTile(t.algo) && t.splits >= 1 && t.splits <= igemm::kMaxIgemmSplits;
}

}  // namespace

namespace {
// Whether the wgmma tiles are timed where they can run: $NETDEF_CUDA_WGMMA, 1 (default) or 0.
bool wgmmaWanted() { return envSwitch("NETDEF_CUDA_WGMMA", true, "the wgmma tiles timed on Hopper", "no wgmma tiles"); }

// Tiles the engine leaves out of its timing unless $NETDEF_CUDA_ALL_TILES=1:
//  - those written after the last GPU run and not yet through the native tests on a GPU (the
//    kernel tests and bench_igemm_conv run them): none now (wsim2col128x256 passed on 2026-12-08);
//  - the warp-specialized wgmma tiles that copy the activations with cp.async (igemm_ws_kernel.cuh:
//    ws*, and wstma*, whose weights the accelerator copies): exact, but slower on every shape
//    bench_igemm_conv times than wsim2col* (int8 3x3 320->320 80x80 b32: ws128x160 397.9,
//    wstma128x160 501.9, wsim2col128x160 570.1 TOPS; float16 260.0, 359.7, 476.4) or than
//    wgmma128x128s3 (YOLOv8n's small layers), so timing them would only lengthen builds;
//  - wsim2col128x256 (2026-12-08): exact, but no faster than wsim2col256x128 where both cover the
//    channels exactly (int8 3x3 256->256 40x40 b32: 556.9 against 551.5 TOPS; float16 448.2, 423.8)
//    and far slower where 256 columns pad YOLOv8x's 320 (383.5 against wsim2col128x160's 571.1).
constexpr std::array<igemm::IgemmTile, 0> kAwaitingGpuTests{};
constexpr igemm::IgemmTile kSlowerThanOthers[] = {igemm::IgemmTile::kWs128x128,    igemm::IgemmTile::kWs256x128,
                                                  igemm::IgemmTile::kWs128x160,    igemm::IgemmTile::kWs256x80,
                                                  igemm::IgemmTile::kWsTma128x160, igemm::IgemmTile::kWsTma256x128,
                                                  igemm::IgemmTile::kWsIm2col128x256};

bool leftOut(igemm::IgemmTile t) {
  const bool all = envSwitch("NETDEF_CUDA_ALL_TILES", false, "every usable igemm tile timed",
                             "tiles awaiting GPU tests and those slower than others left out");
  auto in = [t](const auto& list) { return std::find(std::begin(list), std::end(list), t) != std::end(list); };
  return !all && (in(kAwaitingGpuTests) || in(kSlowerThanOthers));
}

// The tiles a layer times: the usable ones, less the wgmma tiles when they are not wanted, less
// those left out above.
std::vector<igemm::IgemmTile> timedTiles() {
  std::vector<igemm::IgemmTile> tiles = igemm::igemmUsableTiles();
  tiles.erase(std::remove_if(tiles.begin(), tiles.end(), leftOut), tiles.end());
  if (!wgmmaWanted()) tiles.erase(std::remove_if(tiles.begin(), tiles.end(), igemm::isWgmmaTile), tiles.end());
  return tiles;
}
}  // namespace

std::string igemmTilesKey() {
  uint64_t mask = 0;
  for (igemm::IgemmTile t : timedTiles()) mask |= uint64_t{1} << static_cast<int>(t);
  std::ostringstream key;
  key << ",tiles-" << std::hex << mask;
  return key.str();
}

bool halfIgemmWanted() {
  return envSwitch("NETDEF_CUDA_IGEMM_FP16", true, "float16 layers time netdef's igemm tiles too", "cuDNN and the direct kernel only");
}

std::string IgemmLayer::whyNot(const ConvGeometry& g) {
  const ConvolutionParams& p = g.params;
  const bool half = g.dtype == ir::DType::Float16;
  if (g.dtype != ir::DType::Int8 && !half) return "its input is neither int8 nor float16";
  if (g.inDtype != g.dtype) return "its input and weights differ in dtype";
  if (g.layout != Layout::kNhwc || g.outLayout != Layout::kNhwc) return "its tensors are not NHWC";
  if (p.groups != 1) return "grouped convolutions (groups " + std::to_string(p.groups) + ") are not supported";
  if (p.dilation[0] != 1 || p.dilation[1] != 1) return "dilated convolutions are not supported";
  if (g.hasResidual && g.residualDtype != (half ? ir::DType::Float16 : ir::DType::Int8)) {
    return half ? "a float16 convolution's residual must be float16" : "an int8 convolution's residual must be int8";
  }
  if (half && g.outDtype != ir::DType::Float16) return "a float16 convolution's output must be float16";
  if (g.outDtype != ir::DType::Int8 && g.outDtype != ir::DType::Float16 && g.outDtype != ir::DType::Float32) {
    return "its output must be int8, float16 or float32";
  }
  constexpr int64_t kShapeBatch = 1;  // the shape check does not depend on the batch
  return igemm::checkIgemmConvShape(params(g, ConvBuffers{}, kShapeBatch, igemm::kIgemmTiles[0], 1));
}

IgemmLayer::IgemmLayer(const std::string& name, const ConvGeometry& g) : name_(name), g_(g) {
  const std::string why = whyNot(g);
  if (!why.empty()) throw Error(kErrInvalidArgument, name + ": the convolution cannot run on igemm: " + why);
}

igemm::IgemmConvParams IgemmLayer::params(const ConvGeometry& g, const ConvBuffers& b, int64_t batch, igemm::IgemmTile tile,
                                          int splits) {
  const bool half = g.dtype == ir::DType::Float16;
  igemm::IgemmConvParams p;
  p.batch = batch;
  p.height = g.height;
  p.width = g.width;
  p.inChannels = g.inChannels;
  p.outChannels = g.outChannels;
  p.outHeight = g.outHeight;
  p.outWidth = g.outWidth;
  p.kernelH = g.params.kernel[0];
  p.kernelW = g.params.kernel[1];
  p.strideH = g.params.stride[0];
  p.strideW = g.params.stride[1];
  p.padTop = g.params.prePadding[0];
  p.padLeft = g.params.prePadding[1];
  p.inType = g.dtype;
  p.x = b.x;
  p.xPixelStride = g.xChannels();
  p.w = b.w;
  // float16 is not quantized: scale 1, no weight scales; its bias is its own dtype's.
  p.inputScale = half ? 1.0f : g.inputScale;
  p.weightScales = half ? nullptr : static_cast<const float*>(b.weightScales);
  p.bias = g.hasBias ? b.bias : nullptr;
  p.biasType = half ? ir::DType::Float16 : ir::DType::Float32;
  p.activation = g.activation;
  p.outType = g.outDtype;
  p.outputScale = g.outputScale;
  p.y = b.y;  // already at the view's first channel
  p.yPixelStride = g.yChannels();
  if (g.hasResidual) {
    p.residual = b.residual;  // already at the view's first channel
    p.residualType = g.residualDtype;
    p.residualScale = half ? 1.0f : g.residualScale;
    p.residualPixelStride = g.residualChannels();
  }
  p.tile = tile;
  p.splits = splits;
  p.splitWorkspace = b.workspace;
  p.splitWorkspaceBytes = b.workspaceBytes;
  p.splitCounters = b.splitCounters;
  p.splitCounterCount = b.splitCounterCount;
  p.programmatic = ops::programmaticLaunchUsable();
  return p;
}

std::vector<int> IgemmLayer::splitChoices(igemm::IgemmTile tile, int64_t batch, int64_t maxBatch, int multiprocessors) const {
  std::vector<int> out;
  igemm::IgemmConvParams p = params(g_, ConvBuffers{}, batch, tile, 1);
  const int64_t tiles = igemm::igemmOutputTiles(p);
  if (tiles >= multiprocessors) return out;
  for (int wanted : kSplitChoices) {
    p.splits = wanted;
    p.batch = batch;
    const int splits = igemm::igemmEffectiveSplits(p);  // fewer where a slice would be empty (e.g. 4 of 9 steps: 3)
    if (!out.empty() && splits <= out.back()) continue;
    if (igemm::igemmReductionSteps(p) < kMinSplitSteps * splits || tiles * splits > kMaxSplitWaves * multiprocessors) break;
    p.splits = splits;
    p.batch = maxBatch;
    if (igemm::igemmSplitWorkspaceBytes(p) > kMaxSplitWorkspaceBytes || igemm::igemmOutputTiles(p) > kSplitCounterCount) break;
    out.push_back(splits);
  }
  return out;
}

size_t IgemmLayer::workspaceBytes(int64_t batch) const {
  return igemm::igemmSplitWorkspaceBytes(params(g_, ConvBuffers{}, batch, tile_, splits_));
}

std::vector<ConvTactic> IgemmLayer::tune(cudaStream_t stream, const ConvBuffers& b, int64_t batch, int64_t maxBatch, bool timeCandidates,
                                         float best) {
  std::vector<ConvTactic> timed;
  const int multiprocessors = timeCandidates ? multiprocessorCount() : 0;
  for (igemm::IgemmTile tile : timedTiles()) {
    std::vector<int> splitCounts{1};
    if (timeCandidates) {
      const std::vector<int> more = splitChoices(tile, batch, maxBatch, multiprocessors);
      splitCounts.insert(splitCounts.end(), more.begin(), more.end());
    }
    for (int splits : splitCounts) {
      ConvTactic t;
      t.kind = ConvTactic::Kind::kIgemm;
      t.algo = static_cast<int32_t>(tile);
      t.splits = splits;
      const igemm::IgemmConvParams p = params(g_, b, batch, tile, splits);
      if (!igemm::checkIgemmConv(p).empty()) continue;
      if (!timeCandidates) {  // the first tile that launches here, untimed
        timed.push_back(t);
        break;
      }
      try {
        igemm::launchIgemmConv(p, stream);  // eager first: the kernel loads outside the capture
      } catch (const Error& e) {
        // The shape checks passed but the launch was refused (the driver rejecting a tile's
        // tensor map, say): the tile is no candidate here; the others are still timed.
        if (std::string(e.code()) != kErrBackend) throw;
        continue;
      }
      GraphExec graph = captureGraph(stream, [&] { igemm::launchIgemmConv(p, stream); });
      t.timeMs = medianMsOrPruned(stream, best, [&] { graph.launch(stream); });
      keepBest(best, t.timeMs);
      timed.push_back(t);
    }
    if (!timeCandidates && !timed.empty()) break;
  }
  if (timed.empty()) igemm::launchIgemmConv(params(g_, b, batch, tile_, 1), stream);  // throws the reason
  sortByTime(timed);
  useTactic(timed.front());
  return timed;
}

void IgemmLayer::useTactic(const ConvTactic& t) {
  if (!isIgemmTactic(t)) throw Error(kErrEngineFormat, name_ + ": invalid igemm convolution tactic");
  tile_ = static_cast<igemm::IgemmTile>(t.algo);
  splits_ = t.splits;
}

bool IgemmLayer::launches(const ConvTactic& t, const ConvBuffers& b, int64_t batch) const {
  return isIgemmTactic(t) && igemm::checkIgemmConv(params(g_, b, batch, static_cast<igemm::IgemmTile>(t.algo), t.splits)).empty();
}

void IgemmLayer::enqueue(cudaStream_t stream, const ConvBuffers& b, int64_t batch) const {
  igemm::launchIgemmConv(params(g_, b, batch, tile_, splits_), stream);
}

std::string IgemmLayer::kernelName() const {
  // The epilogue's steps: int8 rescales; float16 (not quantized) starts at the bias.
  std::string steps = g_.dtype == ir::DType::Int8 ? "scale" : "";
  const auto add = [&steps](const std::string& step) { steps += (steps.empty() || step.empty() ? "" : "+") + step; };
  if (g_.hasBias) add("bias");
  add(activationLabel(g_.activation));
  if (g_.hasResidual) add("residual");
  const std::string split = splits_ > 1 ? " split-k " + std::to_string(splits_) : "";
  return std::string("netdef:igemm_conv ") + igemm::igemmTileName(tile_) + split + " " + ir::dtypeName(g_.dtype) + "->" +
         ir::dtypeName(g_.outDtype) + "(" + steps + ")/nhwc";
}

}  // namespace netdef::cuda
