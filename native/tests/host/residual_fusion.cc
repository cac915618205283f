// Host-only test of the residual-add fusion (fuse_pass.h fuseResidualAdds) on a float16 C2f block
// as YOLOv8 has it (cv1 -> split -> bottleneck x + cv2(cv1(x)) -> concat -> cv2), through the
// passes the builder runs (fuseConvolutionActivations, fuseResidualAdds, assignLayouts in both
// modes, planChannelViews):
//  - the bottleneck's add runs nothing (fused into the convolution that produced one of its
//    inputs); that convolution reads the other input as its residual and writes the add's output;
//  - in channels-last mode the residual is NHWC like the convolution, and the add's output (now a
//    convolution's) is written in place into the concat, which copies nothing;
//  - an add whose convolution output is read elsewhere too, or whose other input is produced after
//    the convolution, is left alone.
// Built and run by scripts/native-host-tests.sh (g++, CUDA headers only).
#include <cstdio>
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

constexpr int64_t kC = 32, kHalf = 16, kHW = 8;

struct Conv {
  std::string name;
  std::vector<uint16_t> w, b;
  Conv(std::string n, int64_t c, int64_t o, int64_t k) : name(std::move(n)), w(o * c * k * k, 0x3C00), b(o, 0) {}
};

ConvolutionParams params(int64_t k) {
  const int64_t pad = k / 2;
  return ConvolutionParams{{k, k}, {1, 1}, {1, 1}, {pad, pad}, {pad, pad}, 1};
}

ITensor* conv(INetwork& net, ITensor* x, const Conv& c, int64_t outC, int64_t k) {
  ILayer* l = net.addConvolution(*x, outC, params(k), Weights{c.name + ".w", DType::Float16, c.w.data(), static_cast<int64_t>(c.w.size())},
                                 Weights{c.name + ".b", DType::Float16, c.b.data(), static_cast<int64_t>(c.b.size())});
  l->setName(c.name);
  ILayer* a = net.addActivation(*l->output(0), ActivationType::Silu);
  a->setName(c.name + "/act");
  return a->output(0);
}

ITensor* half(INetwork& net, ITensor* x, int64_t start, const std::string& name) {
  ILayer* s = net.addSlice(*x, Dims{{0, start, 0, 0}}, Dims{{ir::kBatch, kHalf, kHW, kHW}}, Dims{{1, 1, 1, 1}});
  s->setName(name);
  return s->output(0);
}

// A C2f block with one bottleneck; `extraRead`: the bottleneck's cv2 output is also a network
// output (so its add must not be fused).
Program c2f(bool extraRead) {
  CudaNetwork net;
  ITensor* x = net.addInput("x", DType::Float16, Dims{{ir::kBatch, kC, kHW, kHW}});
  Conv cv1("cv1", kC, kC, 1), m1("m.0.cv1", kHalf, kHalf, 3), m2("m.0.cv2", kHalf, kHalf, 3), cv2("cv2", kC + kHalf, kC, 1);
  ITensor* y = conv(net, x, cv1, kC, 1);
  ITensor* a = half(net, y, 0, "split.0");
  ITensor* b = half(net, y, kHalf, "split.1");
  ITensor* inner = conv(net, conv(net, b, m1, kHalf, 3), m2, kHalf, 3);
  ILayer* add = net.addElementWise(*b, *inner, ElementWiseOperation::Sum);
  add->setName("m.0/add");
  ILayer* cat = net.addConcatenation({a, b, add->output(0)}, 1);
  cat->setName("concat");
  ITensor* out = conv(net, cat->output(0), cv2, kC, 1);
  net.markOutput(*out, "y");
  if (extraRead) net.markOutput(*inner, "inner");
  return net.take();
}

void fused() {
  const Program p = fuseResidualAdds(fuseConvolutionActivations(c2f(false)));
  const OpDef* add = opNamed(p, "m.0/add");
  const OpDef* m2 = opNamed(p, "m.0.cv2");
  check(add && m2 && add->fusedInto >= 0 && p.ops[add->fusedInto].name == "m.0.cv2", "the residual add is fused into m.0.cv2");
  const OpDef* split = opNamed(p, "split.1");
  check(m2 && split && m2->inputs.size() == 2 && m2->inputs[1] == split->outputs[0], "m.0.cv2 reads split.1 as its residual");
  const OpDef* cat = opNamed(p, "concat");
  check(m2 && cat && m2->outputs[0] == cat->inputs[2], "m.0.cv2 writes what the concat reads");
  for (LayoutMode mode : {LayoutMode::kRowMajor, LayoutMode::kChannelsLastHalf}) {
    const Program laid = assignLayouts(p, mode);
    const OpDef* conv = opNamed(laid, "m.0.cv2");
    const Layout want = mode == LayoutMode::kChannelsLastHalf ? Layout::kNhwc : Layout::kRowMajor;
    check(conv && laid.tensors[conv->inputs[1]].layout == want && laid.tensors[conv->outputs[0]].layout == want,
          std::string(layoutModeName(mode)) + ": the residual and the output share the convolution's layout");
    const size_t inPlace = host_check::concatInputsInPlace(laid, "concat");
    check(inPlace == 3, std::string(layoutModeName(mode)) + ": all 3 concat inputs are in place (" + std::to_string(inPlace) + ")");
  }
}

void leftAlone() {
  const Program p = fuseResidualAdds(fuseConvolutionActivations(c2f(true)));
  const OpDef* add = opNamed(p, "m.0/add");
  const OpDef* m2 = opNamed(p, "m.0.cv2");
  check(add && add->fusedInto < 0 && m2 && m2->inputs.size() == 1, "an add whose convolution output is read elsewhere is not fused");
}

}  // namespace

int main() {
  try {
    fused();
    leftAlone();
  } catch (const Error& e) {
    check(false, std::string("threw: ") + e.what());
  }
  return host_check::finish();
}
