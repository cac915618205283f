/**
 * evaluateCoco on cases small enough to compute by hand (AP = mean over 10 IoU thresholds of the
 * mean over 101 recall thresholds of the precision envelope), and on coco128's official
 * annotations fed back as detections. pycocotools' own numbers are in eval-pycocotools.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { NetdefError } from '../../common/errors.js';
import { searchSortedLeft } from '../../vision/eval/accumulate.js';
import { boxIou } from '../../vision/eval/box-iou.js';
import { evaluateCoco } from '../../vision/eval/coco-eval.js';
import type { CocoAnnotation, CocoBox, CocoDetection, CocoGroundTruth } from '../../vision/eval/coco-types.js';
import { loadEvalDataset } from '../../vision/eval/dataset.js';
import { toCocoDetections } from '../../vision/eval/detections.js';
import { IOU_THRESHOLDS, linspace, RECALL_THRESHOLDS } from '../../vision/eval/params.js';
import { dataPath } from '../data.js';

interface GtSpec {
  box: CocoBox;
  image?: number;
  cat?: number;
  crowd?: boolean;
  /** Defaults to the box area. */
  area?: number;
}

function groundTruth(specs: GtSpec[], images = [1], categories = [1]): CocoGroundTruth {
  const annotations: CocoAnnotation[] = specs.map((s, i) => ({
    id: i + 1,
    image_id: s.image ?? 1,
    category_id: s.cat ?? 1,
    bbox: s.box,
    area: s.area ?? s.box[2] * s.box[3],
    iscrowd: s.crowd ? 1 : 0,
  }));
  return {
    images: images.map((id) => ({ id, width: 640, height: 480 })),
    annotations,
    categories: categories.map((id) => ({ id, name: `c${id}` })),
  };
}

const det = (box: CocoBox, score: number, image = 1, cat = 1): CocoDetection => ({ image_id: image, category_id: cat, bbox: box, score });

/** AP when precision is p up to recall `upTo` (inclusive) and nothing beyond: thresholds 0..upTo. */
const apFlat = (p: number, upTo: number): number => (p * (Math.round(upTo * 100) + 1)) / 101;

const A: CocoBox = [0, 0, 100, 100];
const B: CocoBox = [200, 200, 100, 100];
const FAR: CocoBox = [500, 400, 50, 50];
/** A perfect AP in pycocotools: the mean of precisions 1 / (1 + eps). */
const ONE = 0.9999999999999998;

function expectError(fn: () => unknown, code: string, text: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NetdefError);
    expect((e as NetdefError).code).toBe(code);
    expect((e as NetdefError).message).toContain(text);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('thresholds and helpers', () => {
  it('builds the IoU and recall thresholds as np.linspace does', () => {
    expect(IOU_THRESHOLDS).toHaveLength(10);
    expect(IOU_THRESHOLDS[8]).toBe(0.8999999999999999); // numpy's value, not 0.9
    expect(RECALL_THRESHOLDS).toHaveLength(101);
    expect(RECALL_THRESHOLDS[35]).toBe(0.35000000000000003);
    expect(linspace(0, 1, 1)).toEqual([0]);
  });

  it('computes IoU as bbIou, with the detection area as union for crowd regions', () => {
    expect(boxIou([0, 0, 100, 60], A, false)).toBe(0.6);
    expect(boxIou([10, 10, 20, 20], A, true)).toBe(1);
    expect(boxIou([90, 0, 20, 100], A, true)).toBe(0.5);
    expect(boxIou([100, 0, 10, 10], A, false)).toBe(0); // touching edges do not overlap
  });

  it('searches sorted recall as np.searchsorted(side="left")', () => {
    const rc = Float64Array.from([0, 0.5, 0.5, 1]);
    expect([0, 0.25, 0.5, 0.75, 1, 1.5].map((v) => searchSortedLeft(rc, v))).toEqual([0, 1, 1, 3, 3, 4]);
  });
});

