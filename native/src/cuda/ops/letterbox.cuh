// letterbox: decoded uint8 RGB images (HWC, on the device) into a network input [B, 3, H, W]
// (NCHW), as vision/letterbox.ts + vision/resize-linear.ts + vision/tensor.ts do it on the host,
// bit for bit: OpenCV's INTER_LINEAR in its fixed-point arithmetic (per-axis coefficients from
// `(float)((d + 0.5) * scale - 0.5)` in double, weights rounded half to even to 2048ths, the
// horizontal pass in int32, the vertical `((b0 * (D0 >> 4)) >> 16) + ((b1 * (D1 >> 4)) >> 16) + 2) >> 2`),
// the grey 114 border around the resized image, HWC -> CHW, and the element conversion of the
// input dtype: float32(byte / 255) (division in double, rounded once, as JavaScript does),
// float16 of that float32 (round to nearest even), or the byte itself for a uint8 input. The
// coefficients are computed per pixel with explicitly rounded double operations (__dmul_rn ...),
// so no FMA contraction changes them. An image of the resized size is copied unchanged (the
// formula gives the identity there, as cv::resize's early copy does).
//
// The geometry (resized size and padding) comes from the caller (vision/letterbox.ts
// letterboxGeometry), one slot per batch index; all slots go in one launch.
//
// Test: native/tests/ops_letterbox.cu (a C++ port of resize-linear.ts, random sizes, and fixtures
// written by the TypeScript letterbox: scripts/fixtures/letterbox-gpu.ts).
#pragma once

#include "op_common.cuh"

namespace netdef::cuda::ops {

// One image of the batch: where its bytes are and where it goes in the input.
struct LetterboxSlot {
  uint64_t srcOffset = 0;           // byte offset of the image in LetterboxParams::src (HWC, RGB)
  int32_t srcWidth = 0, srcHeight = 0;
  int32_t unpadWidth = 0, unpadHeight = 0;  // size after resizing (Ultralytics' new_unpad)
  int32_t padLeft = 0, padTop = 0;          // the resized image's top-left corner in the output
  int32_t batchIndex = 0;                   // which [3, H, W] of the output it fills
};

struct LetterboxParams {
  const uint8_t* src = nullptr;        // every slot's image bytes
  uint64_t srcBytes = 0;               // size of src (each slot must lie inside)
  const LetterboxSlot* slots = nullptr;  // device array of `count` slots
  int32_t count = 0;
  void* out = nullptr;                 // [batch, 3, height, width] of `dtype`
  ir::DType dtype = ir::DType::Float32;  // float32, float16 or uint8
  int32_t width = 0, height = 0;       // the network input's spatial size
};

// Checks a slot against the output size and the source buffer (ERR_INVALID_ARGUMENT naming what
// is wrong); the engine calls it on the host copy of each slot before uploading them.
void checkLetterboxSlot(const LetterboxSlot& slot, int32_t width, int32_t height, int64_t batch, uint64_t srcBytes);

// `slots` are read on the device; the caller has checked them with checkLetterboxSlot.
void launchLetterbox(const LetterboxParams& p, cudaStream_t stream);

}  // namespace netdef::cuda::ops
