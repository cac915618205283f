// Buffer planning: see buffer_plan.h.
#include "buffer_plan.h"

#include <algorithm>
#include <numeric>
#include <sstream>

namespace netdef::cuda {
namespace {

bool overlapInTime(const BufferRequest& a, const BufferRequest& b) { return a.first <= b.last && b.first <= a.last; }

}  // namespace

BufferPlan planBuffers(const std::vector<BufferRequest>& requests, uint64_t alignment) {
  BufferPlan plan;
  plan.requests = requests;
  plan.offsets.assign(requests.size(), 0);
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (requests[a].bytes != requests[b].bytes) return requests[a].bytes > requests[b].bytes;
    return requests[a].first < requests[b].first;
  });

  std::vector<size_t> placed;
  for (size_t i : order) {
    const BufferRequest& r = requests[i];
    plan.requestedBytes += r.bytes;
    if (r.bytes == 0) continue;
    std::vector<size_t> live;
    for (size_t j : placed)
      if (overlapInTime(r, requests[j])) live.push_back(j);
    std::sort(live.begin(), live.end(), [&](size_t a, size_t b) { return plan.offsets[a] < plan.offsets[b]; });
    uint64_t offset = 0;
    for (size_t j : live) {
      if (offset + r.bytes <= plan.offsets[j]) break;
      offset = std::max(offset, alignUp(plan.offsets[j] + requests[j].bytes, alignment));
    }
    plan.offsets[i] = offset;
    plan.totalBytes = std::max(plan.totalBytes, offset + r.bytes);
    placed.push_back(i);
  }
  plan.totalBytes = alignUp(plan.totalBytes, alignment);
  return plan;
}

bool planIsValid(const BufferPlan& plan) {
  const auto& r = plan.requests;
  for (size_t i = 0; i < r.size(); ++i) {
    if (plan.offsets[i] + r[i].bytes > plan.totalBytes) return false;
    for (size_t j = i + 1; j < r.size(); ++j) {
      if (r[i].bytes == 0 || r[j].bytes == 0 || !overlapInTime(r[i], r[j])) continue;
      const bool apart = plan.offsets[i] + r[i].bytes <= plan.offsets[j] || plan.offsets[j] + r[j].bytes <= plan.offsets[i];
      if (!apart) return false;
    }
  }
  return true;
}

std::string BufferPlan::describe() const {
  std::ostringstream s;
  for (size_t i = 0; i < requests.size(); ++i) {
    const BufferRequest& r = requests[i];
    s << "  " << (r.label.empty() ? "#" + std::to_string(i) : r.label) << ": " << r.bytes << " B, steps [" << r.first
      << ", " << r.last << "], offset " << offsets[i] << "\n";
  }
  s << "  arena " << totalBytes << " B for " << requestedBytes << " B requested\n";
  return s.str();
}

}  // namespace netdef::cuda
