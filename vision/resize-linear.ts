/**
 * `cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)` for 8-bit interleaved images, bit for
 * bit as OpenCV 4.6 (Debian bookworm's libopencv-imgproc406) computes it. That build has no IPP and
 * no HAL for resize, and a NumPy array never takes the OpenCL path, so `cv::hal::resize` runs the
 * generic separable fixed-point code of modules/imgproc/src/resize.cpp:
 *
 * - coefficients (per axis): `f = (float)((d + 0.5) * scale - 0.5)` with `scale = 1 / (dst / src)`
 *   in double, `s = floor(f)`, `f -= s`; the pair `(1 - f, f)` as float, times
 *   INTER_RESIZE_COEF_SCALE = 2048, rounded half to even to int16 (the two need not add to 2048).
 *   Columns only: `s < 0` gives `(s, f) = (0, 0)`, `s >= src - 1` gives `(src - 1, 0)`. Rows keep
 *   their fraction; the two source rows `s` and `s + 1` are clamped into the image instead.
 * - horizontal pass (`HResizeLinear<uchar, int, short, 2048>`): `D = S[s] * a0 + S[s + 1] * a1`
 *   into int32, exact, so its SIMD and scalar forms agree.
 * - vertical pass (the `VResizeLinear<uchar, int, short, FixedPtCast<...>>` specialisation, whose
 *   scalar tail equals its SIMD body `v_mul_hi` / `v_rshr_pack_u<2>`):
 *   `((b0 * (D0 >> 4)) >> 16) + ((b1 * (D1 >> 4)) >> 16) + 2) >> 2`.
 *
 * An exact 2x reduction goes to INTER_AREA's fast path in OpenCV; it yields `(a + b + c + d + 2) >> 2`,
 * which the formula above also yields (a0 = a1 = b0 = b1 = 1024), so no branch is needed. Equal
 * sizes are a copy, as in `cv::resize`.
 *
 * Tested bit for bit against cv2 4.6 (downscales, upscales, exact 2x, odd sizes, real photos) by
 * test/vision/preprocess.test.ts with test/fixtures/letterbox/ (made by scripts/fixtures/). Speed:
 * typed arrays and no per-pixel allocation; bus.jpg 810x1080 -> 480x640 takes about 9 ms (16 ms on
 * the first, unoptimised call) on one core of the development machine with Node 20.
 */
import { ErrorCode, fail } from '../common/errors.js';
import { RGB_CHANNELS, type RgbImage, rgbImage } from './image.js';
import { roundHalfEven } from '../common/round.js';

export { roundHalfEven };

/** INTER_RESIZE_COEF_BITS = 11 in OpenCV. */
const COEF_SCALE = 2048;

/** Per-axis tables: first source index and the two int16 weights of every destination index. */
interface AxisTable {
  readonly index: Int32Array;
  readonly w0: Int32Array;
  readonly w1: Int32Array;
}

/**
 * Source indices and weights for one axis. `clampFraction` is OpenCV's column rule (border columns
 * get weight 2048 on the clamped index); rows keep the fraction and are clamped when read.
 */
function axisTable(srcSize: number, dstSize: number, clampFraction: boolean): AxisTable {
  const scale = 1 / (dstSize / srcSize);
  const index = new Int32Array(dstSize);
  const w0 = new Int32Array(dstSize);
  const w1 = new Int32Array(dstSize);
  for (let d = 0; d < dstSize; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (clampFraction && s < 0) { s = 0; f = 0; }
    if (clampFraction && s >= srcSize - 1) { s = srcSize - 1; f = 0; }
    index[d] = s;
    w0[d] = roundHalfEven(Math.fround(1 - f) * COEF_SCALE);
    w1[d] = roundHalfEven(f * COEF_SCALE);
  }
  return { index, w0, w1 };
}

/** One source row resized horizontally into `out` (dstWidth * channels int32 values). */
function horizontalPass(src: Uint8Array, rowStart: number, srcWidth: number, channels: number, cols: AxisTable, out: Int32Array): void {
  if (channels === RGB_CHANNELS) {
    horizontalPass3(src, rowStart, srcWidth, cols, out);
    return;
  }
  const last = srcWidth - 1;
  const n = cols.index.length;
  for (let dx = 0, o = 0; dx < n; dx++) {
    const sx = cols.index[dx]!;
    const a0 = sx >= last ? COEF_SCALE : cols.w0[dx]!;
    const a1 = sx >= last ? 0 : cols.w1[dx]!;
    const p0 = rowStart + sx * channels;
    const p1 = sx >= last ? p0 : p0 + channels;
    for (let c = 0; c < channels; c++) out[o++] = src[p0 + c]! * a0 + src[p1 + c]! * a1;
  }
}

