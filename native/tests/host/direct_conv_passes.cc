// Host-only test of how the build passes plan a direct convolution (direct_conv_rule.h) for a
// YOLOv8-like stem: float32 NCHW input -> Cast float16 -> 3x3/2 conv 3 -> 16 + SiLU -> conv 16 -> 16:
//  - the Cast is folded into the stem (fuse_pass.h foldCastsIntoDirectConvolutions): it runs
//    nothing and the stem reads the float32 input;
//  - channels-last mode: the stem writes NHWC, which the next convolution reads with no Reformat;
//    row-major mode: no Reformat at all; the fused Cast still points at the stem after the
//    layout pass renumbered the ops;
//  - a Cast whose output is also a network output, or that feeds a convolution of 16 input
//    channels, is left alone.
// Built and run by scripts/native-host-tests.sh (g++, CUDA headers only).
#include <string>
#include <vector>

#include "common/error.h"
#include "cuda/cuda_network.h"
#include "cuda/direct_conv_rule.h"
#include "cuda/fuse_pass.h"
#include "cuda/layout_pass.h"
#include "host_check.h"

namespace {

using namespace netdef;
using namespace netdef::cuda;
using host_check::check;
using host_check::opNamed;

constexpr int64_t kImageChannels = 3, kStemChannels = 16, kSize = 16;
constexpr uint16_t kHalfOne = 0x3C00;

struct Weights16 {
  std::vector<uint16_t> w, b;
  Weights16(int64_t c, int64_t k) : w(k * c * 9, kHalfOne), b(k, 0) {}
};

ITensor* conv(INetwork& net, ITensor* x, const Weights16& c, int64_t k, int64_t stride, const std::string& name) {
  ILayer* l = net.addConvolution(*x, k, ConvolutionParams{{3, 3}, {stride, stride}, {1, 1}, {1, 1}, {1, 1}, 1},
                                 Weights{name + ".w", DType::Float16, c.w.data(), static_cast<int64_t>(c.w.size())},
                                 Weights{name + ".b", DType::Float16, c.b.data(), static_cast<int64_t>(c.b.size())});
  l->setName(name);
  ILayer* a = net.addActivation(*l->output(0), ActivationType::Silu);
  a->setName(name + "/act");
  return a->output(0);
}

// images (float32) -> Cast -> conv `first` (C = inputChannels) -> conv; `castIsOutput`: the Cast's
// output is a network output too.
Program stem(int64_t inputChannels, bool castIsOutput) {
  static const Weights16 first(inputChannels, kStemChannels), second(kStemChannels, kStemChannels);
  static const Weights16 wide(kStemChannels, kStemChannels);
  CudaNetwork net;
  ITensor* x = net.addInput("images", DType::Float32, Dims{{ir::kBatch, inputChannels, kSize, kSize}});
  ILayer* cast = net.addCast(*x, DType::Float16);
  cast->setName("images/Cast");
  if (castIsOutput) net.markOutput(*cast->output(0), "cast");
  ITensor* y = conv(net, cast->output(0), inputChannels == kImageChannels ? first : wide, kStemChannels, 2, "stem");
  net.markOutput(*conv(net, y, second, kStemChannels, 1, "next"), "y");
  return foldCastsIntoDirectConvolutions(fuseConvolutionActivations(net.take()));
}

size_t reformats(const Program& p) {
  size_t n = 0;
  for (const OpDef& op : p.ops) n += std::holds_alternative<ReformatAttrs>(op.attrs) ? 1 : 0;
  return n;
}

void folded() {
  const Program p = stem(kImageChannels, false);
  const OpDef* cast = opNamed(p, "images/Cast");
  const OpDef* s = opNamed(p, "stem");
  check(cast && cast->fusedInto >= 0 && p.ops[cast->fusedInto].name == "stem", "the Cast is folded into the stem");
  check(s && p.tensors[s->inputs[0]].name == "images" && p.tensors[s->inputs[0]].dtype == ir::DType::Float32,
        "the stem reads the float32 network input");
  check(s && s->dtype == ir::DType::Float16 && cast && cast->dtype == ir::DType::Float16, "the stem and the folded Cast still report float16 (layers())");
  for (LayoutMode mode : {LayoutMode::kChannelsLastHalf, LayoutMode::kRowMajor}) {
    const std::string label = layoutModeName(mode);
    const Program laid = assignLayouts(p, mode);
    const OpDef* c = opNamed(laid, "stem");
    const OpDef* next = opNamed(laid, "next");
    const OpDef* lc = opNamed(laid, "images/Cast");
    const Layout want = mode == LayoutMode::kChannelsLastHalf ? Layout::kNhwc : Layout::kRowMajor;
    check(c && next && laid.tensors[c->inputs[0]].layout == Layout::kRowMajor && laid.tensors[c->outputs[0]].layout == want,
          label + ": the stem reads NCHW and writes " + (want == Layout::kNhwc ? "NHWC" : "NCHW"));
    check(c && next && next->inputs[0] == c->outputs[0], label + ": the next convolution reads the stem's output itself");
    // The only Reformat left is the network output's (channels-last: NHWC -> NCHW).
    check(reformats(laid) == (mode == LayoutMode::kChannelsLastHalf ? 1u : 0u), label + ": " + std::to_string(reformats(laid)) + " reformats");
    check(lc && lc->fusedInto >= 0 && laid.ops[lc->fusedInto].name == "stem", label + ": the fused Cast still points at the stem");
  }
}

void leftAlone() {
  const Program read = stem(kImageChannels, true);
  check(opNamed(read, "images/Cast") && opNamed(read, "images/Cast")->fusedInto < 0, "a Cast whose output is a network output still runs");
  const Program wide = stem(kStemChannels, false);
  check(opNamed(wide, "images/Cast") && opNamed(wide, "images/Cast")->fusedInto < 0,
        "a Cast into a convolution of " + std::to_string(kStemChannels) + " input channels (a tensor-core one) still runs");
  const Program laid = assignLayouts(wide, LayoutMode::kChannelsLastHalf);
  const OpDef* c = opNamed(laid, "stem");
  check(c && laid.tensors[c->inputs[0]].layout == Layout::kNhwc && laid.tensors[c->outputs[0]].layout == Layout::kNhwc,
        "that convolution runs NHWC in and out");
}

}  // namespace

int main() {
  try {
    folded();
    leftAlone();
  } catch (const Error& e) {
    check(false, std::string("threw: ") + e.what());
  }
  return host_check::finish();
}
