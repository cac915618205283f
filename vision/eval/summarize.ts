/**
 * Averages over the accumulated precision and recall, as pycocotools' `COCOeval.summarize()`
 * (`_summarize` and `_summarizeDets` in cocoeval.py): the mean of every entry that is not -1 over
 * the chosen IoU thresholds, recall thresholds and categories (summed in numpy's order and pairwise,
 * as np.mean does, so results agree to the bit); -1 when there is none. The 12 stats
 * are summarize()'s, quirks included: stats[0] asks for maxDets == 100 literally (so it is -1 when
 * 100 is not among maxDets), the others read maxDets[0], [1] and [2]. IoU thresholds are picked by
 * exact equality (`np.where(iouThr == p.iouThrs)`). Tested by hand-computed cases and the
 * pycocotools fixtures (test/vision/eval*.test.ts).
 */
import type { Accumulated } from './accumulate.js';
import type { AreaLabel, EvalParams } from './params.js';

export interface Selection {
  /** true: average precision; false: average recall. */
  readonly ap: boolean;
  /** One IoU threshold (matched exactly), or all of them. */
  readonly iouThr?: number;
  readonly area: AreaLabel;
  readonly maxDets: number;
  /** Category indices (positions in sorted category ids); all when absent. */
  readonly categories?: readonly number[];
}

/** numpy's PW_BLOCKSIZE: below it, eight running sums; above it, halves. */
const PAIRWISE_BLOCK = 128;

const indicesWhere = <T>(values: readonly T[], keep: (v: T) => boolean): number[] =>
  values.flatMap((v, i) => (keep(v) ? [i] : []));

/**
 * The entries of `precision[t, r, k, a, m]` (or `recall[t, k, a, m]`) that `_summarize` selects, in
 * numpy's C order, without the -1 entries (null cells).
 */
function selectedValues(acc: Accumulated, params: EvalParams, sel: Selection): number[] {
  const R = params.recThrs.length;
  const tind = sel.iouThr === undefined ? params.iouThrs.map((_, t) => t) : indicesWhere(params.iouThrs, (t) => t === sel.iouThr);
  const aind = indicesWhere(params.areaRanges, (a) => a.label === sel.area);
  const mind = indicesWhere(params.maxDets, (m) => m === sel.maxDets);
  const kind = sel.categories ?? acc.map((_, k) => k);
  const cells = kind.flatMap((k) => aind.flatMap((a) => mind.map((m) => acc[k]?.[a]?.[m] ?? null)));
  const values: number[] = [];
  for (const t of tind) {
    if (!sel.ap) {
      for (const cell of cells) if (cell) values.push(cell.recall[t]!);
      continue;
    }
    for (let r = 0; r < R; r++) for (const cell of cells) if (cell) values.push(cell.precision[t * R + r]!);
  }
  return values;
}

/** numpy's pairwise summation (`pairwise_sum` in loops_utils.h), so that means agree to the bit. */
export function pairwiseSum(a: readonly number[], start = 0, n = a.length): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i]!;
    return res;
  }
  if (n <= PAIRWISE_BLOCK) {
    const r = a.slice(start, start + 8);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j]! += a[start + i + j]!;
    let res = (r[0]! + r[1]! + (r[2]! + r[3]!)) + (r[4]! + r[5]! + (r[6]! + r[7]!));
    for (; i < n; i++) res += a[start + i]!;
    return res;
  }
  const half = Math.floor(n / 2);
  const n2 = half - (half % 8);
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/** `_summarize(ap, iouThr, areaRng, maxDets)`: `np.mean(s[s > -1])`, or -1; optionally for some categories. */
export function summarizeMean(acc: Accumulated, params: EvalParams, sel: Selection): number {
  const values = selectedValues(acc, params, sel);
  return values.length === 0 ? -1 : pairwiseSum(values) / values.length;
}

/** `_summarizeDets()`: AP, AP50, AP75, AP small/medium/large, AR@maxDets[0..2], AR small/medium/large. */
export function summarizeStats(acc: Accumulated, params: EvalParams): number[] {
  const [m0, m1, m2] = params.maxDets as [number, number, number];
  const ap = (area: AreaLabel, maxDets: number, iouThr?: number): number =>
    summarizeMean(acc, params, { ap: true, area, maxDets, iouThr });
  const ar = (area: AreaLabel, maxDets: number): number => summarizeMean(acc, params, { ap: false, area, maxDets });
  return [
    ap('all', 100),
    ap('all', m2, 0.5),
    ap('all', m2, 0.75),
    ap('small', m2),
    ap('medium', m2),
    ap('large', m2),
    ar('all', m0),
    ar('all', m1),
    ar('all', m2),
    ar('small', m2),
    ar('medium', m2),
    ar('large', m2),
  ];
}
