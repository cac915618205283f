// One int8 convolution layer on the igemm kernel: see igemm_layer.h.
#include "igemm_layer.h"

#include "../common/error.h"
#include "conv_layer.h"
#include "timing.h"

namespace netdef::cuda {
namespace {

const char* activationLabel(FusedActivation a) {
  switch (a) {
    case FusedActivation::kSilu: return "+silu";
    case FusedActivation::kSigmoid: return "+sigmoid";
    case FusedActivation::kRelu: return "+relu";
    case FusedActivation::kNone: return "";
  }
  return "";
}

bool isTile(int32_t algo) {
  for (igemm::IgemmTile t : igemm::kIgemmTiles)
    if (static_cast<int32_t>(t) == algo) return true;
  return false;
}

}  // namespace

IgemmLayer::IgemmLayer(const std::string& name, const ConvGeometry& g) : name_(name), g_(g) {
  const ConvolutionParams& p = g.params;
  auto refuse = [&](const std::string& why) { throw Error(kErrInvalidArgument, name + ": the int8 convolution cannot run: " + why); };
  if (g.dtype != ir::DType::Int8) refuse("its input is not int8");
  if (g.layout != Layout::kNhwc) refuse("its tensors are not NHWC");
  if (p.groups != 1) refuse("grouped convolutions (groups " + std::to_string(p.groups) + ") are not supported");
  if (p.dilation[0] != 1 || p.dilation[1] != 1) refuse("dilated convolutions are not supported");
  if (g.hasResidual) refuse("a fused residual add is not supported (the fusion pass leaves int8 convolutions' adds alone)");
  if (g.outDtype != ir::DType::Int8 && g.outDtype != ir::DType::Float16 && g.outDtype != ir::DType::Float32) {
    refuse("its output must be int8, float16 or float32");
  }
  constexpr int64_t kShapeBatch = 1;  // the shape check does not depend on the batch
  const std::string why = igemm::checkIgemmConvShape(params(ConvBuffers{}, kShapeBatch, tile_));
  if (!why.empty()) refuse(why);
}

igemm::IgemmConvParams IgemmLayer::params(const ConvBuffers& b, int64_t batch, igemm::IgemmTile tile) const {
  igemm::IgemmConvParams p;
  p.batch = batch;
  p.height = g_.height;
  p.width = g_.width;
  p.inChannels = g_.inChannels;
  p.outChannels = g_.outChannels;
  p.outHeight = g_.outHeight;
  p.outWidth = g_.outWidth;
  p.kernelH = g_.params.kernel[0];
  p.kernelW = g_.params.kernel[1];
  p.strideH = g_.params.stride[0];
  p.strideW = g_.params.stride[1];
  p.padTop = g_.params.prePadding[0];
  p.padLeft = g_.params.prePadding[1];
  p.inType = ir::DType::Int8;
  p.x = b.x;
  p.xPixelStride = g_.xChannels();
  p.w = b.w;
  p.inputScale = g_.inputScale;
  p.weightScales = static_cast<const float*>(b.weightScales);
  p.bias = g_.hasBias ? static_cast<const float*>(b.bias) : nullptr;
  p.activation = g_.activation;
  p.outType = g_.outDtype;
  p.outputScale = g_.outputScale;
  p.y = b.y;  // already at the view's first channel
  p.yPixelStride = g_.yChannels();
  p.tile = tile;
  return p;
}

std::vector<ConvTactic> IgemmLayer::tune(cudaStream_t stream, const ConvBuffers& b, int64_t batch, bool timeCandidates) {
  std::vector<ConvTactic> timed;
  for (igemm::IgemmTile tile : igemm::kIgemmTiles) {
    ConvTactic t;
    t.kind = ConvTactic::Kind::kIgemm;
    t.algo = static_cast<int32_t>(tile);
    if (!timeCandidates) {
      timed.push_back(t);
      break;
    }
    const igemm::IgemmConvParams p = params(b, batch, tile);
    igemm::launchIgemmConv(p, stream);  // eager first: the kernel loads outside the capture
    GraphExec graph = captureGraph(stream, [&] { igemm::launchIgemmConv(p, stream); });
    t.timeMs = medianMs(stream, kTuneWarmup, kTuneIterations, [&] { graph.launch(stream); });
    timed.push_back(t);
  }
  sortByTime(timed);
  useTactic(timed.front());
  return timed;
}

void IgemmLayer::useTactic(const ConvTactic& t) {
  if (t.kind != ConvTactic::Kind::kIgemm || !isTile(t.algo)) throw Error(kErrEngineFormat, name_ + ": invalid int8 convolution tactic");
  tile_ = static_cast<igemm::IgemmTile>(t.algo);
}

void IgemmLayer::enqueue(cudaStream_t stream, const ConvBuffers& b, int64_t batch) const {
  igemm::launchIgemmConv(params(b, batch, tile_), stream);
}

std::string IgemmLayer::kernelName() const {
  return std::string("netdef:igemm_conv ") + igemm::igemmTileName(tile_) + " int8->" + ir::dtypeName(g_.outDtype) +
         "(scale" + (g_.hasBias ? "+bias" : "") + activationLabel(g_.activation) + ")/nhwc";
}

}  // namespace netdef::cuda
