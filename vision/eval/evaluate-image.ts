/**
 * Matching of one image's detections to its ground truth for one category and one area range, as
 * pycocotools' `COCOeval.evaluateImg` (cocoeval.py), with `computeIoU` done once per image and
 * category by `prepareImageCategory`. Crowd and out-of-range ground truth is "ignored": it is
 * sorted last, a detection prefers a non-ignored match, and a detection matched to it is ignored
 * (neither TP nor FP); crowd regions may absorb any number of detections. Unmatched detections whose
 * own area (w*h) is out of range are ignored too. Tested by hand-computed cases in
 * test/vision/eval.test.ts and against pycocotools through test/fixtures/cocoeval.
 */
import { boxIouMatrix } from './box-iou.js';
import type { CocoBox } from './coco-types.js';
import type { AreaRange } from './params.js';

export interface GtObject {
  readonly bbox: CocoBox;
  readonly area: number;
  readonly iscrowd: boolean;
}

export interface DtObject {
  readonly bbox: CocoBox;
  readonly score: number;
}

/** One image and category: detections by score (stable), cut to maxDets[last], and their IoUs. */
export interface ImageCategory {
  readonly gts: readonly GtObject[];
  readonly dts: readonly DtObject[];
  /** D x G, ground truth in input order: `ious[d * G + g]`. */
  readonly ious: Float64Array;
}

/** evaluateImg's result, flags laid out threshold-major: `dtMatched[t * D + d]`. */
export interface ImageEval {
  /** Detection scores, highest first (the order of the flags below). */
  readonly dtScores: Float64Array;
  readonly dtMatched: Uint8Array;
  readonly dtIgnore: Uint8Array;
  /** Ground truth that counts (gtIgnore == 0): the `npig` contribution of this image. */
  readonly numGtCounted: number;
}

/** Indices that sort `keys` ascending, ties in input order (`np.argsort(keys, kind='mergesort')`). */
export function stableArgsort(keys: ArrayLike<number>): number[] {
  return Array.from({ length: keys.length }, (_, i) => i).sort((a, b) => keys[a]! - keys[b]!);
}

/** `np.argsort(ignore, kind='mergesort')` for 0/1 flags: counted ground truth first, ignored last, each in input order. */
function ignoredLast(ignore: readonly number[]): number[] {
  const order: number[] = [];
  for (const flag of [0, 1]) {
    ignore.forEach((v, i) => {
      if (v === flag) order.push(i);
    });
  }
  return order;
}

/** `computeIoU`: sort detections by descending score (stable), keep maxDet, compute IoUs. */
export function prepareImageCategory(gts: readonly GtObject[], dts: readonly DtObject[], maxDet: number): ImageCategory {
  const order = stableArgsort(dts.map((d) => -d.score)).slice(0, maxDet);
  const kept = order.map((i) => dts[i]!);
  const ious = boxIouMatrix(kept.map((d) => d.bbox), gts.map((g) => g.bbox), gts.map((g) => g.iscrowd));
  return { gts, dts: kept, ious };
}

const outOfRange = (area: number, range: AreaRange): boolean => area < range.min || area > range.max;

/**
 * `evaluateImg(imgId, catId, aRng, maxDets[last])` (the detections were cut to maxDets[last] by
 * prepareImageCategory); null where the image has neither gt nor dt of the category.
 */
export function evaluateImage(pair: ImageCategory, range: AreaRange, iouThrs: readonly number[]): ImageEval | null {
  const { gts, dts, ious } = pair;
  if (gts.length === 0 && dts.length === 0) return null;
  const G = gts.length;
  const gtIgnoreInput = gts.map((g) => (g.iscrowd || outOfRange(g.area, range) ? 1 : 0));
  const gtOrder = ignoredLast(gtIgnoreInput);
  const gtIg = gtOrder.map((i) => gtIgnoreInput[i]!);
  const crowd = gtOrder.map((i) => gts[i]!.iscrowd);
  const D = dts.length;
  const T = iouThrs.length;
  const dtMatched = new Uint8Array(T * D);
  const dtIgnore = new Uint8Array(T * D);
  iouThrs.forEach((t, ti) => {
    const gtMatched = new Uint8Array(G);
    for (let d = 0; d < D; d++) {
      const m = bestMatch(d, Math.min(t, 1 - 1e-10), { ious, G, gtOrder, gtIg, crowd, gtMatched });
      if (m === -1) continue;
      dtIgnore[ti * D + d] = gtIg[m]!;
      dtMatched[ti * D + d] = 1;
      gtMatched[m] = 1;
    }
  });
  dts.forEach((d, di) => {
    if (!outOfRange(d.bbox[2] * d.bbox[3], range)) return;
    for (let ti = 0; ti < T; ti++) if (dtMatched[ti * D + di] === 0) dtIgnore[ti * D + di] = 1;
  });
  const numGtCounted = gtIg.filter((ig) => ig === 0).length;
  return { dtScores: Float64Array.from(dts, (d) => d.score), dtMatched, dtIgnore, numGtCounted };
}

interface MatchState {
  readonly ious: Float64Array;
  readonly G: number;
  /** Sorted position -> input index of the ground truth. */
  readonly gtOrder: readonly number[];
  readonly gtIg: readonly number[];
  readonly crowd: readonly boolean[];
  /** By sorted position, at the current threshold. */
  readonly gtMatched: Uint8Array;
}

/** The inner loop of evaluateImg: the sorted position of the best ground truth for detection d, or -1. */
function bestMatch(d: number, threshold: number, s: MatchState): number {
  let iou = threshold;
  let m = -1;
  for (let g = 0; g < s.gtOrder.length; g++) {
    // if this gt already matched, and not a crowd, continue
    if (s.gtMatched[g] === 1 && !s.crowd[g]) continue;
    // if dt matched to reg gt, and on ignore gt, stop
    if (m > -1 && s.gtIg[m] === 0 && s.gtIg[g] === 1) break;
    // continue to next gt unless better match made
    const value = s.ious[d * s.G + s.gtOrder[g]!]!;
    if (value < iou) continue;
    iou = value;
    m = g;
  }
  return m;
}
