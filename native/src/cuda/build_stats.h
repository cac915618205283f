// What a CUDA engine build spent its time on, per layout mode: cuDNN's algorithm search, the fused
// graph plans (cuDNN compiles its runtime-fusion kernels when a plan is finalized), the timing of
// candidates, and how many convolutions were tuned or taken from the timing cache. The build log
// (engine_build.cc) reports it, so a slow build says where its time went.
//
// Test: native/tests/engine_test.cu (a build's counts add up to its convolutions).
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace netdef::cuda {

struct BuildStats {
  double searchMs = 0;     // cuDNN's candidate search (heuristics, or FindEx running every algorithm)
  double fusedPlanMs = 0;  // fused graph plans finalized
  int fusedPlans = 0;          // made (heuristics, finalize, compile) or restored
  int fusedPlansRestored = 0;  // of them, restored from a timing cache's plan text
  double timingMs = 0;  // candidates run and timed (fused plans made meanwhile excluded)
  int convsTuned = 0;   // convolutions whose tactic was chosen by timing here
  int convsCached = 0;  // convolutions whose tactic came from the timing cache
};

// `v` with `digits` decimals, for the build log.
inline std::string fixed(double v, int digits) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", digits, v);
  return text;
}

class StopWatch {
 public:
  double ms() const { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace netdef::cuda
