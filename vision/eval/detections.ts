/**
 * Model detections (corner boxes in original-image pixels, class index, score) to COCO results
 * entries (`[x, y, w, h]`, category id), as Ultralytics' `pred_to_json` does before pycocotools,
 * without its rounding (3 decimals for boxes, 5 for scores). Tested in test/vision/eval.test.ts.
 */
import type { CocoDetection } from './coco-types.js';

export interface XyxyDetection {
  /** x1, y1, x2, y2 in pixels of the original image. */
  readonly box: readonly [number, number, number, number];
  readonly score: number;
  readonly classIndex: number;
}

export function toCocoDetections(imageId: number, detections: readonly XyxyDetection[], categoryIdOfClass: (classIndex: number) => number): CocoDetection[] {
  return detections.map(({ box: [x1, y1, x2, y2], score, classIndex }) => ({
    image_id: imageId,
    category_id: categoryIdOfClass(classIndex),
    bbox: [x1, y1, x2 - x1, y2 - y1],
    score,
  }));
}
