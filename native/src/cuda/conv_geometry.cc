// A convolution's geometry as a key: see conv_geometry.h.
#include "conv_geometry.h"

#include <sstream>

namespace netdef::cuda {

std::string geometryKey(const ConvGeometry& g) {
  const ConvolutionParams& p = g.params;
  std::ostringstream k;
  k << "dtype" << static_cast<int>(g.dtype) << ",out" << static_cast<int>(g.outDtype) << ",layout" << static_cast<int>(g.layout)
    << ",c" << g.inChannels << 'x' << g.height << 'x' << g.width << ",k" << g.outChannels << 'x' << g.outHeight << 'x' << g.outWidth
    << ",kernel" << p.kernel[0] << 'x' << p.kernel[1] << ",stride" << p.stride[0] << 'x' << p.stride[1] << ",dilation" << p.dilation[0]
    << 'x' << p.dilation[1] << ",pad" << p.prePadding[0] << 'x' << p.prePadding[1] << 'x' << p.postPadding[0] << 'x'
    << p.postPadding[1] << ",groups" << p.groups << ",storage" << g.xChannels() << 'x' << g.yChannels() << ",act"
    << static_cast<int>(g.activation) << ",bias" << (g.hasBias ? 1 : 0) << ",requant" << (g.outputScale > 0 ? 1 : 0) << ",tf32" << (g.tf32 ? 1 : 0) << ",residual" << (g.hasResidual ? g.residualChannels() : 0) << (g.hasResidual && g.residualScale > 0 ? "i8" : "");
  // Only where they differ, so that the keys of every other convolution stay what they were.
  if (g.inDtype != g.dtype) k << ",in" << static_cast<int>(g.inDtype);
  if (g.outLayout != g.layout) k << ",outlayout" << static_cast<int>(g.outLayout);
  return k.str();
}

void storageStrides(Layout layout, int64_t storageChannels, int64_t h, int64_t w, int64_t out[4]) {
  const bool nhwc = layout == Layout::kNhwc;
  out[0] = storageChannels * h * w;
  out[1] = nhwc ? 1 : h * w;
  out[2] = nhwc ? w * storageChannels : w;
  out[3] = nhwc ? storageChannels : 1;
}

std::string epilogueSteps(const ConvGeometry& g) {
  std::string steps;
  for (const char* step : {g.hasBias ? "bias" : "", g.activation != FusedActivation::kNone ? fusedActivationName(g.activation) : "",
                           g.hasResidual ? "residual" : ""}) {
    if (*step) steps += (steps.empty() ? "" : "+") + std::string(step);
  }
  return steps;
}

}  // namespace netdef::cuda
