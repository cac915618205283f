// What a built engine offers the addon's bindings, whichever backend built it: the CUDA engine
// (cuda/engine_impl.h) and the TensorRT runner (tensorrt/trt_runner.h) implement it. Everything
// may throw netdef::Error; nothing aborts. run/profile/timeForward/refit are called on worker
// threads; one engine may be used from several threads at once (implementations serialize).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "../ir/graph.h"

namespace netdef {

struct LayerInfo {
  std::string name, kind, dtype, kernel;
  double timeMs = 0;
};

struct HostOutput {
  ir::DType dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
};

// Decoded RGB images (HWC uint8) for Engine::runImages, each with the letterbox geometry that
// vision/letterbox.ts computed for it: the resized size and its top-left corner in the input.
struct ImagePlacement {
  uint64_t offset = 0;  // into ImageBatch::bytes
  int32_t width = 0, height = 0;
  int32_t unpadWidth = 0, unpadHeight = 0;
  int32_t padLeft = 0, padTop = 0;
};

struct ImageBatch {
  std::vector<uint8_t> bytes;  // every image, one after another
  std::vector<ImagePlacement> images;  // one per batch index
};

// The candidate pre-filter (cuda/ops/candidates.cuh): best class above `conf`, at most `maxNms`
// per image by score, classes filtered when `classes` is set.
struct CandidateQuery {
  float conf = 0.25f;  // already rounded to float32, as the host NMS compares
  int64_t maxNms = 30000;
  std::optional<std::vector<int32_t>> classes;
};

// Per image, counts[b] records of 28 bytes (cx, cy, w, h, score as float32; class, anchor as
// int32; little-endian), in anchor order, image after image.
struct CandidateSet {
  std::vector<int32_t> counts;
  std::vector<uint8_t> records;
};

// What runImages gives: the raw outputs (no query) or the candidates.
struct ImageRunResult {
  std::unordered_map<std::string, HostOutput> outputs;
  std::optional<CandidateSet> candidates;
};

class Engine {
 public:
  virtual ~Engine() = default;
  // inputs by graph input name: raw bytes of [batch, ...]; sizes are checked (ERR_INVALID_ARGUMENT).
  virtual std::unordered_map<std::string, HostOutput> run(const std::unordered_map<std::string, std::vector<uint8_t>>& inputs, int64_t batch) = 0;
  virtual void profile(int64_t batch, int iterations) = 0;
  // Median milliseconds of the captured forward at `batch` over `iterations` replays (CUDA events),
  // inputs already on the device, or with the host copies run() adds when `withCopies`.
  virtual double timeForward(int64_t batch, int iterations, bool withCopies) = 0;
  virtual std::vector<LayerInfo> layers() const = 0;
  virtual std::vector<uint8_t> serialize() const = 0;
  virtual uint64_t deviceMemoryBytes() const = 0;
  // New values for weights by name (the names the graph's parameters had), each converted to the
  // dtype the engine stores it in. Every given name must be a weight of the engine with the same
  // number of values, else ERR_WEIGHTS_MISMATCH listing every mismatch and nothing is changed;
  // weights not given keep their values. Waits for runs in flight. serialize() then saves the new values.
  virtual void refit(const std::vector<ir::Param>& params) = 0;
  // The images letterboxed into the engine's one image input on the device, the forward, then
  // either the raw outputs or, with a query, the candidates of the output "output0" selected on
  // the device. Backends without it throw ERR_BACKEND.
  virtual ImageRunResult runImages(const ImageBatch& batch, const std::optional<CandidateQuery>& query);
  // The backend's own description of the built engine (TensorRT: IEngineInspector JSON); backends
  // without one throw ERR_BACKEND.
  virtual std::string inspect() const;
};

}  // namespace netdef
