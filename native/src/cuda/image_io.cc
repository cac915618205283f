// See image_io.h.
#include "image_io.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "buffer_plan.h"
#include "ops/candidates.cuh"
#include "ops/letterbox.cuh"

namespace netdef::cuda {
namespace {

constexpr int64_t kChannels = 3;
constexpr size_t kAlign = 256;
constexpr size_t kGrowQuantum = size_t{1} << 20;

// Buffers grow to the need, in whole MiB, and are kept.
void ensure(PinnedBuffer& b, size_t bytes, const char* what) {
  if (b.size() < bytes) b = PinnedBuffer(alignUp(bytes, kGrowQuantum), what);
}
void ensure(DeviceBuffer& b, size_t bytes, const char* what) {
  if (b.size() < bytes) b = DeviceBuffer(alignUp(bytes, kGrowQuantum), what);
}

[[noreturn]] void invalid(const std::string& message) { throw Error(kErrInvalidArgument, "runImages: " + message); }

}  // namespace

void ImageIo::enqueueLetterbox(const ImageBatch& batch, const TensorDef& input, void* inputPtr, cudaStream_t stream) {
  const auto& d = input.dims;
  if (d.size() != 4 || !input.batched() || d[1] != kChannels) invalid("the engine's input '" + input.name + "' is not an image batch [batch, 3, H, W]");
  if (input.layout != Layout::kRowMajor) invalid("the engine's input '" + input.name + "' is not row-major");
  if (input.dtype != ir::DType::Float32 && input.dtype != ir::DType::Float16 && input.dtype != ir::DType::UInt8) {
    invalid("the engine's input '" + input.name + "' is " + ops::dtypeLabel(input.dtype) + "; images go into float32, float16 or uint8");
  }
  const int64_t n = static_cast<int64_t>(batch.images.size());
  std::vector<ops::LetterboxSlot> slots(batch.images.size());
  for (int64_t b = 0; b < n; ++b) {
    const ImagePlacement& im = batch.images[b];
    ops::LetterboxSlot& s = slots[b];
    s.srcOffset = im.offset;
    s.srcWidth = im.width;
    s.srcHeight = im.height;
    s.unpadWidth = im.unpadWidth;
    s.unpadHeight = im.unpadHeight;
    s.padLeft = im.padLeft;
    s.padTop = im.padTop;
    s.batchIndex = static_cast<int32_t>(b);
    ops::checkLetterboxSlot(s, static_cast<int32_t>(d[3]), static_cast<int32_t>(d[2]), n, batch.bytes.size());
  }
  const size_t slotBytes = alignUp(slots.size() * sizeof(ops::LetterboxSlot), kAlign);
  const size_t total = slotBytes + batch.bytes.size();
  ensure(staging_, total, "image staging (pinned)");
  ensure(images_, total, "image staging (device)");
  std::memcpy(staging_.get(), slots.data(), slots.size() * sizeof(ops::LetterboxSlot));
  if (!batch.bytes.empty()) std::memcpy(staging_.get() + slotBytes, batch.bytes.data(), batch.bytes.size());
  checkCuda(cudaMemcpyAsync(images_.get(), staging_.get(), total, cudaMemcpyHostToDevice, stream), "copy images to the device");
  ops::LetterboxParams p;
  p.src = images_.bytes() + slotBytes;
  p.srcBytes = batch.bytes.size();
  p.slots = reinterpret_cast<const ops::LetterboxSlot*>(images_.get());
  p.count = static_cast<int32_t>(n);
  p.out = inputPtr;
  p.dtype = input.dtype;
  p.width = static_cast<int32_t>(d[3]);
  p.height = static_cast<int32_t>(d[2]);
  ops::launchLetterbox(p, stream);
}

CandidateSet ImageIo::candidates(const CandidateQuery& q, const TensorDef& output, const void* outputPtr, int64_t batch,
                                 const Stream& stream) {
  const auto& d = output.dims;
  if (d.size() != 3 || !output.batched() || d[1] < 5 || d[2] < 1) invalid("output '" + output.name + "' is not [batch, 4 + classes, anchors]");
  if (output.dtype != ir::DType::Float32 && output.dtype != ir::DType::Float16) invalid("output '" + output.name + "' is not float32 or float16");
  if (!(q.conf >= 0.0f && q.conf <= 1.0f)) invalid("conf must be in [0, 1]");
  if (q.maxNms < 0) invalid("maxNms must be non-negative");
  const int64_t nc = d[1] - 4, anchors = d[2];
  const int64_t capacity = ops::candidateCapacity(anchors, q.maxNms);
  cudaStream_t s = stream.get();
  const size_t keyBytes = alignUp(static_cast<size_t>(batch * anchors) * sizeof(uint32_t), kAlign);
  ensure(scratch_, 2 * keyBytes, "candidate scratch");
  const size_t recordBytes = alignUp(static_cast<size_t>(batch * capacity) * sizeof(ops::CandidateRecord), kAlign);
  const size_t countBytes = static_cast<size_t>(batch) * sizeof(int32_t);
  ensure(records_, recordBytes + countBytes, "candidates");
  ensure(hostRecords_, alignUp(countBytes, kAlign) + recordBytes, "candidates (pinned)");
  const uint8_t* allowed = nullptr;
  if (q.classes) {
    std::vector<uint8_t> mask(static_cast<size_t>(nc), 0);
    for (int32_t c : *q.classes)
      if (c >= 0 && c < nc) mask[c] = 1;  // ids outside the classes match nothing, as on the host
    ensure(allowed_, mask.size(), "class filter");
    // from pageable memory: staged before cudaMemcpyAsync returns, so `mask` may go
    checkCuda(cudaMemcpyAsync(allowed_.get(), mask.data(), mask.size(), cudaMemcpyHostToDevice, s), "copy the class filter");
    allowed = allowed_.bytes();
  }
  ops::CandidateParams p;
  p.prediction = outputPtr;
  p.dtype = output.dtype;
  p.batch = static_cast<int32_t>(batch);
  p.channels = static_cast<int32_t>(d[1]);
  p.anchors = static_cast<int32_t>(anchors);
  p.conf = q.conf;
  p.maxNms = static_cast<int32_t>(std::min<int64_t>(q.maxNms, INT32_MAX));
  p.allowedClasses = allowed;
  p.keys = reinterpret_cast<uint32_t*>(scratch_.get());
  p.classes = reinterpret_cast<int32_t*>(scratch_.bytes() + keyBytes);
  p.out = reinterpret_cast<ops::CandidateRecord*>(records_.get());
  p.counts = reinterpret_cast<int32_t*>(records_.bytes() + recordBytes);
  ops::launchCandidates(p, s);
  int32_t* hostCounts = reinterpret_cast<int32_t*>(hostRecords_.get());
  uint8_t* hostRecords = hostRecords_.get() + alignUp(countBytes, kAlign);
  checkCuda(cudaMemcpyAsync(hostCounts, p.counts, countBytes, cudaMemcpyDeviceToHost, s), "copy candidate counts");
  stream.synchronize("candidate counts");
  CandidateSet out;
  out.counts.assign(hostCounts, hostCounts + batch);
  size_t copied = 0;
  for (int64_t b = 0; b < batch; ++b) {
    const size_t bytes = static_cast<size_t>(out.counts[b]) * sizeof(ops::CandidateRecord);
    if (bytes == 0) continue;
    const uint8_t* from = records_.bytes() + static_cast<size_t>(b * capacity) * sizeof(ops::CandidateRecord);
    checkCuda(cudaMemcpyAsync(hostRecords + copied, from, bytes, cudaMemcpyDeviceToHost, s), "copy candidates");
    copied += bytes;
  }
  stream.synchronize("candidates");
  out.records.assign(hostRecords, hostRecords + copied);
  return out;
}

}  // namespace netdef::cuda