/** horizontalPass for three channels, unrolled (the common case; about twice as fast). */
function horizontalPass3(src: Uint8Array, rowStart: number, srcWidth: number, cols: AxisTable, out: Int32Array): void {
  const last = srcWidth - 1;
  const n = cols.index.length;
  for (let dx = 0, o = 0; dx < n; dx++, o += 3) {
    const sx = cols.index[dx]!;
    const a0 = sx >= last ? COEF_SCALE : cols.w0[dx]!;
    const a1 = sx >= last ? 0 : cols.w1[dx]!;
    const p0 = rowStart + sx * 3;
    const p1 = sx >= last ? p0 : p0 + 3;
    out[o] = src[p0]! * a0 + src[p1]! * a1;
    out[o + 1] = src[p0 + 1]! * a0 + src[p1 + 1]! * a1;
    out[o + 2] = src[p0 + 2]! * a0 + src[p1 + 2]! * a1;
  }
}

/** One destination row from two horizontally resized rows (OpenCV's 8U vertical formula). */
function verticalPass(d0: Int32Array, d1: Int32Array, b0: number, b1: number, dst: Uint8Array, dstStart: number): void {
  const n = d0.length;
  for (let x = 0; x < n; x++) {
    dst[dstStart + x] = (((b0 * (d0[x]! >> 4)) >> 16) + ((b1 * (d1[x]! >> 4)) >> 16) + 2) >> 2;
  }
}

function checkSizes(srcWidth: number, srcHeight: number, channels: number, dstWidth: number, dstHeight: number, length: number): void {
  for (const [name, v] of [['source width', srcWidth], ['source height', srcHeight], ['channels', channels],
    ['destination width', dstWidth], ['destination height', dstHeight]] as const) {
    if (!Number.isInteger(v) || v <= 0) fail(ErrorCode.InvalidArgument, `resizeLinear: ${name} must be a positive integer, got ${v}`);
  }
  if (length !== srcWidth * srcHeight * channels) {
    fail(ErrorCode.InvalidArgument, `resizeLinear: ${srcWidth}x${srcHeight}x${channels} needs ${srcWidth * srcHeight * channels} bytes, got ${length}`);
  }
}

/**
 * Resizes an interleaved 8-bit image (HWC, any channel count) with OpenCV's INTER_LINEAR.
 * Each needed source row is resized horizontally once (two rows kept, as OpenCV reuses them).
 */
export function resizeLinearU8(
  src: Uint8Array, srcWidth: number, srcHeight: number, channels: number, dstWidth: number, dstHeight: number,
): Uint8Array {
  checkSizes(srcWidth, srcHeight, channels, dstWidth, dstHeight, src.length);
  if (srcWidth === dstWidth && srcHeight === dstHeight) return src.slice();
  const cols = axisTable(srcWidth, dstWidth, true);
  const rows = axisTable(srcHeight, dstHeight, false);
  const rowLength = dstWidth * channels;
  const dst = new Uint8Array(rowLength * dstHeight);
  let bufA = new Int32Array(rowLength);
  let bufB = new Int32Array(rowLength);
  let rowA = -1;
  let rowB = -1;
  const srcStride = srcWidth * channels;
  for (let dy = 0; dy < dstHeight; dy++) {
    const sy = rows.index[dy]!;
    const y0 = Math.min(Math.max(sy, 0), srcHeight - 1);
    const y1 = Math.min(Math.max(sy + 1, 0), srcHeight - 1);
    if (rowA !== y0) {
      if (rowB === y0) {
        [bufA, bufB] = [bufB, bufA];
        rowA = y0;
        rowB = -1;
      } else {
        horizontalPass(src, y0 * srcStride, srcWidth, channels, cols, bufA);
        rowA = y0;
      }
    }
    if (rowB !== y1) {
      if (y1 === y0) bufB.set(bufA);
      else horizontalPass(src, y1 * srcStride, srcWidth, channels, cols, bufB);
      rowB = y1;
    }
    verticalPass(bufA, bufB, rows.w0[dy]!, rows.w1[dy]!, dst, dy * rowLength);
  }
  return dst;
}

/** An RgbImage resized to width x height with OpenCV's INTER_LINEAR. */
export function resizeLinear(image: RgbImage, width: number, height: number): RgbImage {
  const data = resizeLinearU8(image.data, image.width, image.height, RGB_CHANNELS, width, height);
  return rgbImage(width, height, data, image.path);
}
