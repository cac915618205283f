// CPU reference for ops/candidates (and CudaEngine::runImages' candidates): what
// vision/nms-candidates.ts keeps for one image in best-class mode (column maximum with NaN
// sticking, first class on ties, strictly above conf, class filter after the choice), then the
// `maxNms` highest scores with equal scores in anchor order (vision/nms.ts's stable sort), given
// back in anchor order as 28-byte records.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace candidates_ref {

struct Record {
  float cx, cy, w, h, score;
  int32_t classId, anchor;
};

// `pred`: one image's [channels, anchors] values as the device reads them (float16 widened).
inline std::vector<Record> select(const float* pred, int channels, int anchors, float conf, int64_t maxNms,
                                  const std::vector<uint8_t>* allowed) {
  std::vector<Record> kept;
  const int nc = channels - 4;
  for (int a = 0; a < anchors; ++a) {
    float m = pred[4 * static_cast<int64_t>(anchors) + a];
    int best = 0;
    for (int c = 1; c < nc; ++c) {
      const float v = pred[(4 + static_cast<int64_t>(c)) * anchors + a];
      if (v > m || (std::isnan(v) && !std::isnan(m))) {
        m = v;
        best = c;
      }
    }
    if (!(m > conf)) continue;
    if (allowed && !(*allowed)[best]) continue;
    kept.push_back({pred[a], pred[anchors + a], pred[2 * static_cast<int64_t>(anchors) + a], pred[3 * static_cast<int64_t>(anchors) + a], m,
                    best, a});
  }
  if (static_cast<int64_t>(kept.size()) > maxNms) {
    std::stable_sort(kept.begin(), kept.end(), [](const Record& x, const Record& y) { return x.score > y.score; });
    kept.resize(static_cast<size_t>(maxNms));
    std::sort(kept.begin(), kept.end(), [](const Record& x, const Record& y) { return x.anchor < y.anchor; });
  }
  return kept;
}

inline std::vector<uint8_t> bytes(const std::vector<Record>& r) {
  std::vector<uint8_t> out(r.size() * sizeof(Record));
  if (!r.empty()) std::memcpy(out.data(), r.data(), out.size());
  return out;
}

}  // namespace candidates_ref
