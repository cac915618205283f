/**
 * End-to-end predict against what Ultralytics 8.0.232 itself reports for the same images
 * (test/fixtures/ultralytics): same classes, each box IoU >= 0.99 with its counterpart, scores
 * within 0.005. Square mode is compared with Ultralytics running the official ONNX export (which it
 * letterboxes to the full 640x640 square); rect mode with Ultralytics running the .pt (minimal
 * rectangle). Ultralytics ran PyTorch/ONNX Runtime on another CPU, so scores differ by float noise.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Detector } from '../../engine/detector.js';
import { boxIou } from '../../vision/boxes.js';
import type { Detection } from '../../vision/postprocess.js';
import { dataPath, REPO_ROOT } from '../data.js';

interface Reference { image: string; boxes: [number, number, number, number][]; scores: number[]; classes: number[] }
const FIXTURE = JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/ultralytics/ultralytics-8.0.232.json'), 'utf8')) as Record<string, Record<string, Reference[]>>;

const MIN_IOU = 0.99;
const SCORE_TOLERANCE = 0.005;

/** Pairs each reference detection with the same-class detection of highest IoU. */
function compare(mine: readonly Detection[], ref: Reference): void {
  expect(mine.map((d) => d.classId).sort(), `classes on ${ref.image}`).toEqual([...ref.classes].sort());
  const used = new Set<number>();
  ref.boxes.forEach((box, i) => {
    let best = -1;
    let bestIou = 0;
    mine.forEach((d, j) => {
      const iou = boxIou(d.box, box);
      if (!used.has(j) && d.classId === ref.classes[i] && iou > bestIou) { best = j; bestIou = iou; }
    });
    expect(bestIou, `${ref.image} detection ${i} (class ${ref.classes[i]})`).toBeGreaterThanOrEqual(MIN_IOU);
    used.add(best);
    expect(Math.abs(mine[best]!.score - ref.scores[i]!), `${ref.image} score ${i}`).toBeLessThanOrEqual(SCORE_TOLERANCE);
  });
}

describe.each([
  ['square', false, 'predict_square_onnx', 'yolov8n'],
  ['rect', true, 'predict_rect_pt', 'yolov8n'],
  ['rect', true, 'predict_rect_pt', 'yolov8s'],
] as const)('%s predict of %s agrees with Ultralytics (%s, %s)', (_mode, rect, key, model) => {
  const detectors: Detector[] = [];
  afterAll(async () => { for (const d of detectors) await d.dispose(); });

  it.each(['bus.jpg', 'zidane.jpg'])('%s', async (image) => {
    const detector = await Detector.load(dataPath('weights', `${model}.pt`), { rect });
    detectors.push(detector);
    const [result] = await detector.detect(dataPath('images', image));
    const ref = FIXTURE[key]![model]!.find((r) => r.image === image)!;
    compare(result!.detections, ref);
    for (const d of result!.detections) expect(d.label).toBe(detector.names[d.classId]);
  });
});
