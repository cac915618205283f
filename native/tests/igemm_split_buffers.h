// Split-K's workspace and counters for an igemm test (igemm/igemm_conv.h, IgemmConvParams::splits):
// the workspace poisoned (every slice must write its slot before it is read), the counters zero,
// and after a launch whether they are zero again (each launch must leave them so).
#pragma once

#include <algorithm>
#include <cstring>
#include <vector>

#include "cuda/igemm/igemm_conv.h"
#include "ops_test_util.h"

namespace ops_test {

class SplitBuffers {
 public:
  // Sized for `p` (its tile, splits and sizes); attach() points p at them.
  explicit SplitBuffers(const netdef::cuda::igemm::IgemmConvParams& p)
      : workspace_(std::max<size_t>(1, netdef::cuda::igemm::igemmSplitWorkspaceBytes(p))),
        counters_(static_cast<size_t>(netdef::cuda::igemm::igemmOutputTiles(p)) * sizeof(int)) {
    workspace_.poison();
    counters_.poison(0);
  }
  void attach(netdef::cuda::igemm::IgemmConvParams& p) const {
    p.splitWorkspace = workspace_.get();
    p.splitWorkspaceBytes = workspace_.bytes();
    p.splitCounters = counters_.as<int>();
    p.splitCounterCount = static_cast<int64_t>(counters_.bytes() / sizeof(int));
  }
  // How many counters are not zero (after a launch has finished).
  size_t countersLeft() const {
    const std::vector<uint8_t> bytes = counters_.download();
    std::vector<int> values(bytes.size() / sizeof(int));
    std::memcpy(values.data(), bytes.data(), values.size() * sizeof(int));
    return static_cast<size_t>(std::count_if(values.begin(), values.end(), [](int v) { return v != 0; }));
  }

 private:
  DeviceBuffer workspace_, counters_;
};

}  // namespace ops_test
