/**
 * The COCO shapes evaluation works on: ground truth as in an official `instances_*.json` (only the
 * fields bbox evaluation reads) and detections as in a COCO results file (`loadRes` input).
 * Boxes are `[x, y, w, h]` in pixels of the original image, top-left corner first.
 */

export type CocoBox = readonly [x: number, y: number, w: number, h: number];

export interface CocoImage {
  readonly id: number;
  readonly width: number;
  readonly height: number;
}

export interface CocoAnnotation {
  readonly id: number;
  readonly image_id: number;
  readonly category_id: number;
  readonly bbox: CocoBox;
  /** The object's area (COCO: the segmentation's area, not w*h); it decides the area range. */
  readonly area: number;
  /** 1 for a crowd region: detections inside it are ignored, never false positives. */
  readonly iscrowd: number;
}

export interface CocoCategory {
  readonly id: number;
  readonly name: string;
}

export interface CocoGroundTruth {
  readonly images: readonly CocoImage[];
  readonly annotations: readonly CocoAnnotation[];
  readonly categories: readonly CocoCategory[];
}

export interface CocoDetection {
  readonly image_id: number;
  readonly category_id: number;
  readonly bbox: CocoBox;
  readonly score: number;
}
