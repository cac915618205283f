// candidates: the confidence pre-filter and top-k of Ultralytics' non_max_suppression (as
// vision/nms-candidates.ts and vision/nms.ts do it on the host) over a raw YOLOv8 output
// [B, 4 + nc, N] (float32 or float16, channel-major per image), so that only candidates go back
// to the host:
//
//   per anchor: the largest class score and its first class (a NaN anywhere in the column makes
//   the maximum NaN, as torch's amax, and excludes the anchor); a candidate when that score is
//   strictly above `conf` (the threshold already rounded to float32) and its class is allowed;
//   when more than `maxNms` candidates pass, the `maxNms` with the highest scores, equal scores
//   taken in anchor order (the order the host's stable sort keeps), found by a radix select on
//   the scores' bits (positive floats order like their bit patterns);
//   written per image in anchor order (the host's row order): xywh as output, score, class, anchor.
//
// Two kernels: one thread per anchor for the class maxima (coalesced reads of each class row),
// then one block per image for the count, the selection and the compaction. The host's NMS then
// sorts the candidates by score and suppresses (vision/nms.ts), with the same result as over the
// whole output. Best class only: multi-label (validation) stays on the host.
//
// Test: native/tests/ops_candidates.cu (a CPU reference; ties, NaN columns, class filters, top-k).
#pragma once

#include "op_common.cuh"

namespace netdef::cuda::ops {

// One candidate as it crosses back to the host: 28 bytes, little-endian (engine/native/addon-types.ts).
struct CandidateRecord {
  float cx, cy, w, h;  // the output's box channels, unchanged
  float score;
  int32_t classId;
  int32_t anchor;
};
static_assert(sizeof(CandidateRecord) == 28, "CandidateRecord is read by TypeScript as 7 little-endian 32-bit fields");

struct CandidateParams {
  const void* prediction = nullptr;  // [batch, channels, anchors]
  ir::DType dtype = ir::DType::Float32;
  int32_t batch = 0, channels = 0, anchors = 0;  // channels = 4 + nc
  float conf = 0.25f;
  int32_t maxNms = 30000;
  const uint8_t* allowedClasses = nullptr;  // device, nc bytes (non-zero: allowed), or null for all
  uint32_t* keys = nullptr;                 // scratch [batch, anchors]
  int32_t* classes = nullptr;               // scratch [batch, anchors]
  CandidateRecord* out = nullptr;           // [batch, candidateCapacity(anchors, maxNms)]
  int32_t* counts = nullptr;                // [batch]
};

// Candidates one image can have: min(anchors, maxNms).
inline int64_t candidateCapacity(int64_t anchors, int64_t maxNms) { return anchors < maxNms ? anchors : maxNms; }

void launchCandidates(const CandidateParams& p, cudaStream_t stream);

}  // namespace netdef::cuda::ops
