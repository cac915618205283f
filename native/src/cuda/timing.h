// Timing on the device for tactic selection and layout choice: the median of several runs, each
// bracketed by CUDA events, after warm-up runs (so first-launch costs stay out of the numbers).
//
// Test: native/tests/engine_test.cu (the build's tactic times are printed and must be positive).
#pragma once

#include <algorithm>
#include <vector>

#include "cuda_check.h"

namespace netdef::cuda {

inline constexpr int kTuneWarmup = 2;
inline constexpr int kTuneIterations = 9;

template <typename Fn>
float medianMs(cudaStream_t stream, int warmup, int iterations, Fn&& enqueue) {
  for (int i = 0; i < warmup; ++i) enqueue();
  std::vector<Event> marks(static_cast<size_t>(iterations) + 1);
  marks[0].record(stream);
  for (int i = 0; i < iterations; ++i) {
    enqueue();
    marks[i + 1].record(stream);
  }
  checkCuda(cudaStreamSynchronize(stream), "timing");
  std::vector<float> times;
  for (int i = 0; i < iterations; ++i) times.push_back(marks[i + 1].since(marks[i]));
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

}  // namespace netdef::cuda