describe('evaluateCoco on hand-computed cases', () => {
  it('scores one perfect detection 1 (to within eps) where its area range has ground truth', () => {
    const r = evaluateCoco(groundTruth([{ box: A }]), [det(A, 0.9)]);
    // precision is tp / (tp + fp + eps) = 1 / (1 + 2^-52): pycocotools gives exactly these 12 numbers;
    // 100x100 is large, so small and medium have no ground truth (-1)
    expect(r.stats).toEqual([ONE, 0.9999999999999999, 0.9999999999999999, -1, -1, ONE, 1, 1, 1, -1, -1, 1]);
    expect([r.map50_95, r.map50, r.map75]).toEqual(r.stats.slice(0, 3));
    expect(r.perClass).toEqual([{ categoryId: 1, name: 'c1', ap50_95: ONE, ap50: 0.9999999999999999, numGt: 1, numImages: 1, precision: 1, recall: 1 }]);
  });

  it('matches a detection at IoU 0.6 at thresholds .50, .55, .60 only: mAP50-95 = 3/10', () => {
    const r = evaluateCoco(groundTruth([{ box: A }]), [det([0, 0, 100, 60], 0.9)]);
    expect(r.map50).toBeCloseTo(1, 12);
    expect(r.map75).toBe(0);
    expect(r.map50_95).toBeCloseTo(0.3, 12);
  });

  it('caps precision at the recall reached: two objects, one found', () => {
    const r = evaluateCoco(groundTruth([{ box: A }, { box: B }]), [det(A, 0.9)]);
    expect(r.map50_95).toBeCloseTo(apFlat(1, 0.5), 12); // 51 of 101 recall thresholds
    expect(r.stats[8]).toBe(0.5); // AR@100
  });

  it('takes the precision envelope when a false positive outranks the true positive', () => {
    // ranked FP, TP: rc = [0, 1], pr = [0, 1/2] -> envelope [1/2, 1/2] -> AP 1/2
    const r = evaluateCoco(groundTruth([{ box: A }]), [det(FAR, 0.9), det(A, 0.8)]);
    expect(r.map50_95).toBe(0.5);
  });

  it('takes the envelope from the right: TP, FP, TP over two objects', () => {
    // rc = [.5, .5, 1], pr = [1, 1/2, 2/3] -> envelope [1, 2/3, 2/3]; recall <= .5 reads 1 (51), above reads 2/3 (50)
    const r = evaluateCoco(groundTruth([{ box: A }, { box: B }]), [det(A, 0.9), det(FAR, 0.8), det(B, 0.7)]);
    expect(r.map50_95).toBeCloseTo((51 + 50 * (2 / 3)) / 101, 12);
  });

  it('ignores detections inside a crowd region instead of counting them as false positives', () => {
    const crowd: CocoBox = [200, 200, 200, 200];
    const inside = [det([250, 250, 50, 50], 0.95), det([300, 300, 40, 40], 0.94), det(A, 0.9)];
    const r = evaluateCoco(groundTruth([{ box: A }, { box: crowd, crowd: true }]), inside);
    expect(r.map50_95).toBeCloseTo(1, 12);
    expect(r.perClass[0]!.numGt).toBe(1);
    // the same region as an ordinary object: two false positives outrank the true positive
    const plain = evaluateCoco(groundTruth([{ box: A }, { box: crowd }]), inside);
    expect(plain.map50).toBeCloseTo(apFlat(1 / 3, 0.5), 12);
  });

  it('prefers an ordinary object to a crowd region with a higher IoU', () => {
    // the detection lies inside the crowd box (IoU 1) and overlaps A at IoU 0.7: it is A's TP
    const r = evaluateCoco(groundTruth([{ box: [0, 0, 300, 300], crowd: true }, { box: A }]), [det([0, 0, 100, 70], 0.9)]);
    expect(r.map50).toBeCloseTo(1, 12);
    expect(r.map50_95).toBeCloseTo(0.5, 12); // above IoU 0.7 it falls to the crowd region: ignored
  });

  it('counts detections on an image without ground truth as false positives', () => {
    const r = evaluateCoco(groundTruth([{ box: A }], [1, 2]), [det(A, 0.8, 1), det(A, 0.9, 2)]);
    expect(r.map50_95).toBe(0.5);
  });

  it('leaves categories without ground truth out of the mean, and counts found-nothing categories as 0', () => {
    const gt = groundTruth([{ box: A, cat: 1 }, { box: B, cat: 3 }], [1], [1, 2, 3]);
    const r = evaluateCoco(gt, [det(A, 0.9, 1, 1), det(B, 0.9, 1, 2)]);
    expect(r.perClass.map((c) => [c.categoryId, c.ap50_95])).toEqual([[1, ONE], [2, -1], [3, 0]]);
    expect(r.map50_95).toBeCloseTo(0.5, 12);
  });

  it('breaks score ties across images by ascending image id', () => {
    // image 1: TP; image 2: FP; equal scores -> TP first: precision 1 to recall .5
    const tpFirst = evaluateCoco(groundTruth([{ box: A, image: 1 }, { box: A, image: 2 }], [2, 1]), [det(FAR, 0.5, 2), det(A, 0.5, 1)]);
    expect(tpFirst.map50_95).toBeCloseTo(apFlat(1, 0.5), 12);
    const fpFirst = evaluateCoco(groundTruth([{ box: A, image: 2 }, { box: A, image: 1 }], [1, 2]), [det(A, 0.5, 2), det(FAR, 0.5, 1)]);
    expect(fpFirst.map50_95).toBeCloseTo(apFlat(0.5, 0.5), 12);
  });

  it('uses the annotation area for ground truth and w*h for unmatched detections', () => {
    // a 100x100 box annotated with area 500 is small; a big unmatched detection is ignored in 'small'
    const gt = groundTruth([{ box: A, area: 500 }]);
    const r = evaluateCoco(gt, [det(FAR, 0.95), det([300, 100, 200, 200], 0.99), det(A, 0.9)]);
    expect(r.stats[3]).toBeCloseTo(1, 12); // small: the 200x200 FP is out of range; the 50x50 FAR (2500) is medium
    expect(r.stats[5]).toBe(-1); // large: the only object is not large
    expect(r.map50_95).toBeCloseTo(1 / 3, 12);
  });

  it('keeps the best maxDets detections per image and category', () => {
    const r = evaluateCoco(groundTruth([{ box: A }]), [det(FAR, 0.9), det(A, 0.8)]);
    expect(r.stats.slice(6, 9)).toEqual([0, 1, 1]); // AR@1 sees only the FP
    const two = evaluateCoco(groundTruth([{ box: A }, { box: B }]), [det(A, 0.9), det(B, 0.8), det(FAR, 0.7)], { maxDets: [1, 2, 2] });
    expect(two.map50_95).toBeCloseTo(1, 12);
    expect(two.stats[0]).toBe(-1); // summarize() asks for maxDets == 100, as pycocotools does
  });

  it('scores no detections as 0 and no ground truth as -1', () => {
    expect(evaluateCoco(groundTruth([{ box: A }]), []).map50_95).toBe(0);
    expect(evaluateCoco(groundTruth([]), [det(A, 0.9)]).map50_95).toBe(-1);
  });

  it('refuses detections of unknown images or categories and malformed boxes', () => {
    const gt = groundTruth([{ box: A }]);
    expectError(() => evaluateCoco(gt, [det(A, 0.9, 7)]), 'ERR_INVALID_ARGUMENT', 'detections[0].image_id 7');
    expectError(() => evaluateCoco(gt, [det(A, 0.9, 1, 5)]), 'ERR_INVALID_ARGUMENT', 'detections[0].category_id 5');
    expectError(() => evaluateCoco(gt, [det([0, 0, -1, 5], 0.9)]), 'ERR_INVALID_ARGUMENT', 'negative width');
    expectError(() => evaluateCoco(gt, [det(A, Number.NaN)]), 'ERR_INVALID_ARGUMENT', 'score');
    expectError(() => evaluateCoco(gt, [], { maxDets: [100] }), 'ERR_INVALID_ARGUMENT', 'maxDets');
  });
});

