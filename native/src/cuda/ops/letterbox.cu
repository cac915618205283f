// letterbox: see letterbox.cuh.
#include "letterbox.cuh"
#include "op_device.cuh"

namespace netdef::cuda::ops {
namespace {

constexpr const char* kOp = "letterbox";
constexpr int kCoefScale = 2048;  // INTER_RESIZE_COEF_SCALE
constexpr uint8_t kPadValue = 114;
constexpr int kChannels = 3;
constexpr int kBlockX = 32, kBlockY = 8;

// One destination index's first source index and its two weights (resize-linear.ts axisTable).
struct Coef {
  int index, w0, w1;
};

// Every double operation rounded as written (no contraction into FMA), as JavaScript evaluates it.
__device__ __forceinline__ Coef axisCoef(int d, int srcSize, int dstSize, bool clampFraction) {
  const double scale = __ddiv_rn(1.0, __ddiv_rn(static_cast<double>(dstSize), static_cast<double>(srcSize)));
  float f = __double2float_rn(__dsub_rn(__dmul_rn(__dadd_rn(static_cast<double>(d), 0.5), scale), 0.5));
  int s = static_cast<int>(floorf(f));
  f = __double2float_rn(__dsub_rn(static_cast<double>(f), static_cast<double>(s)));
  if (clampFraction && s < 0) {
    s = 0;
    f = 0;
  }
  if (clampFraction && s >= srcSize - 1) {
    s = srcSize - 1;
    f = 0;
  }
  const float oneMinus = __double2float_rn(__dsub_rn(1.0, static_cast<double>(f)));
  return {s, static_cast<int>(rint(__dmul_rn(static_cast<double>(oneMinus), kCoefScale))),
          static_cast<int>(rint(__dmul_rn(static_cast<double>(f), kCoefScale)))};
}

template <typename T>
__device__ __forceinline__ T convertByte(uint8_t v);
template <>
__device__ __forceinline__ uint8_t convertByte<uint8_t>(uint8_t v) { return v; }
template <>
__device__ __forceinline__ float convertByte<float>(uint8_t v) {
  return __double2float_rn(__ddiv_rn(static_cast<double>(v), 255.0));  // Math.fround(v / 255)
}
template <>
__device__ __forceinline__ __half convertByte<__half>(uint8_t v) { return __float2half_rn(convertByte<float>(v)); }

template <typename T>
__global__ void letterboxKernel(const uint8_t* __restrict__ src, const LetterboxSlot* __restrict__ slots, T* __restrict__ out,
                                int width, int height) {
  const LetterboxSlot slot = slots[blockIdx.z];
  const int x = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  const int y = static_cast<int>(blockIdx.y * blockDim.y + threadIdx.y);
  if (x >= width || y >= height) return;
  const int64_t plane = static_cast<int64_t>(width) * height;
  T* dst = out + static_cast<int64_t>(slot.batchIndex) * kChannels * plane + static_cast<int64_t>(y) * width + x;
  const int dx = x - slot.padLeft, dy = y - slot.padTop;
  if (dx < 0 || dy < 0 || dx >= slot.unpadWidth || dy >= slot.unpadHeight) {
    const T pad = convertByte<T>(kPadValue);
    for (int c = 0; c < kChannels; ++c) dst[c * plane] = pad;
    return;
  }
  const Coef col = axisCoef(dx, slot.srcWidth, slot.unpadWidth, true);
  const Coef row = axisCoef(dy, slot.srcHeight, slot.unpadHeight, false);
  const int last = slot.srcWidth - 1;
  const int a0 = col.index >= last ? kCoefScale : col.w0;
  const int a1 = col.index >= last ? 0 : col.w1;
  const int x1 = col.index >= last ? col.index : col.index + 1;
  const int y0 = min(max(row.index, 0), slot.srcHeight - 1);
  const int y1 = min(max(row.index + 1, 0), slot.srcHeight - 1);
  const int64_t stride = static_cast<int64_t>(slot.srcWidth) * kChannels;
  const uint8_t* r0 = src + slot.srcOffset + y0 * stride;
  const uint8_t* r1 = src + slot.srcOffset + y1 * stride;
  const int p0 = col.index * kChannels, p1 = x1 * kChannels;
  for (int c = 0; c < kChannels; ++c) {
    const int d0 = r0[p0 + c] * a0 + r0[p1 + c] * a1;
    const int d1 = r1[p0 + c] * a0 + r1[p1 + c] * a1;
    const int v = (((row.w0 * (d0 >> 4)) >> 16) + ((row.w1 * (d1 >> 4)) >> 16) + 2) >> 2;
    dst[c * plane] = convertByte<T>(static_cast<uint8_t>(v));  // a Uint8Array store: modulo 256
  }
}

template <typename T>
void run(const LetterboxParams& p, cudaStream_t stream) {
  const dim3 block(kBlockX, kBlockY);
  const dim3 grid((p.width + kBlockX - 1) / kBlockX, (p.height + kBlockY - 1) / kBlockY, p.count);
  letterboxKernel<T><<<grid, block, 0, stream>>>(p.src, p.slots, static_cast<T*>(p.out), p.width, p.height);
  checkLaunch(kOp);
}

}  // namespace

void checkLetterboxSlot(const LetterboxSlot& s, int32_t width, int32_t height, int64_t batch, uint64_t srcBytes) {
  const std::string where = "slot " + std::to_string(s.batchIndex) + ": ";
  if (s.batchIndex < 0 || s.batchIndex >= batch) throwInvalid(kOp, where + "batch index outside the batch of " + std::to_string(batch));
  if (s.srcWidth < 1 || s.srcHeight < 1) throwInvalid(kOp, where + "the image size must be positive");
  if (s.unpadWidth < 1 || s.unpadHeight < 1) throwInvalid(kOp, where + "the resized size must be positive");
  if (s.padLeft < 0 || s.padTop < 0 || int64_t{s.padLeft} + s.unpadWidth > width || int64_t{s.padTop} + s.unpadHeight > height) {
    throwInvalid(kOp, where + "the resized image (" + std::to_string(s.unpadWidth) + "x" + std::to_string(s.unpadHeight) + " at " +
                          std::to_string(s.padLeft) + "," + std::to_string(s.padTop) + ") does not fit the " + std::to_string(width) + "x" +
                          std::to_string(height) + " input");
  }
  const uint64_t bytes = static_cast<uint64_t>(s.srcWidth) * static_cast<uint64_t>(s.srcHeight) * kChannels;
  if (s.srcOffset > srcBytes || bytes > srcBytes - s.srcOffset) throwInvalid(kOp, where + "the image lies outside the source buffer");
}

void launchLetterbox(const LetterboxParams& p, cudaStream_t stream) {
  require(p.width > 0 && p.height > 0, kOp, "the output size must be positive");
  require(p.count >= 0, kOp, "negative slot count");
  if (p.count == 0) return;
  require(p.src && p.slots && p.out, kOp, "null src, slots or out");
  switch (p.dtype) {
    case ir::DType::Float32: return run<float>(p, stream);
    case ir::DType::Float16: return run<__half>(p, stream);
    case ir::DType::UInt8: return run<uint8_t>(p, stream);
    default: throwInvalid(kOp, std::string("the output must be float32, float16 or uint8, not ") + dtypeLabel(p.dtype));
  }
}

}  // namespace netdef::cuda::ops
