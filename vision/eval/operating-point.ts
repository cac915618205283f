/**
 * Ultralytics val's P and R columns: precision and recall of each class at one confidence, the one
 * that maximises the mean F1 over classes after smoothing (ultralytics/utils/metrics.py
 * `ap_per_class`: curves sampled at 1000 confidences in [0, 1] with np.interp, F1 smoothed by a box
 * filter of 10 % of the samples, argmax). Matches come from COCOeval's matching at IoU 0.5 (crowd
 * matches left out), which equals Ultralytics' `match_predictions` except where several
 * detections compete for one object at equal IoU. Tested in test/vision/operating-point.test.ts.
 */

/** One class's detections at IoU 0.5: scores and whether each matched, and its object count. */
export interface ClassMatches {
  readonly scores: ArrayLike<number>;
  readonly matched: ArrayLike<number>;
  readonly numGt: number;
}

/** Confidences sampled (np.linspace(0, 1, 1000)). */
const SAMPLES = 1000;
/** Smoothing box filter width as a fraction of the samples (Ultralytics' smooth(f=0.1)). */
const SMOOTH_FRACTION = 0.1;
const EPS = 1e-16;

/** np.interp(x, xp, fp) with xp increasing, `left` below the first point, fp's last value above the last. */
function interp(x: number, xp: ArrayLike<number>, fp: ArrayLike<number>, left: number): number {
  const n = xp.length;
  if (x < xp[0]!) return left;
  if (x >= xp[n - 1]!) return fp[n - 1]!;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (xp[mid]! <= x) lo = mid;
    else hi = mid;
  }
  const span = xp[hi]! - xp[lo]!;
  return span === 0 ? fp[hi]! : fp[lo]! + ((x - xp[lo]!) * (fp[hi]! - fp[lo]!)) / span;
}

/** Precision and recall of one class at each sampled confidence (zeros when it has no detections or objects). */
function curves(c: ClassMatches, px: Float64Array): { p: Float64Array; r: Float64Array } {
  const p = new Float64Array(px.length);
  const r = new Float64Array(px.length);
  const n = c.scores.length;
  if (n === 0 || c.numGt === 0) return { p, r };
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => c.scores[b]! - c.scores[a]!);
  const negConf = new Float64Array(n);
  const recall = new Float64Array(n);
  const precision = new Float64Array(n);
  let tp = 0;
  order.forEach((i, k) => {
    tp += c.matched[i] ? 1 : 0;
    negConf[k] = -c.scores[i]!;
    recall[k] = tp / (c.numGt + EPS);
    precision[k] = tp / (k + 1);
  });
  px.forEach((x, j) => {
    r[j] = interp(-x, negConf, recall, 0);
    p[j] = interp(-x, negConf, precision, 1);
  });
  return { p, r };
}

/** Ultralytics' smooth(): a box filter with edges padded by the end values. */
function smooth(y: Float64Array): Float64Array {
  const nf = Math.floor(Math.round(y.length * SMOOTH_FRACTION * 2) / 2) + 1;
  const pad = Math.floor(nf / 2);
  const padded = [...new Array<number>(pad).fill(y[0]!), ...y, ...new Array<number>(pad).fill(y[y.length - 1]!)];
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    let sum = 0;
    for (let k = 0; k < nf; k++) sum += padded[i + k]!;
    out[i] = sum / nf;
  }
  return out;
}

/** Each class's P and R at the confidence of the best smoothed mean F1, and that confidence. */
export function operatingPoint(classes: readonly ClassMatches[]): { precision: number[]; recall: number[]; confidence: number } {
  const px = Float64Array.from({ length: SAMPLES }, (_, j) => j / (SAMPLES - 1));
  const all = classes.map((c) => curves(c, px));
  const meanF1 = new Float64Array(SAMPLES);
  for (const { p, r } of all) for (let j = 0; j < SAMPLES; j++) meanF1[j]! += (2 * p[j]! * r[j]!) / (p[j]! + r[j]! + EPS) / Math.max(classes.length, 1);
  const smoothed = smooth(meanF1);
  let best = 0;
  for (let j = 1; j < SAMPLES; j++) if (smoothed[j]! > smoothed[best]!) best = j;
  return { precision: all.map((c) => c.p[best]!), recall: all.map((c) => c.r[best]!), confidence: px[best]! };
}