describe('coco128 ground truth fed back as detections', () => {
  const root = dataPath('coco128');

  it('scores 1.0 against the official COCO annotations, with or without the crowd boxes', async () => {
    const { groundTruth: gt } = await loadEvalDataset(root);
    const asDetections = (anns: readonly CocoAnnotation[]): CocoDetection[] => anns.map((a) => det(a.bbox, 1, a.image_id, a.category_id));
    const plain = evaluateCoco(gt, asDetections(gt.annotations.filter((a) => a.iscrowd === 0)));
    expect([plain.map50_95, plain.map50, plain.map75]).toEqual([1, 1, 1]);
    // pycocotools 2.0.11 gives the same 12 stats (AR@1 and AR@10 below 1: some images hold more objects)
    expect(plain.stats).toEqual([1, 1, 1, 1, 1, 1, 0.6337253817328174, 0.9856456672334859, 1, 1, 1, 1]);
    expect(evaluateCoco(gt, asDetections(gt.annotations)).stats).toEqual(plain.stats);
    expect(plain.perClass.filter((c) => c.numGt > 0).every((c) => Math.abs(c.ap50_95 - 1) < 1e-12)).toBe(true);
  });

  it('turns corner boxes and class indices into COCO results through the dataset mapping', async () => {
    const coco = await loadEvalDataset(root);
    const dets = toCocoDetections(9, [{ box: [10, 20, 110, 70], score: 0.5, classIndex: 79 }], (c) => coco.categoryIdOfClass(c));
    expect(dets).toEqual([{ image_id: 9, category_id: 90, bbox: [10, 20, 100, 50], score: 0.5 }]);
  });

  it('scores 1.0 for its YOLO labels, and the labels score 1.0 against the COCO annotations', async () => {
    const names = (await import('node:fs')).readFileSync(dataPath('coco.names'), 'utf8').trim().split('\n');
    const yolo = await loadEvalDataset(root, { format: 'yolo', names });
    const coco = await loadEvalDataset(root, { names });
    const fed = yolo.groundTruth.annotations.map((a) => det(a.bbox, 1, a.image_id, a.category_id));
    expect(evaluateCoco(yolo.groundTruth, fed).map50_95).toBe(1);
    const mapped = fed.map((d) => ({ ...d, category_id: coco.categoryIdOfClass(d.category_id) }));
    const cross = evaluateCoco(coco.groundTruth, mapped);
    expect([cross.map50_95, cross.map50]).toEqual([1, 1]);
  });
});
