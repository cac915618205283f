// See image_batch_from_js.h.
#include "image_batch_from_js.h"

#include <cstring>
#include <string>

#include "../common/error.h"
#include "js_values.h"

namespace netdef::addon {
namespace {

constexpr int64_t kChannels = 3;
constexpr int64_t kMaxSide = 1 << 16;

}  // namespace

ImageBatch imageBatchFromJs(const Napi::Value& value) {
  if (!value.IsArray()) throw Error(kErrInvalidArgument, "runImages: images must be an array");
  Napi::Array list = value.As<Napi::Array>();
  const uint32_t n = list.Length();
  if (n == 0) throw Error(kErrInvalidArgument, "runImages: no images");
  ImageBatch batch;
  batch.images.resize(n);
  std::vector<Napi::Uint8Array> data(n);
  uint64_t total = 0;
  for (uint32_t i = 0; i < n; ++i) {
    FieldReader r(list.Get(i), "runImages: image " + std::to_string(i));
    ImagePlacement& p = batch.images[i];
    p.width = static_cast<int32_t>(r.integer("width", 1, kMaxSide));
    p.height = static_cast<int32_t>(r.integer("height", 1, kMaxSide));
    p.unpadWidth = static_cast<int32_t>(r.integer("unpadWidth", 1, kMaxSide));
    p.unpadHeight = static_cast<int32_t>(r.integer("unpadHeight", 1, kMaxSide));
    p.padLeft = static_cast<int32_t>(r.integer("padLeft", 0, kMaxSide));
    p.padTop = static_cast<int32_t>(r.integer("padTop", 0, kMaxSide));
    data[i] = r.bytes("data");
    const uint64_t want = static_cast<uint64_t>(p.width) * static_cast<uint64_t>(p.height) * kChannels;
    if (data[i].ByteLength() != want) {
      r.fail("'data' has " + std::to_string(data[i].ByteLength()) + " bytes; " + std::to_string(p.width) + "x" +
             std::to_string(p.height) + " RGB needs " + std::to_string(want));
    }
    p.offset = total;
    total += want;
  }
  batch.bytes.resize(total);
  for (uint32_t i = 0; i < n; ++i) {
    if (data[i].ByteLength() > 0) std::memcpy(batch.bytes.data() + batch.images[i].offset, data[i].Data(), data[i].ByteLength());
  }
  return batch;
}

std::optional<CandidateQuery> candidateQueryFromJs(const Napi::Value& value) {
  if (value.IsUndefined() || value.IsNull()) return std::nullopt;
  FieldReader r(value, "runImages: candidates");
  CandidateQuery q;
  const double conf = r.number("conf");
  if (!(conf >= 0 && conf <= 1)) r.fail("'conf' must be in [0, 1], got " + std::to_string(conf));
  q.conf = static_cast<float>(conf);  // rounded to nearest, as Math.fround
  q.maxNms = r.integer("maxNms", 0, INT32_MAX);
  if (r.has("classes")) {
    std::vector<int32_t> classes;
    for (int64_t c : r.integers("classes", 0, INT32_MIN)) classes.push_back(static_cast<int32_t>(c));
    q.classes = std::move(classes);
  }
  return q;
}

}  // namespace netdef::addon
