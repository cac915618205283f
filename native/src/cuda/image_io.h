// ImageIo: what CudaEngine::runImages adds around the forward. In: the batch's decoded images go
// through one pinned staging buffer (kept and grown between calls, never allocated per call) to
// the device in one copy, with their letterbox slots in front of them, and ops/letterbox writes
// them into the engine's input tensor. Out: ops/candidates selects each image's candidates from
// output0 on the device, and only those are copied back (counts first, then each image's records)
// into pinned memory. Every buffer is owned here, sized by the largest call so far.
//
// Test: native/tests/engine_test_images.cu (through the engine), the kernels in ops_letterbox.cu
// and ops_candidates.cu.
#pragma once

#include <cstdint>

#include "../common/engine.h"
#include "cuda_check.h"
#include "program.h"

namespace netdef::cuda {

class ImageIo {
 public:
  // Checks the image input (row-major [batch, 3, H, W], float32/float16/uint8) and every image
  // (ERR_INVALID_ARGUMENT), uploads them and enqueues the letterbox into `input` on `stream`.
  void enqueueLetterbox(const ImageBatch& batch, const TensorDef& input, void* inputPtr, cudaStream_t stream);

  // Enqueues the selection over `output` ([batch, 4 + nc, anchors], float32/float16), copies the
  // candidates back and returns them (synchronizes `stream`).
  CandidateSet candidates(const CandidateQuery& query, const TensorDef& output, const void* outputPtr, int64_t batch,
                          const Stream& stream);

 private:
  PinnedBuffer staging_;    // slots, then image bytes
  DeviceBuffer images_;     // the same, on the device
  DeviceBuffer scratch_;    // per anchor: key and class
  DeviceBuffer records_;    // [batch, capacity] records, then the per-image counts
  DeviceBuffer allowed_;    // one byte per class (a class filter)
  PinnedBuffer hostRecords_;  // counts, then the records copied back
};

}  // namespace netdef::cuda
