/**
 * COCO bbox evaluation with pycocotools' semantics (`COCOeval(gt, dt, 'bbox')` with useCats=1:
 * `evaluate()`, `accumulate()`, `summarize()`): mAP50-95, mAP50, mAP75 at the last maxDets over all
 * areas, per-category AP, and the 12 numbers of `COCOeval.stats`. Detections follow `loadRes`:
 * their area is w*h and they are never crowd. Images and categories are taken in ascending id order
 * as `params.imgIds = sorted(getImgIds())` does; within an image, input order breaks score ties.
 * Tested in test/vision/eval.test.ts (hand-computed cases, coco128 ground truth fed back) and
 * test/vision/eval-pycocotools.test.ts (fixtures written by pycocotools itself).
 */
import { accumulateCategory, type Cell, pool } from './accumulate.js';
import { type ClassMatches, operatingPoint } from './operating-point.js';
import { checkDetections, checkGroundTruth } from './coco-check.js';
import type { CocoCategory, CocoDetection, CocoGroundTruth } from './coco-types.js';
import { evaluateImage, prepareImageCategory, type DtObject, type GtObject, type ImageEval } from './evaluate-image.js';
import { makeParams, type EvalParams } from './params.js';
import { summarizeMean, summarizeStats } from './summarize.js';

export interface CocoEvalOptions {
  /** Detections kept per image and category (ascending; at least three); default [1, 10, 100]. */
  readonly maxDets?: readonly number[];
}

export interface PerClassAp {
  readonly categoryId: number;
  readonly name: string;
  /** AP over IoU .50:.95 at the last maxDets, all areas; -1 where the category has no ground truth. */
  readonly ap50_95: number;
  readonly ap50: number;
  /** Non-crowd ground truth objects of this category. */
  readonly numGt: number;
  /** Images holding ground truth of this category. */
  readonly numImages: number;
  /** Ultralytics val's P and R: at the confidence that maximises the smoothed mean F1 (operating-point.ts). */
  readonly precision: number;
  readonly recall: number;
}

export interface CocoEvalResult {
  /** Mean over categories with ground truth of AP@[.50:.95], last maxDets, all areas (-1 if none). */
  readonly map50_95: number;
  readonly map50: number;
  readonly map75: number;
  /** In ascending category id order. */
  readonly perClass: readonly PerClassAp[];
  /** `COCOeval.stats` after `summarize()`: AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl. */
  readonly stats: readonly number[];
  /** The maxDets used, sorted. */
  readonly maxDets: readonly number[];
  /** Mean of the per-class P and R over categories with ground truth, and the confidence they are read at. */
  readonly precision: number;
  readonly recall: number;
  readonly confidence: number;
}

interface Bucket {
  readonly gts: GtObject[];
  readonly dts: DtObject[];
}

/** `_prepare()`: ground truth and detections by category index, then by image index. */
function group(gt: CocoGroundTruth, detections: readonly CocoDetection[], imageIndex: Map<number, number>, categoryIndex: Map<number, number>): Map<number, Bucket>[] {
  const byCategory = Array.from({ length: categoryIndex.size }, () => new Map<number, Bucket>());
  const bucket = (imageId: number, categoryId: number): Bucket => {
    const byImage = byCategory[categoryIndex.get(categoryId)!]!;
    const i = imageIndex.get(imageId)!;
    let b = byImage.get(i);
    if (!b) byImage.set(i, (b = { gts: [], dts: [] }));
    return b;
  };
  for (const a of gt.annotations) bucket(a.image_id, a.category_id).gts.push({ bbox: a.bbox, area: a.area, iscrowd: a.iscrowd === 1 });
  for (const d of detections) bucket(d.image_id, d.category_id).dts.push({ bbox: d.bbox, score: d.score });
  return byCategory;
}

/**
 * `evaluate()` then `accumulate()` for one category (one category at a time keeps memory small):
 * evaluateImg for every area range and image holding ground truth or detections of it.
 */
