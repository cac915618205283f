// Where an engine's weights lie in its one device buffer: each weight an op reads in its stored
// layout at its offset, then a KRSC copy of each channels-last convolution's filter (cuDNN's NHWC
// filter format, which netdef's igemm kernel reads too), int8 ones with their input channels
// padded as the layout pass padded the input. A filter read only through its KRSC copy has no
// device copy in its stored KCRS layout: it stays on the host (Program::weights), from which a
// refit or an engine file takes it. Host code: the engine places its weights with it, and
// planEngine reports the device bytes without a GPU.
//
// Test: test/native/cuda-plan.test.ts (yolov8n: no filter on the device twice, through
// planCudaEngine); every engine test runs on it.
#pragma once

#include <cstdint>
#include <vector>

#include "program.h"

namespace netdef::cuda {

// An offset of a weight or a filter copy that has no device copy.
inline constexpr uint64_t kNotOnDevice = UINT64_MAX;

struct FilterShape {
  int64_t k = 0, c = 0, r = 0, s = 0, paddedC = 0;
  size_t elementBytes = 0;
};

// Convolution `op`'s filter, with its input's (padded) channels.
FilterShape filterShape(const Program& p, size_t op);

// Whether convolution `op` reads a KRSC copy of its filter (a running channels-last convolution
// the direct kernel does not take: that one reads KCRS whatever its input's layout).
bool hasKrscFilter(const Program& p, size_t op);

struct WeightPlacement {
  std::vector<uint64_t> weightOffsets;  // per WeightDef, or kNotOnDevice
  std::vector<uint64_t> filterOffsets;  // per op: its KRSC filter copy, or kNotOnDevice
  uint64_t totalBytes = 0;              // the device buffer
};

WeightPlacement placeWeights(const Program& p);

// The device buffer's bytes as the engine uploads them (and refit writes them again).
std::vector<uint8_t> weightImage(const Program& p, const WeightPlacement& placement);

}  // namespace netdef::cuda
