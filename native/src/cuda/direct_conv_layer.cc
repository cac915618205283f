// One convolution layer on the direct convolution kernel: see direct_conv_layer.h.
#include "direct_conv_layer.h"

#include "../common/error.h"
#include "conv_layer.h"
#include "direct_conv_rule.h"
#include "ops/direct_conv.cuh"
#include "timing.h"

namespace netdef::cuda {
namespace {

const char* layoutName(Layout l) { return l == Layout::kNhwc ? "nhwc" : "nchw"; }

}  // namespace

bool DirectConvLayer::applies(const ConvGeometry& g) {
  const bool input = isFloatDType(g.inDtype) || (g.dtype == ir::DType::Int8 && g.inDtype == ir::DType::Int8);
  return input && directConvApplies(g.dtype, g.inChannels, g.outChannels, g.params, g.hasResidual);
}

DirectConvLayer::DirectConvLayer(const std::string& name, const ConvGeometry& g) : name_(name), g_(g) {
  if (!applies(g)) {
    throw Error(kErrInvalidArgument, name + ": the direct convolution runs float or int8 (residual-free), ungrouped convolutions of fewer than " +
                                         std::to_string(kTensorCoreChannels) + " input or output channels whose C x R x S is at most " +
                                         std::to_string(kDirectConvMaxPatch));
  }
}

ConvTactic DirectConvLayer::tune(cudaStream_t stream, const ConvBuffers& b, int64_t batch, bool timeIt) const {
  ConvTactic t;
  t.kind = ConvTactic::Kind::kDirect;
  if (!timeIt) return t;
  enqueue(stream, b, batch);  // eager first: the kernel loads outside the capture
  GraphExec graph = captureGraph(stream, [&] { enqueue(stream, b, batch); });
  t.timeMs = medianMs(stream, kTuneWarmup, kTuneIterations, [&] { graph.launch(stream); });
  return t;
}

void DirectConvLayer::enqueue(cudaStream_t stream, const ConvBuffers& b, int64_t batch) const {
  ops::DirectConvParams p;
  p.inDtype = g_.inDtype;
  p.dtype = g_.dtype;
  p.outDtype = g_.outDtype;
  p.activation = g_.activation;
  p.weightScales = static_cast<const float*>(b.weightScales);
  p.inputScale = g_.inputScale;
  p.outputScale = g_.outputScale;
  p.x = b.x;
  p.w = b.w;
  p.bias = g_.hasBias ? b.bias : nullptr;
  p.residual = g_.hasResidual ? b.residual : nullptr;
  if (g_.hasResidual && !p.residual) throw Error(kErrBackend, name_ + ": no residual tensor");
  p.y = b.y;
  p.batch = batch;
  p.inChannels = g_.inChannels;
  p.height = g_.height;
  p.width = g_.width;
  p.outChannels = g_.outChannels;
  p.outHeight = g_.outHeight;
  p.outWidth = g_.outWidth;
  for (int i = 0; i < 2; ++i) {
    p.kernel[i] = g_.params.kernel[i];
    p.stride[i] = g_.params.stride[i];
    p.dilation[i] = g_.params.dilation[i];
    p.padding[i] = g_.params.prePadding[i];
  }
  storageStrides(g_.layout, g_.xChannels(), g_.height, g_.width, p.xStrides);
  storageStrides(g_.outLayout, g_.yChannels(), g_.outHeight, g_.outWidth, p.yStrides);
  storageStrides(g_.outLayout, g_.residualChannels(), g_.outHeight, g_.outWidth, p.residualStrides);
  ops::launchDirectConv(p, stream);
}

std::string DirectConvLayer::kernelName() const {
  std::string s = std::string("netdef:direct_conv(") + layoutName(g_.layout) + "->" + layoutName(g_.outLayout);
  if (g_.dtype == ir::DType::Int8) {
    // The input quantized as it is read (a folded Quantize), or int8 already.
    s += g_.inDtype == ir::DType::Int8 ? ", int8" : std::string(", ") + ir::dtypeName(g_.inDtype) + " quantized in";
    s += std::string(" -> ") + ir::dtypeName(g_.outDtype);
  } else if (g_.inDtype != g_.dtype) {
    s += std::string(", ") + ir::dtypeName(g_.inDtype) + " in";
  }
  const std::string steps = epilogueSteps(g_);
  return s + (steps.empty() ? "" : ", " + steps) + ")";
}

}  // namespace netdef::cuda
