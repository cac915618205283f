/**
 * Box arithmetic for detection postprocessing, mirroring Ultralytics 8.0.232 `ultralytics/utils/ops.py`:
 * `xywh2xyxy`, `scale_boxes` (with `padding=True`, the default) and `clip_boxes`, plus the IoU of two
 * boxes exactly as torchvision's CPU `nms` kernel computes it (areas `(x2 - x1) * (y2 - y1)`, no `+1`).
 *
 * Ultralytics does this math on float32 tensors, so every step here is rounded to float32 with
 * `Math.fround` in the same order; Python-side scalars (`gain`, `pad`) are computed in double as
 * Python does, and `round` is Python's round-half-to-even. Tested by test/vision/postprocess-boxes.test.ts
 * with hand-computed cases (square and rectangular letterboxes, clipping, a pad of exactly x.5).
 */
import { ErrorCode, fail } from '../common/errors.js';
import { roundHalfEven } from './resize-linear.js'; // Python's round() on a double

const f32 = Math.fround;

/** A box as [x1, y1, x2, y2] (corners) or [cx, cy, w, h], in pixels. */
export type Box = readonly [number, number, number, number];

/** An image size as [height, width], the order Ultralytics uses for shapes. */
export type Shape2D = readonly [number, number];

/**
 * Ultralytics' `ratio_pad`: `((ratio_h, ratio_w), (pad_w, pad_h))` as the dataset records it. Like
 * `scale_boxes`, only `ratio[0]` is used as the gain; `pad` is subtracted as given (not rounded).
 */
export interface RatioPad {
  readonly ratio: readonly [number, number];
  readonly pad: readonly [number, number];
}

/** [cx, cy, w, h] -> [x1, y1, x2, y2] in float32, as `xywh2xyxy` on a float32 tensor. */
export function xywh2xyxy(box: Box): Box {
  const [cx, cy, w, h] = box;
  const hw = f32(w / 2);
  const hh = f32(h / 2);
  return [f32(cx - hw), f32(cy - hh), f32(cx + hw), f32(cy + hh)];
}

/**
 * IoU of two xyxy boxes in float32, in the operation order of torchvision's CPU nms kernel
 * (`std::max`/`std::min` as written there, so a NaN coordinate behaves as it does in C++).
 * The argument order matters only for NaN coordinates: `a` is the kept box, `b` the candidate.
 */
export function boxIou(a: Box, b: Box): number {
  const areaA = f32(f32(a[2] - a[0]) * f32(a[3] - a[1]));
  const areaB = f32(f32(b[2] - b[0]) * f32(b[3] - b[1]));
  return iouFloat32(a[0], a[1], a[2], a[3], areaA, b[0], b[1], b[2], b[3], areaB);
}

/** The float32 IoU given corners and precomputed float32 areas (the hot loop of NMS). */
export function iouFloat32(
  ax1: number, ay1: number, ax2: number, ay2: number, areaA: number,
  bx1: number, by1: number, bx2: number, by2: number, areaB: number,
): number {
  const xx1 = ax1 < bx1 ? bx1 : ax1; // std::max(a, b) returns a unless a < b
  const yy1 = ay1 < by1 ? by1 : ay1;
  const xx2 = bx2 < ax2 ? bx2 : ax2; // std::min(a, b) returns a unless b < a
  const yy2 = by2 < ay2 ? by2 : ay2;
  const dw = f32(xx2 - xx1);
  const dh = f32(yy2 - yy1);
  const w = 0 < dw ? dw : 0;
  const h = 0 < dh ? dh : 0;
  const inter = f32(w * h);
  return f32(inter / f32(f32(areaA + areaB) - inter));
}

/**
 * The gain and padding `scale_boxes` derives when no `ratio_pad` is given: gain = min(h1/h0, w1/w0),
 * pad = (round((w1 - w0*gain)/2 - 0.1), round((h1 - h0*gain)/2 - 0.1)), all in double like Python.
 */
export function letterboxGainPad(inputShape: Shape2D, originalShape: Shape2D): { gain: number; pad: [number, number] } {
  const [h1, w1] = inputShape;
  const [h0, w0] = originalShape;
  const gain = Math.min(h1 / h0, w1 / w0);
  const pad: [number, number] = [roundHalfEven((w1 - w0 * gain) / 2 - 0.1), roundHalfEven((h1 - h0 * gain) / 2 - 0.1)];
  return { gain, pad };
}

/** `clip_boxes`: clamp x to [0, width] and y to [0, height]. */
export function clipBox(box: Box, shape: Shape2D): Box {
  const [h, w] = shape;
  return [clamp(box[0], w), clamp(box[1], h), clamp(box[2], w), clamp(box[3], h)];
}

/** torch `clamp(0, hi)`: NaN stays NaN. */
function clamp(v: number, hi: number): number {
  if (v < 0) return 0;
  return v > hi ? hi : v;
}

/**
 * `scale_boxes(img1_shape=inputShape, boxes, img0_shape=originalShape, ratio_pad)`: undo the letterbox
 * (subtract the padding, divide by the gain, both in float32 as torch does with Python scalars) and
 * clip to the original image. Returns new boxes; the input is not modified.
 */
export function scaleBoxes(boxes: readonly Box[], inputShape: Shape2D, originalShape: Shape2D, ratioPad?: RatioPad): Box[] {
  checkShape(inputShape, 'inputShape');
  checkShape(originalShape, 'originalShape');
  const { gain, pad } = ratioPad === undefined ? letterboxGainPad(inputShape, originalShape) : { gain: ratioPad.ratio[0], pad: ratioPad.pad };
  const g = f32(gain); // torch casts a Python scalar to the tensor's dtype
  const px = f32(pad[0]);
  const py = f32(pad[1]);
  return boxes.map((b) => clipBox(
    [f32(f32(b[0] - px) / g), f32(f32(b[1] - py) / g), f32(f32(b[2] - px) / g), f32(f32(b[3] - py) / g)],
    originalShape,
  ));
}

function checkShape(shape: Shape2D, what: string): void {
  if (shape.length !== 2 || !shape.every((v) => Number.isFinite(v) && v > 0)) {
    fail(ErrorCode.InvalidArgument, `${what} must be [height, width] with positive sizes, got [${shape.join(', ')}]`);
  }
}
