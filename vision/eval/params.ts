/**
 * Evaluation parameters of pycocotools' `Params.setDetParams()` (cocoeval.py): IoU thresholds
 * .50:.05:.95, 101 recall thresholds, maxDets [1, 10, 100], area ranges all/small/medium/large.
 * The thresholds are built by `linspace`, which reproduces `np.linspace` bit for bit, because
 * `np.searchsorted(rc, recThrs)` compares recall with them exactly (0.35000000000000003 is not 0.35).
 * Tested against the arrays pycocotools itself holds (test/fixtures/cocoeval).
 */
import { ErrorCode, fail } from '../../common/errors.js';

export type AreaLabel = 'all' | 'small' | 'medium' | 'large';

export interface AreaRange {
  readonly label: AreaLabel;
  /** Inclusive bounds on the area: an object is in range when min <= area <= max. */
  readonly min: number;
  readonly max: number;
}

export interface EvalParams {
  readonly iouThrs: readonly number[];
  readonly recThrs: readonly number[];
  /** Ascending; images keep their best `maxDets[last]` detections per category. */
  readonly maxDets: readonly number[];
  readonly areaRanges: readonly AreaRange[];
}

/** [0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2] */
export const AREA_RANGES: readonly AreaRange[] = [
  { label: 'all', min: 0 ** 2, max: 1e5 ** 2 },
  { label: 'small', min: 0 ** 2, max: 32 ** 2 },
  { label: 'medium', min: 32 ** 2, max: 96 ** 2 },
  { label: 'large', min: 96 ** 2, max: 1e5 ** 2 },
];

export const DEFAULT_MAX_DETS: readonly number[] = [1, 10, 100];

/**
 * `np.linspace(start, stop, num)` (endpoint=True): `i * step + start` with `step = (stop - start) /
 * (num - 1)`, and the last value set to `stop` exactly, as numpy computes it.
 */
export function linspace(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  const values = Array.from({ length: num }, (_, i) => i * step + start);
  values[num - 1] = stop;
  return values;
}

/** `np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1)` */
export const IOU_THRESHOLDS: readonly number[] = linspace(0.5, 0.95, Math.round((0.95 - 0.5) / 0.05) + 1);
/** `np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1)` */
export const RECALL_THRESHOLDS: readonly number[] = linspace(0.0, 1.0, Math.round((1.0 - 0.0) / 0.01) + 1);

/**
 * The parameters for one evaluation. maxDets is sorted as `evaluate()` sorts it; summarize() reads
 * maxDets[0..2], so at least three are needed.
 */
export function makeParams(maxDets: readonly number[] = DEFAULT_MAX_DETS): EvalParams {
  if (maxDets.length < 3 || !maxDets.every((m) => Number.isInteger(m) && m > 0)) {
    fail(ErrorCode.InvalidArgument, `maxDets must be at least three positive integers (summarize() reads three), got [${maxDets.join(', ')}]`);
  }
  return {
    iouThrs: IOU_THRESHOLDS,
    recThrs: RECALL_THRESHOLDS,
    maxDets: [...maxDets].sort((a, b) => a - b),
    areaRanges: AREA_RANGES,
  };
}
