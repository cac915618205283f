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
// A candidate whose first run after warm-up takes more than this times the best median of the
// layer's candidates so far cannot win: its other runs are skipped (pruned, its time that run's).
inline constexpr float kPruneFactor = 1.5f;
// A `best` that turns pruning off (an exhaustive search times every candidate fully).
inline constexpr float kNoPruning = -1.0f;

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

// medianMs, unless the first run after warm-up already takes more than `factor` x `best` (the best
// candidate so far; <= 0: none yet, or kNoPruning), when that run's time is returned at once. So a
// build spends 3 runs, not 11, on each tactic that is far behind (the igemm tiles on large layers, where cuDNN's
// tactics are 2-3x faster, are most of them), and 4 forwards, not 23, on a layout mode's untuned
// estimate that is (engine_build.h).
template <typename Fn>
float medianMsOrPruned(cudaStream_t stream, float best, Fn&& enqueue, float factor = kPruneFactor, int warmup = kTuneWarmup,
                       int iterations = kTuneIterations) {
  if (best <= 0) return medianMs(stream, warmup, iterations, enqueue);
  for (int i = 0; i < warmup; ++i) enqueue();
  Event start, end;
  start.record(stream);
  enqueue();
  end.record(stream);
  checkCuda(cudaStreamSynchronize(stream), "timing");
  const float first = end.since(start);
  if (first > factor * best) return first;
  return medianMs(stream, 0, iterations, enqueue);
}

// `best` after a candidate timed `ms`: the smaller of the two (the first time when there was none),
// and kNoPruning stays kNoPruning.
inline void keepBest(float& best, float ms) {
  if (best != kNoPruning) best = best > 0 ? std::min(best, ms) : ms;
}

}  // namespace netdef::cuda
