/**
 * How a tensor's int8 range (amax) is chosen from what calibration saw:
 *  - `minmax`: the largest |x| seen;
 *  - `percentile`: the |x| below which the given percentage of values fall (99.99 by default);
 *  - `entropy`: TensorRT's EntropyCalibrator2 rule: the clipping threshold whose 128-level
 *    quantization of the |x| histogram (2048 bins) loses the least information, as Kullback-Leibler
 *    divergence between the clipped reference distribution and its quantized copy.
 */
import { ErrorCode, fail } from '../../common/errors.js';

export type CalibrationMethodName = 'minmax' | 'percentile' | 'entropy';

export interface CalibrationMethod {
  readonly name: CalibrationMethodName;
  /** For `percentile`: the percentage of |x| values kept (0 < p ≤ 100). */
  readonly percentile?: number;
}

/** Percentile's default: the one NVIDIA's pytorch-quantization and most INT8 write-ups use. */
export const DEFAULT_PERCENTILE = 99.99;
/** The histogram's bins (TensorRT's EntropyCalibrator2 uses 2048). */
export const HISTOGRAM_BINS = 2048;
/** Levels of the positive int8 half that entropy calibration quantizes into. */
const QUANTIZED_LEVELS = 128;

/** `entropy` | `minmax` | `percentile` | `percentile=99.9` → a method (ERR_INVALID_ARGUMENT otherwise). */
export function parseCalibrationMethod(text: string): CalibrationMethod {
  const [name, value, ...rest] = text.trim().split('=');
  if (rest.length === 0 && (name === 'minmax' || name === 'entropy') && value === undefined) return { name };
  if (rest.length === 0 && name === 'percentile') {
    const p = value === undefined ? DEFAULT_PERCENTILE : Number(value);
    if (!(p > 0 && p <= 100)) fail(ErrorCode.InvalidArgument, `calibration method '${text}': the percentile must be a number in (0, 100]`);
    return { name, percentile: p };
  }
  return fail(ErrorCode.InvalidArgument, `unknown calibration method '${text}' (expected entropy, minmax or percentile[=99.99])`);
}

export function describeMethod(method: CalibrationMethod): string {
  return method.name === 'percentile' ? `percentile=${method.percentile ?? DEFAULT_PERCENTILE}` : method.name;
}

/** The |x| histogram of one tensor: HISTOGRAM_BINS bins of equal width over [0, max]. */
export interface Histogram {
  readonly counts: Float64Array;
  readonly binWidth: number;
}

/** The upper edge of the bin where the cumulative count first reaches `percentile` % of the total. */
export function percentileAmax(h: Histogram, percentile: number): number {
  const total = h.counts.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const target = (total * percentile) / 100;
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    seen += h.counts[i]!;
    if (seen >= target) return (i + 1) * h.binWidth;
  }
  return h.counts.length * h.binWidth;
}

/** KL(p || q) of two unnormalized distributions over the same bins; Infinity where q misses p's mass. */
function divergence(p: Float64Array, q: Float64Array, length: number): number {
  let pSum = 0;
  let qSum = 0;
  for (let i = 0; i < length; i++) { pSum += p[i]!; qSum += q[i]!; }
  if (pSum === 0 || qSum === 0) return Infinity;
  let kl = 0;
  for (let i = 0; i < length; i++) {
    const pi = p[i]! / pSum;
    if (pi === 0) continue;
    const qi = q[i]! / qSum;
    if (qi === 0) return Infinity;
    kl += pi * Math.log(pi / qi);
  }
  return kl;
}

/**
 * TensorRT's entropy threshold: for each candidate bin count i from 128 to all bins, the reference
 * p is the first i bins with every count beyond added to the last; q spreads each of 128 equal
 * groups of the first i bins evenly over the group's non-empty bins. The threshold is the upper
 * edge of the i with the smallest KL(p || q).
 */
export function entropyAmax(h: Histogram): number {
  const bins = h.counts.length;
  if (h.counts.every((c) => c === 0)) return 0;
  const p = new Float64Array(bins);
  const q = new Float64Array(bins);
  let best = bins;
  let bestKl = Infinity;
  let tail = 0;
  for (let i = bins - 1; i >= QUANTIZED_LEVELS; i--) tail += h.counts[i]!;
  for (let i = QUANTIZED_LEVELS; i <= bins; i++) {
    // tail holds the counts from bin i on.
    p.set(h.counts.subarray(0, i));
    p[i - 1] = p[i - 1]! + tail;
    for (let j = 0; j < QUANTIZED_LEVELS; j++) {
      const start = Math.floor((j * i) / QUANTIZED_LEVELS);
      const stop = Math.floor(((j + 1) * i) / QUANTIZED_LEVELS);
      let total = 0;
      let nonEmpty = 0;
      for (let k = start; k < stop; k++) { total += h.counts[k]!; if (h.counts[k]! > 0) nonEmpty++; }
      for (let k = start; k < stop; k++) q[k] = h.counts[k]! > 0 ? total / nonEmpty : 0;
    }
    const kl = divergence(p, q, i);
    if (kl < bestKl) { bestKl = kl; best = i; }
    if (i < bins) tail -= h.counts[i]!;
  }
  return best * h.binWidth;
}
