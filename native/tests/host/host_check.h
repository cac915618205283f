// What the host-only pass tests share: a PASS/FAIL line per check with a tally, and finding an op
// of a Program by name. Header-only; each test binary has its own tally.
#pragma once

#include <cstdio>
#include <string>

#include "cuda/program.h"

namespace host_check {

struct Tally {
  int passes = 0, failures = 0;
};

inline Tally& tally() {
  static Tally t;
  return t;
}

inline void check(bool ok, const std::string& what) {
  (ok ? tally().passes : tally().failures) += 1;
  std::printf("%s  %s\n", ok ? "PASS" : "FAIL", what.c_str());
}

inline const netdef::cuda::OpDef* opNamed(const netdef::cuda::Program& p, const std::string& name) {
  for (const netdef::cuda::OpDef& op : p.ops)
    if (op.name == name) return &op;
  return nullptr;
}

// Prints the tally; the exit status of main.
inline int finish() {
  std::printf("%d passed, %d failed\n", tally().passes, tally().failures);
  return tally().failures == 0 ? 0 : 1;
}

}  // namespace host_check
