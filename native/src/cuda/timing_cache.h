// The CUDA engine's timing cache, as TensorRT has one: what a build measured, kept so that the
// next build of the same layers measures nothing.
//   - per convolution: the tactic chosen, keyed by everything the choice depends on (ConvLayer's
//     cacheKey: dtype, layout, shapes, strides of the storage, epilogue, batch and largest batch);
//   - per network: the layout mode chosen (keyed by a digest of the program without its weights,
//     and the batch range), so a warm build builds only that mode;
//   - per fused cuDNN plan a built engine runs: cuDNN's serialized plan (its JSON text, keyed by
//     fused_conv_graph.h's planKey), so a warm build restores the plan instead of asking cuDNN's
//     heuristics and finalizing (compiling) it again. A text cuDNN refuses is made again.
// Entries are valid for one GPU and one cuDNN: the cache holds its device identity, and a cache of
// another device or cuDNN is ignored whole (with a note in the build log), never mixed in.
// A build uses an empty in-memory cache when given none, so identical layers in one network are
// timed once.
//
// File format (text, tab-separated, one record a line):
//   netdef-cuda-timing-cache <kTimingCacheVersion>
//   device <identity>
//   conv <key> <kind> <algo> <math type> <fused engine> <ms> <split-K slices>
//   mode <key> <layout mode>
//   plan <key> <cuDNN's plan text, with backslash, tab, CR and LF escaped as \\ \t \r \n>
// A file that does not parse throws ERR_ENGINE_FORMAT naming its line; one of another format
// version is ignored with a note.
//
// Test: native/tests/host/timing_cache.cc (round trip, device mismatch, malformed lines).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "conv_layer.h"
#include "layout_pass.h"

namespace netdef::cuda {

// 2: the direct convolution joined the candidates of layers with few channels (a version-1 entry
// for such a layer never timed it), so version-1 files are ignored with a note.
// (Entries timed with netdef's igemm tiles among a float16 layer's candidates, the default unless
// NETDEF_CUDA_IGEMM_FP16=0, have keys of their own ending ",igemm", so version-2 entries timed
// without them stay valid for builds without them.)
// 3: plan records. A version-2 file (no plans) is read as it is; netdef builds that write version 2
// ignore a version-3 file with a note rather than refuse its unknown records.
// 4: conv records end with the igemm tactic's split-K slice count (ConvTactic::splits); version
// 2-3 records (without it) read as one slice. Keys of layers whose candidates include split-K end
// ",splitk", so older entries, timed without it, are timed again rather than reused.
inline constexpr int kTimingCacheVersion = 4;
inline constexpr int kSplitKTimingCacheVersion = 4;
inline constexpr int kOldestTimingCacheVersion = 2;

class TimingCache {
 public:
  // `device`: what entries are valid for ("sm_90 NVIDIA H100 80GB HBM3 cuDNN 91900").
  explicit TimingCache(std::string device) : device_(std::move(device)) {}

  // Adds the entries of a serialized cache of this device; another device's or version's are
  // ignored and noted. Throws ERR_ENGINE_FORMAT for text that does not parse.
  void merge(const uint8_t* data, size_t size);
  std::vector<uint8_t> serialize() const;

  const ConvTactic* conv(const std::string& key) const;
  void putConv(const std::string& key, const ConvTactic& tactic) { convs_[key] = tactic; }
  std::optional<LayoutMode> mode(const std::string& key) const;
  void putMode(const std::string& key, LayoutMode mode) { modes_[key] = mode; }
  const std::map<std::string, std::string>& plans() const { return plans_; }
  void putPlan(const std::string& key, const std::string& text) { plans_[key] = text; }

  size_t size() const { return convs_.size() + modes_.size() + plans_.size(); }
  const std::vector<std::string>& notes() const { return notes_; }
  const std::string& device() const { return device_; }

 private:
  std::string device_;
  std::map<std::string, ConvTactic> convs_;
  std::map<std::string, LayoutMode> modes_;
  std::map<std::string, std::string> plans_;
  std::vector<std::string> notes_;
};

}  // namespace netdef::cuda
