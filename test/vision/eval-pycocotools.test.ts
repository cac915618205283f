/**
 * evaluateCoco against pycocotools itself: fixtures written by scripts/fixtures/make-cocoeval-fixture.py
 * (pycocotools 2.0.11, i.e. cocodataset/cocoapi's cocoeval.py) hold random detections, their ground
 * truth (inline, or coco128's official annotations by path) and COCOeval's 12 stats and per-category
 * AP for three maxDets settings. The brief asked for agreement within 1e-9; evaluateCoco repeats
 * pycocotools' arithmetic (bbIou, eps, numpy's pairwise mean), so the numbers are compared exactly.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CocoDetection, CocoGroundTruth } from '../../vision/eval/coco-types.js';
import { evaluateCoco } from '../../vision/eval/coco-eval.js';
import { IOU_THRESHOLDS, RECALL_THRESHOLDS } from '../../vision/eval/params.js';
import { dataPath, REPO_ROOT } from '../data.js';

interface FixtureResult {
  maxDets: number[];
  stats: number[];
  perClass: { categoryId: number; ap50_95: number; ap50: number }[];
}

interface Fixture {
  name: string;
  groundTruth: CocoGroundTruth | { dataPath: string };
  detections: [number, number, number, number, number, number, number][];
  results: FixtureResult[];
  iouThrs: number[];
  recThrs: number[];
}

function loadFixture(name: string): { fixture: Fixture; gt: CocoGroundTruth; dets: CocoDetection[] } {
  const fixture = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'cocoeval', `${name}.json`), 'utf8')) as Fixture;
  const gt = 'dataPath' in fixture.groundTruth
    ? (JSON.parse(readFileSync(dataPath(fixture.groundTruth.dataPath), 'utf8')) as CocoGroundTruth)
    : fixture.groundTruth;
  const dets = fixture.detections.map(([image_id, category_id, x, y, w, h, score]) => ({ image_id, category_id, bbox: [x, y, w, h] as const, score }));
  return { fixture, gt, dets };
}

describe.each(['synthetic', 'coco128'])('pycocotools fixture %s', (name) => {
  const { fixture, gt, dets } = loadFixture(name);

  it('uses the same IoU and recall thresholds as pycocotools, bit for bit', () => {
    expect(IOU_THRESHOLDS).toEqual(fixture.iouThrs);
    expect(RECALL_THRESHOLDS).toEqual(fixture.recThrs);
  });

  it.each(fixture.results.map((r) => [r.maxDets.join(','), r] as const))('matches COCOeval stats and per-class AP with maxDets [%s]', (_, expected) => {
    const result = evaluateCoco(gt, dets, { maxDets: expected.maxDets });
    expect(result.stats).toEqual(expected.stats);
    expect(result.perClass.map(({ categoryId, ap50_95, ap50 }) => ({ categoryId, ap50_95, ap50 }))).toEqual(expected.perClass);
  });

  it('reports mAP at the last maxDets as COCOeval stats do at the default', () => {
    const [atDefault] = fixture.results;
    const result = evaluateCoco(gt, dets);
    expect([result.map50_95, result.map50, result.map75]).toEqual(atDefault!.stats.slice(0, 3));
  });
});
