/**
 * IoU between detection and ground-truth boxes, as pycocotools' `bbIou` (common/maskApi.c, reached
 * through `maskUtils.iou(d, g, iscrowd)` in `COCOeval.computeIoU`): boxes are [x, y, w, h]; for a
 * crowd ground truth the union is the detection's own area, so a detection inside a crowd region
 * scores 1. The operations and their order are the C code's, so results agree to the last bit.
 * Tested by hand-computed cases in test/vision/eval.test.ts and through the pycocotools fixtures.
 */
import type { CocoBox } from './coco-types.js';

/** IoU of one detection with one ground truth box. */
export function boxIou(d: CocoBox, g: CocoBox, crowd: boolean): number {
  const w = Math.min(d[2] + d[0], g[2] + g[0]) - Math.max(d[0], g[0]);
  if (w <= 0) return 0;
  const h = Math.min(d[3] + d[1], g[3] + g[1]) - Math.max(d[1], g[1]);
  if (h <= 0) return 0;
  const inter = w * h;
  const da = d[2] * d[3];
  const union = crowd ? da : da + g[2] * g[3] - inter;
  return inter / union;
}

/** The D x G matrix of IoUs, row-major: `ious[d * G + g]`. */
export function boxIouMatrix(dets: readonly CocoBox[], gts: readonly CocoBox[], iscrowd: readonly boolean[]): Float64Array {
  const ious = new Float64Array(dets.length * gts.length);
  dets.forEach((d, di) => {
    gts.forEach((g, gi) => {
      ious[di * gts.length + gi] = boxIou(d, g, iscrowd[gi] === true);
    });
  });
  return ious;
}
