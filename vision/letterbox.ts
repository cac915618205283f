/**
 * Ultralytics' LetterBox (ultralytics/data/augment.py, version 8.0.232) on an RgbImage: scale to fit
 * the target shape keeping the aspect ratio, resize with OpenCV's INTER_LINEAR (bit-exact, see
 * resize-linear.ts) and pad with grey 114, with Ultralytics' order of operations and Python's
 * rounding (round half to even on doubles):
 *
 *   r = min(newH / h, newW / w); if not scaleup: r = min(r, 1)
 *   unpad = (round(w * r), round(h * r)); dw, dh = newW - unpad.w, newH - unpad.h
 *   if auto: dw, dh = dw mod stride, dh mod stride          (predict's minimal rectangle)
 *   dw /= 2; dh /= 2                                          (center)
 *   resize only if (w, h) != unpad
 *   top, bottom = round(dh - 0.1), round(dh + 0.1); left, right = round(dw - 0.1), round(dw + 0.1)
 *
 * Predict (engine/predictor.py pre_transform) uses `LetterBox(imgsz, auto=same_shapes and model.pt,
 * stride=32)`: `auto` (rect) for a PyTorch model, square for an exported one such as the ONNX model.
 * Val uses `LetterBox((imgsz, imgsz), scaleup=False)` after its own long-side resize (val-shapes.ts).
 * The geometry is returned so boxes can be mapped back to the original image.
 *
 * Tested against Ultralytics' formulas run by cv2 4.6 in test/vision/preprocess.test.ts, with
 * test/fixtures/letterbox/ (bus.jpg, zidane.jpg, coco128 images, synthetic sizes; square and rect).
 */
import { ErrorCode, fail } from '../common/errors.js';
import { RGB_CHANNELS, type RgbImage, rgbImage } from './image.js';
import { resizeLinear, roundHalfEven } from './resize-linear.js';

/** Ultralytics' border value (114, 114, 114). */
export const LETTERBOX_PAD_VALUE = 114;

/** YOLOv8's largest stride, the multiple that `auto` pads to. */
export const DEFAULT_STRIDE = 32;

export interface LetterboxOptions {
  /** Target size: a number for a square, or [height, width] as Ultralytics writes shapes. */
  readonly shape: number | readonly [number, number];
  /** Ultralytics `auto`: pad only up to the next multiple of `stride` (predict's rect mode). */
  readonly auto?: boolean;
  /** Multiple used by `auto` (default 32). */
  readonly stride?: number;
  /** Allow enlarging small images (default true; val uses false). */
  readonly scaleup?: boolean;
}

/** Where the resized image lies in the letterboxed one, and how it was scaled. */
export interface LetterboxGeometry {
  /** Source size. */
  readonly sourceWidth: number;
  readonly sourceHeight: number;
  /** The scale r applied to both axes (new / old). */
  readonly ratio: number;
  /** Size of the resized image before padding (Ultralytics' new_unpad). */
  readonly newUnpadWidth: number;
  readonly newUnpadHeight: number;
  readonly padLeft: number;
  readonly padRight: number;
  readonly padTop: number;
  readonly padBottom: number;
  /** Size of the letterboxed output. */
  readonly width: number;
  readonly height: number;
}

export interface Letterboxed {
  readonly image: RgbImage;
  readonly geometry: LetterboxGeometry;
}

function targetShape(shape: LetterboxOptions['shape']): [number, number] {
  const [h, w] = typeof shape === 'number' ? [shape, shape] : shape;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h <= 0 || w <= 0) {
    fail(ErrorCode.InvalidArgument, `letterbox: shape must be positive integers, got ${String(shape)}`);
  }
  return [h, w];
}

/** Python's `x % n` for a positive n (the result takes n's sign, as np.mod does). */
function pyMod(x: number, n: number): number {
  return ((x % n) + n) % n;
}

/** The letterbox geometry for a source of width x height, without touching pixels. */
export function letterboxGeometry(sourceWidth: number, sourceHeight: number, options: LetterboxOptions): LetterboxGeometry {
  const [newH, newW] = targetShape(options.shape);
  const stride = options.stride ?? DEFAULT_STRIDE;
  if (!Number.isInteger(stride) || stride <= 0) fail(ErrorCode.InvalidArgument, `letterbox: stride must be a positive integer, got ${stride}`);
  if (!Number.isInteger(sourceWidth) || !Number.isInteger(sourceHeight) || sourceWidth <= 0 || sourceHeight <= 0) {
    fail(ErrorCode.InvalidArgument, `letterbox: source size must be positive integers, got ${sourceWidth}x${sourceHeight}`);
  }
  let r = Math.min(newH / sourceHeight, newW / sourceWidth);
  if (options.scaleup === false) r = Math.min(r, 1.0);
  const newUnpadWidth = roundHalfEven(sourceWidth * r);
  const newUnpadHeight = roundHalfEven(sourceHeight * r);
  let dw = newW - newUnpadWidth;
  let dh = newH - newUnpadHeight;
  if (options.auto === true) {
    dw = pyMod(dw, stride);
    dh = pyMod(dh, stride);
  }
  dw /= 2;
  dh /= 2;
  const padTop = roundHalfEven(dh - 0.1);
  const padBottom = roundHalfEven(dh + 0.1);
  const padLeft = roundHalfEven(dw - 0.1);
  const padRight = roundHalfEven(dw + 0.1);
  return Object.freeze({
    sourceWidth, sourceHeight, ratio: r, newUnpadWidth, newUnpadHeight, padLeft, padRight, padTop, padBottom,
    width: newUnpadWidth + padLeft + padRight, height: newUnpadHeight + padTop + padBottom,
  });
}

/** `cv2.copyMakeBorder(..., BORDER_CONSTANT, value=(v, v, v))` for an RGB image. */
export function padConstant(image: RgbImage, top: number, bottom: number, left: number, right: number, value = LETTERBOX_PAD_VALUE): RgbImage {
  for (const v of [top, bottom, left, right]) {
    if (!Number.isInteger(v) || v < 0) fail(ErrorCode.InvalidArgument, `padConstant: padding must be non-negative integers, got ${v}`);
  }
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return image;
  const width = image.width + left + right;
  const height = image.height + top + bottom;
  const out = new Uint8Array(width * height * RGB_CHANNELS).fill(value);
  const srcRow = image.width * RGB_CHANNELS;
  const dstRow = width * RGB_CHANNELS;
  for (let y = 0; y < image.height; y++) {
    out.set(image.data.subarray(y * srcRow, (y + 1) * srcRow), (y + top) * dstRow + left * RGB_CHANNELS);
  }
  return rgbImage(width, height, out, image.path);
}

/** Letterboxes an image as Ultralytics' LetterBox does; returns the padded image and its geometry. */
export function letterbox(image: RgbImage, options: LetterboxOptions): Letterboxed {
  const g = letterboxGeometry(image.width, image.height, options);
  const sameSize = image.width === g.newUnpadWidth && image.height === g.newUnpadHeight;
  const resized = sameSize ? image : resizeLinear(image, g.newUnpadWidth, g.newUnpadHeight);
  return { image: padConstant(resized, g.padTop, g.padBottom, g.padLeft, g.padRight), geometry: g };
}
