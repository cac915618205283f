// Host-only test of how the build passes lay out YOLOv8's SPPF block (cv1 -> three chained 5x5
// max pools -> concat(x, y1, y2, y3) -> cv2) in float16, through fuseConvolutionActivations,
// assignLayouts in both modes and planChannelViews:
//  - the pools keep their input's layout (no Reformat around them in channels-last mode);
//  - cv1 and the three pools write in place into the concat's buffer, which copies nothing.
// Built and run by scripts/native-host-tests.sh (g++, CUDA headers only).
#include <string>
#include <vector>

#include "common/error.h"
#include "cuda/channel_views.h"
#include "cuda/cuda_network.h"
#include "cuda/fuse_pass.h"
#include "cuda/layout_pass.h"
#include "host_check.h"

namespace {

using namespace netdef;
using namespace netdef::cuda;
using host_check::check;
using host_check::opNamed;

constexpr int64_t kC = 32, kHidden = 16, kHW = 10, kPool = 5;
constexpr uint16_t kHalfOne = 0x3C00;

ITensor* conv1x1(INetwork& net, ITensor* x, int64_t c, int64_t k, const std::string& name, std::vector<std::vector<uint16_t>>& keep) {
  keep.emplace_back(k * c, kHalfOne);
  const std::vector<uint16_t>& w = keep.back();
  keep.emplace_back(k, 0);
  const std::vector<uint16_t>& b = keep.back();
  ILayer* l = net.addConvolution(*x, k, ConvolutionParams{{1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, 1},
                                 Weights{name + ".w", DType::Float16, w.data(), static_cast<int64_t>(w.size())},
                                 Weights{name + ".b", DType::Float16, b.data(), static_cast<int64_t>(b.size())});
  l->setName(name);
  ILayer* a = net.addActivation(*l->output(0), ActivationType::Silu);
  a->setName(name + "/act");
  return a->output(0);
}

Program sppf() {
  std::vector<std::vector<uint16_t>> keep;
  keep.reserve(4);
  CudaNetwork net;
  ITensor* in = net.addInput("x", DType::Float16, Dims{{ir::kBatch, kC, kHW, kHW}});
  ITensor* x = conv1x1(net, in, kC, kHidden, "cv1", keep);
  std::vector<ITensor*> parts{x};
  for (int i = 0; i < 3; ++i) {
    ILayer* p = net.addPooling(*parts.back(), PoolingParams{{kPool, kPool}, {1, 1}, {kPool / 2, kPool / 2}, {kPool / 2, kPool / 2}},
                               PoolingType::Max);
    p->setName("m" + std::to_string(i));
    parts.push_back(p->output(0));
  }
  ILayer* cat = net.addConcatenation(parts, 1);
  cat->setName("concat");
  net.markOutput(*conv1x1(net, cat->output(0), 4 * kHidden, kC, "cv2", keep), "y");
  return fuseConvolutionActivations(net.take());
}

void laidOut() {
  const Program p = sppf();
  for (LayoutMode mode : {LayoutMode::kChannelsLastHalf, LayoutMode::kRowMajor}) {
    const std::string label = layoutModeName(mode);
    const Program laid = assignLayouts(p, mode);
    const Layout want = mode == LayoutMode::kChannelsLastHalf ? Layout::kNhwc : Layout::kRowMajor;
    size_t reformats = 0;
    for (const OpDef& op : laid.ops) reformats += std::holds_alternative<ReformatAttrs>(op.attrs) ? 1 : 0;
    // channels-last: only the network input's and output's reformats remain.
    check(reformats == (mode == LayoutMode::kChannelsLastHalf ? 2u : 0u), label + ": " + std::to_string(reformats) + " reformats");
    const OpDef* m2 = opNamed(laid, "m2");
    check(m2 && laid.tensors[m2->inputs[0]].layout == want && laid.tensors[m2->outputs[0]].layout == want,
          label + ": the pools keep the convolutions' layout");
    const size_t inPlace = host_check::concatInputsInPlace(laid, "concat");
    check(inPlace == 4, label + ": cv1 and the three pools write into the concat in place (" + std::to_string(inPlace) + " of 4)");
  }
}

}  // namespace

int main() {
  try {
    laidOut();
  } catch (const Error& e) {
    check(false, std::string("threw: ") + e.what());
  }
  return host_check::finish();
}
