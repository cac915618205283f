/**
 * YOLO label files (`labels/<image stem>.txt`): one object a line, `class cx cy w h`, the box
 * normalised to [0, 1] by the image's width and height. The checks are Ultralytics'
 * `verify_image_label` for detection labels (five fields, numbers, class in range, coordinates in
 * [0, 1]) with a small tolerance for printing rounding; polygon (segment) lines are refused. Errors
 * are NetdefError(ERR_DATASET) naming `file:line`. Tested in test/vision/eval-dataset.test.ts.
 */
import { ErrorCode, fail } from '../../common/errors.js';
import type { CocoBox } from './coco-types.js';

/** How far a normalised coordinate may stray outside [0, 1] (rounding when labels were printed). */
export const LABEL_TOLERANCE = 1e-4;

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export interface YoloLabel {
  readonly classIndex: number;
  /** Centre x, centre y, width, height, normalised. */
  readonly cx: number;
  readonly cy: number;
  readonly w: number;
  readonly h: number;
}

function parseLine(fields: readonly string[], numClasses: number, where: string): YoloLabel {
  if (fields.length !== 5) {
    fail(ErrorCode.Dataset, `${where}: expected 5 fields (class cx cy w h), found ${fields.length}${fields.length > 5 ? ' (segment labels are not supported)' : ''}`);
  }
  const bad = fields.find((f) => !NUMBER.test(f));
  if (bad !== undefined) fail(ErrorCode.Dataset, `${where}: '${bad}' is not a number`);
  const [classIndex, cx, cy, w, h] = fields.map(Number) as [number, number, number, number, number];
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= numClasses) {
    fail(ErrorCode.Dataset, `${where}: class ${fields[0]} is not an integer in [0, ${numClasses - 1}]`);
  }
  const outside = [cx, cy, w, h].find((v) => v < -LABEL_TOLERANCE || v > 1 + LABEL_TOLERANCE);
  if (outside !== undefined) fail(ErrorCode.Dataset, `${where}: coordinate ${outside} is outside [0, 1] (labels must be normalised)`);
  return { classIndex, cx, cy, w, h };
}

/** Parses a label file's text; blank lines are skipped. `file` names the file in errors. */
export function parseYoloLabels(text: string, file: string, numClasses: number): YoloLabel[] {
  const labels: YoloLabel[] = [];
  text.split('\n').forEach((line, i) => {
    const fields = line.trim().split(/\s+/).filter((f) => f.length > 0);
    if (fields.length > 0) labels.push(parseLine(fields, numClasses, `${file}:${i + 1}`));
  });
  return labels;
}

/** The label's box in pixels, `[x, y, w, h]` from the top-left corner (Ultralytics' xywhn2xyxy). */
export function labelToBox(label: YoloLabel, width: number, height: number): CocoBox {
  return [(label.cx - label.w / 2) * width, (label.cy - label.h / 2) * height, label.w * width, label.h * height];
}
