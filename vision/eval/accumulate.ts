/**
 * Precision and recall per IoU threshold, category, area range and maxDets, as pycocotools'
 * `COCOeval.accumulate` (cocoeval.py): each image's best maxDet detections are pooled and sorted by
 * descending score (stable, so ties keep image order), cumulative TP/FP give recall `tp / npig` and
 * precision `tp / (tp + fp + eps)`, precision is made monotone from the right (the envelope) and
 * read at the 101 recall thresholds with `np.searchsorted(rc, recThrs, side='left')`; thresholds past
 * the highest recall reached read 0. A cell without counted ground truth is null (pycocotools: -1).
 * Tested by hand-computed envelopes in test/vision/eval.test.ts and the pycocotools fixtures.
 */
import { stableArgsort, type ImageEval } from './evaluate-image.js';
import type { EvalParams } from './params.js';

/** `np.spacing(1)`, added to precision's denominator by pycocotools. */
const EPS = 2.220446049250313e-16;

export interface Cell {
  /** T x R, threshold-major: `precision[t * R + r]`. */
  readonly precision: Float64Array;
  /** Recall reached at each IoU threshold. */
  readonly recall: Float64Array;
}

/** `[k][a][m]`: one Cell per category, area range and maxDets, null where pycocotools holds -1. */
export type Accumulated = readonly (readonly (readonly (Cell | null)[])[])[];

/**
 * accumulate() for one category: `byArea[a]` holds the category's non-null evaluateImg results for
 * area range a, in ascending image id order (the order pycocotools concatenates them in).
 */
export function accumulateCategory(byArea: readonly (readonly ImageEval[])[], params: EvalParams): (Cell | null)[][] {
  return byArea.map((images) => params.maxDets.map((maxDet) => accumulateCell(images, maxDet, params)));
}

/** The pooled detections of one cell; flags threshold-major: `matched[t * n + i]`. */
export interface Pooled {
  readonly scores: Float64Array;
  readonly matched: Uint8Array;
  readonly ignored: Uint8Array;
}

/** Each image's first maxDet detections (already score-sorted), concatenated in image order. */
export function pool(images: readonly ImageEval[], maxDet: number, T: number): Pooled {
  const counts = images.map((e) => Math.min(maxDet, e.dtScores.length));
  const n = counts.reduce((a, b) => a + b, 0);
  const pooled: Pooled = { scores: new Float64Array(n), matched: new Uint8Array(T * n), ignored: new Uint8Array(T * n) };
  let offset = 0;
  images.forEach((e, i) => {
    const count = counts[i]!;
    const D = e.dtScores.length;
    for (let d = 0; d < count; d++) pooled.scores[offset + d] = e.dtScores[d]!;
    for (let t = 0; t < T; t++) {
      for (let d = 0; d < count; d++) {
        pooled.matched[t * n + offset + d] = e.dtMatched[t * D + d]!;
        pooled.ignored[t * n + offset + d] = e.dtIgnore[t * D + d]!;
      }
    }
    offset += count;
  });
  return pooled;
}

function accumulateCell(images: readonly ImageEval[], maxDet: number, params: EvalParams): Cell | null {
  if (images.length === 0) return null;
  const npig = images.reduce((sum, e) => sum + e.numGtCounted, 0);
  if (npig === 0) return null;
  const T = params.iouThrs.length;
  const R = params.recThrs.length;
  const pooled = pool(images, maxDet, T);
  const order = stableArgsort(pooled.scores.map((s) => -s));
  const precision = new Float64Array(T * R);
  const recall = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    const { rc, pr } = precisionRecall(pooled, t, order, npig);
    recall[t] = rc.length > 0 ? rc[rc.length - 1]! : 0;
    precision.set(precisionAtRecalls(rc, pr, params.recThrs), t * R);
  }
  return { precision, recall };
}

/** Cumulative recall and precision down the ranked list at threshold t; ignored detections count as neither. */
function precisionRecall(pooled: Pooled, t: number, order: readonly number[], npig: number): { rc: Float64Array; pr: Float64Array } {
  const n = order.length;
  const rc = new Float64Array(n);
  const pr = new Float64Array(n);
  let tp = 0;
  let fp = 0;
  for (let rank = 0; rank < n; rank++) {
    const i = order[rank]!;
    const matched = pooled.matched[t * n + i] === 1;
    const ignored = pooled.ignored[t * n + i] === 1;
    if (matched && !ignored) tp += 1;
    if (!matched && !ignored) fp += 1;
    rc[rank] = tp / npig;
    pr[rank] = tp / (fp + tp + EPS);
  }
  return { rc, pr };
}

/** The precision envelope read at each recall threshold; 0 where the recall is never reached. */
export function precisionAtRecalls(rc: Float64Array, pr: Float64Array, recThrs: readonly number[]): Float64Array {
  const envelope = Float64Array.from(pr);
  for (let i = envelope.length - 1; i > 0; i--) {
    if (envelope[i]! > envelope[i - 1]!) envelope[i - 1] = envelope[i]!;
  }
  const q = new Float64Array(recThrs.length);
  for (let r = 0; r < recThrs.length; r++) {
    const at = searchSortedLeft(rc, recThrs[r]!);
    if (at >= envelope.length) break; // pycocotools: IndexError ends the loop, the rest stay 0
    q[r] = envelope[at]!;
  }
  return q;
}

/** `np.searchsorted(sorted, value, side='left')`: the first index whose value is >= value. */
export function searchSortedLeft(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
