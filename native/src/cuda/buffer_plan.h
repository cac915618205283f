// Buffer planning: places tensors with known lifetimes in one arena so that tensors alive at the
// same time never overlap and dead tensors' memory is reused (as ggml-alloc and TensorRT do).
// Greedy: largest first, each at the lowest aligned offset that clears every already placed
// tensor whose lifetime [first, last] intersects its own. Pure and deterministic: the same
// requests always give the same plan, so a loaded engine recomputes it instead of storing it.
//
// Test: native/tests/engine_test.cu (planBuffers on hand-made lifetimes: no live overlap, reuse
// happens, describe() printed; every engine test runs on a plan).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace netdef::cuda {

// Offsets are multiples of this (cuDNN and 16-byte vector accesses want aligned pointers).
inline constexpr uint64_t kBufferAlignment = 256;

// v rounded up to a multiple of `alignment`.
inline uint64_t alignUp(uint64_t v, uint64_t alignment = kBufferAlignment) { return (v + alignment - 1) / alignment * alignment; }

struct BufferRequest {
  uint64_t bytes = 0;
  int32_t first = 0;  // first step that writes it
  int32_t last = 0;   // last step that reads it (inclusive)
  std::string label;  // for describe()
};

struct BufferPlan {
  std::vector<uint64_t> offsets;  // one per request
  uint64_t totalBytes = 0;        // arena size
  uint64_t requestedBytes = 0;    // sum of all requests (what no reuse would need)
  std::vector<BufferRequest> requests;

  // One line per request: label, bytes, lifetime, offset; then the totals.
  std::string describe() const;
};

BufferPlan planBuffers(const std::vector<BufferRequest>& requests, uint64_t alignment = kBufferAlignment);

// True when no two requests that are alive at one step overlap in memory (a check for tests).
bool planIsValid(const BufferPlan& plan);

}  // namespace netdef::cuda