function evaluateCategory(byImage: Map<number, Bucket>, params: EvalParams): { cells: (Cell | null)[][]; matches: ClassMatches } {
  const byArea = params.areaRanges.map((): ImageEval[] => []);
  const maxDet = params.maxDets[params.maxDets.length - 1]!;
  for (const i of [...byImage.keys()].sort((a, b) => a - b)) {
    const { gts, dts } = byImage.get(i)!;
    const pair = prepareImageCategory(gts, dts, maxDet);
    params.areaRanges.forEach((range, a) => {
      const e = evaluateImage(pair, range, params.iouThrs);
      if (e) byArea[a]!.push(e);
    });
  }
  return { cells: accumulateCategory(byArea, params), matches: matchesAtIou50(byArea[ALL_AREAS]!, maxDet, params.iouThrs.length) };
}

const ALL_AREAS = 0;
/** IoU 0.5 is the first COCO threshold. */
const IOU_50 = 0;

/** The category's detections at IoU 0.5, all areas, crowd matches left out (the P/R columns' input). */
function matchesAtIou50(images: readonly ImageEval[], maxDet: number, thresholds: number): ClassMatches {
  const pooled = pool(images, maxDet, thresholds);
  const n = pooled.scores.length;
  const scores: number[] = [];
  const matched: number[] = [];
  for (let i = 0; i < n; i++) {
    if (pooled.ignored[IOU_50 * n + i]) continue;
    scores.push(pooled.scores[i]!);
    matched.push(pooled.matched[IOU_50 * n + i]!);
  }
  return { scores, matched, numGt: images.reduce((sum, e) => sum + e.numGtCounted, 0) };
}

function countImages(gt: CocoGroundTruth): Map<number, number> {
  const images = new Map<number, Set<number>>();
  for (const a of gt.annotations) if (a.iscrowd !== 1) (images.get(a.category_id) ?? images.set(a.category_id, new Set()).get(a.category_id)!).add(a.image_id);
  return new Map([...images].map(([c, s]) => [c, s.size]));
}

function countNonCrowd(gt: CocoGroundTruth): Map<number, number> {
  const counts = new Map<number, number>();
  for (const a of gt.annotations) if (a.iscrowd !== 1) counts.set(a.category_id, (counts.get(a.category_id) ?? 0) + 1);
  return counts;
}

const indexById = (ids: readonly number[]): Map<number, number> => new Map(ids.map((id, i) => [id, i]));

/** Evaluates detections against ground truth as pycocotools' COCOeval does for bbox. */
export function evaluateCoco(groundTruth: CocoGroundTruth, detections: readonly CocoDetection[], options: CocoEvalOptions = {}): CocoEvalResult {
  const params = makeParams(options.maxDets);
  checkDetections(detections, checkGroundTruth(groundTruth));
  const imageIds = groundTruth.images.map((im) => im.id).sort((a, b) => a - b);
  const categories: CocoCategory[] = [...groundTruth.categories].sort((a, b) => a.id - b.id);
  const buckets = group(groundTruth, detections, indexById(imageIds), indexById(categories.map((c) => c.id)));
  const evaluated = buckets.map((byImage) => evaluateCategory(byImage, params));
  const acc = evaluated.map((e) => e.cells);
  const last = params.maxDets[params.maxDets.length - 1]!;
  const ap = (iouThr?: number, k?: number): number =>
    summarizeMean(acc, params, { ap: true, area: 'all', maxDets: last, iouThr, categories: k === undefined ? undefined : [k] });
  const numGt = countNonCrowd(groundTruth);
  const numImages = countImages(groundTruth);
  const withGt = categories.flatMap((c, k) => ((numGt.get(c.id) ?? 0) > 0 ? [k] : []));
  const point = operatingPoint(withGt.map((k) => evaluated[k]!.matches));
  const pr = new Map(withGt.map((k, i) => [k, { precision: point.precision[i]!, recall: point.recall[i]! }]));
  const perClass = categories.map((c, k) => ({
    categoryId: c.id, name: c.name, ap50_95: ap(undefined, k), ap50: ap(0.5, k), numGt: numGt.get(c.id) ?? 0, numImages: numImages.get(c.id) ?? 0,
    precision: pr.get(k)?.precision ?? 0, recall: pr.get(k)?.recall ?? 0,
  }));
  const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  return {
    map50_95: ap(), map50: ap(0.5), map75: ap(0.75), perClass, stats: summarizeStats(acc, params), maxDets: params.maxDets,
    precision: mean(point.precision), recall: mean(point.recall), confidence: point.confidence,
  };
}
