// Where an engine's weights lie on the device: see weight_placement.h.
#include "weight_placement.h"

#include <algorithm>
#include <cstring>

#include "buffer_plan.h"
#include "conv_layer.h"
#include "direct_conv_rule.h"
#include "ops/op_common.cuh"

namespace netdef::cuda {
namespace {

uint64_t krscBytes(const FilterShape& f) { return static_cast<uint64_t>(f.k * f.r * f.s * f.paddedC) * f.elementBytes; }

// Per weight: whether an op reads it in its stored layout.
std::vector<bool> readAsStored(const Program& p) {
  std::vector<bool> read(p.weights.size(), false);
  for (size_t i = 0; i < p.ops.size(); ++i) {
    const OpDef& op = p.ops[i];
    for (int32_t t : op.inputs) {
      if (p.tensors[t].constant >= 0) read[p.tensors[t].constant] = true;
    }
    if (const auto* d = std::get_if<DetectDecodeAttrs>(&op.attrs)) read[d->dflWeight] = true;
    const auto* c = std::get_if<ConvAttrs>(&op.attrs);
    if (!c) continue;
    if (!hasKrscFilter(p, i)) read[c->weight] = true;
    if (c->bias >= 0) read[c->bias] = true;
    if (c->weightScales >= 0) read[c->weightScales] = true;
  }
  return read;
}

}  // namespace

FilterShape filterShape(const Program& p, size_t op) {
  const OpDef& o = p.ops[op];
  const ConvAttrs& c = std::get<ConvAttrs>(o.attrs);
  const WeightDef& w = p.weights[c.weight];
  FilterShape f;
  f.k = c.outChannels;
  f.r = c.params.kernel[0];
  f.s = c.params.kernel[1];
  f.elementBytes = ops::elementBytes(w.dtype);
  // The filter's own channels (per group); the input may have more when the layout pass padded
  // an int8 convolution's channels (layout_pass.h), and the reordered filter is padded with zeros.
  f.c = static_cast<int64_t>(w.bytes.size() / f.elementBytes) / (f.k * f.r * f.s);
  f.paddedC = std::max(f.c, p.tensors[o.inputs[0]].dims[1] / c.params.groups);
  return f;
}

bool hasKrscFilter(const Program& p, size_t op) {
  const OpDef& o = p.ops[op];
  return std::holds_alternative<ConvAttrs>(o.attrs) && o.fusedInto < 0 && p.tensors[o.inputs[0]].layout == Layout::kNhwc && !runsDirect(p, o);
}

WeightPlacement placeWeights(const Program& p) {
  WeightPlacement w;
  w.weightOffsets.assign(p.weights.size(), kNotOnDevice);
  w.filterOffsets.assign(p.ops.size(), kNotOnDevice);
  const std::vector<bool> asStored = readAsStored(p);
  uint64_t total = 0;
  for (size_t i = 0; i < p.weights.size(); ++i) {
    if (!asStored[i]) continue;
    w.weightOffsets[i] = total;
    total = alignUp(total + p.weights[i].bytes.size());
  }
  for (size_t i = 0; i < p.ops.size(); ++i) {
    if (!hasKrscFilter(p, i)) continue;
    w.filterOffsets[i] = total;
    total = alignUp(total + krscBytes(filterShape(p, i)));
  }
  w.totalBytes = total;
  return w;
}

std::vector<uint8_t> weightImage(const Program& p, const WeightPlacement& placement) {
  std::vector<uint8_t> image(placement.totalBytes);
  for (size_t i = 0; i < p.weights.size(); ++i) {
    const auto& b = p.weights[i].bytes;
    if (!b.empty() && placement.weightOffsets[i] != kNotOnDevice) std::memcpy(&image[placement.weightOffsets[i]], b.data(), b.size());
  }
  for (size_t i = 0; i < p.ops.size(); ++i) {
    if (placement.filterOffsets[i] == kNotOnDevice) continue;
    const ConvAttrs& c = std::get<ConvAttrs>(p.ops[i].attrs);
    const FilterShape f = filterShape(p, i);
    const std::vector<uint8_t> krsc = filterToNhwc(p.weights[c.weight].bytes, f.k, f.c, f.r, f.s, f.elementBytes, f.paddedC);
    std::memcpy(&image[placement.filterOffsets[i]], krsc.data(), krsc.size());
  }
  return image;
}

}  // namespace netdef::cuda
