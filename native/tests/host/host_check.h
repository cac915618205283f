// What the host-only pass tests share: a PASS/FAIL line per check with a tally, finding an op of a
// Program by name, counting a concat's inputs written in place. Header-only; each test binary has its own tally.
#pragma once

#include <cstdio>
#include <string>

#include "cuda/channel_views.h"
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

// How many inputs of the concat named `name` planChannelViews leaves in place (written there by
// their producers).
inline size_t concatInputsInPlace(const netdef::cuda::Program& p, const std::string& name) {
  const netdef::cuda::ChannelViews v = netdef::cuda::planChannelViews(p);
  size_t inPlace = 0;
  for (size_t i = 0; i < p.ops.size(); ++i)
    if (p.ops[i].name == name)
      for (uint8_t b : v.concatInPlace[i]) inPlace += b;
  return inPlace;
}

// Prints the tally; the exit status of main.
inline int finish() {
  std::printf("%d passed, %d failed\n", tally().passes, tally().failures);
  return tally().failures == 0 ? 0 : 1;
}

}  // namespace host_check
