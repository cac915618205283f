/**
 * How Ultralytics 8.0.232 validation loads images before its LetterBox (ultralytics/data/base.py):
 *
 * - `load_image` (rect_mode, the default): `r = imgsz / max(h0, w0)`; if r != 1 the image is resized
 *   with INTER_LINEAR to `(min(ceil(w0 * r), imgsz), min(ceil(h0 * r), imgsz))` (ceil, not round).
 *   Then `LetterBox((imgsz, imgsz), scaleup=False)` pads it; for an exported (non-PyTorch) model
 *   validation forces rect=False and batch 1, so every image becomes imgsz x imgsz.
 * - rect batches (PyTorch models only): images sorted by aspect ratio h / w, cut into batches, and
 *   each batch letterboxed to `ceil(shape * imgsz / stride + pad) * stride` (pad 0.5 for val), where
 *   shape is [maxi, 1] if all ratios are < 1, [1, 1 / mini] if all are > 1, else [1, 1].
 *   NumPy's `argsort` is not stable, so which of several images with equal ratios lands in which
 *   batch may differ from the order here (a stable sort); the batch shapes do not.
 *
 * Tested in test/vision/preprocess.test.ts (sizes by hand, the val pipeline bit-exact against cv2).
 */
import { ErrorCode, fail } from '../common/errors.js';
import type { RgbImage } from './image.js';
import { DEFAULT_STRIDE, type Letterboxed, letterbox } from './letterbox.js';
import { resizeLinear } from './resize-linear.js';

/** The size `load_image` resizes a w0 x h0 image to (long side imgsz, ceil on the other). */
export function valLoadSize(w0: number, h0: number, imgsz: number): { width: number; height: number } {
  if (![w0, h0, imgsz].every((v) => Number.isInteger(v) && v > 0)) {
    fail(ErrorCode.InvalidArgument, `valLoadSize: sizes must be positive integers, got ${w0}x${h0}, imgsz ${imgsz}`);
  }
  const r = imgsz / Math.max(h0, w0);
  if (r === 1) return { width: w0, height: h0 };
  return { width: Math.min(Math.ceil(w0 * r), imgsz), height: Math.min(Math.ceil(h0 * r), imgsz) };
}

/** `load_image`: the image with its long side resized to imgsz (returned as is if already so). */
export function valLoadResize(image: RgbImage, imgsz: number): RgbImage {
  const { width, height } = valLoadSize(image.width, image.height, imgsz);
  return width === image.width && height === image.height ? image : resizeLinear(image, width, height);
}

/**
 * The tensor validation feeds an exported model (rect off, batch 1): `load_image`, then
 * `LetterBox((imgsz, imgsz), scaleup=False)`. The geometry maps from the *loaded* image; multiply
 * by the load ratio (loaded / original, per axis) to reach the original, as Ultralytics' ratio_pad does.
 */
export function valLetterbox(image: RgbImage, imgsz: number): Letterboxed {
  return letterbox(valLoadResize(image, imgsz), { shape: imgsz, scaleup: false });
}

export interface RectBatches {
  /** Image indices in the order validation visits them (sorted by h / w). */
  readonly order: readonly number[];
  /** [height, width] of each batch. */
  readonly batchShapes: readonly (readonly [number, number])[];
  /** Batch of the i-th image in `order`. */
  readonly batchOf: readonly number[];
}

/** `BaseDataset.set_rectangle` for images of the given [height, width] (original sizes). */
export function rectBatches(
  shapes: readonly (readonly [number, number])[], batchSize: number, imgsz: number, stride = DEFAULT_STRIDE, pad = 0.5,
): RectBatches {
  if (shapes.length === 0 || !Number.isInteger(batchSize) || batchSize <= 0) {
    fail(ErrorCode.InvalidArgument, `rectBatches: need images and a positive batch size, got ${shapes.length} and ${batchSize}`);
  }
  const ratios = shapes.map(([h, w]) => h / w);
  const order = ratios.map((_, i) => i).sort((a, b) => ratios[a]! - ratios[b]!);
  const batchOf = order.map((_, i) => Math.floor(i / batchSize));
  const batchShapes: [number, number][] = [];
  for (let b = 0; b * batchSize < order.length; b++) {
    const ar = order.slice(b * batchSize, (b + 1) * batchSize).map((i) => ratios[i]!);
    const mini = Math.min(...ar);
    const maxi = Math.max(...ar);
    const shape = maxi < 1 ? [maxi, 1] : mini > 1 ? [1, 1 / mini] : [1, 1];
    const side = (s: number): number => Math.ceil((s * imgsz) / stride + pad) * stride;
    batchShapes.push([side(shape[0]!), side(shape[1]!)]);
  }
  return { order, batchShapes, batchOf };
}
