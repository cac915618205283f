/** Latency statistics over timed iterations, percentiles as numpy's default (linear interpolation). */
export interface LatencyStats {
  readonly min: number;
  readonly mean: number;
  readonly median: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

const MEDIAN = 50;
const P90 = 90;
const P99 = 99;

/** `np.percentile(sorted, q)` on ascending values. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const at = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (at - lo) * (sorted[hi]! - sorted[lo]!);
}

export function latencyStats(times: readonly number[]): LatencyStats {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    min: sorted[0] ?? NaN, mean: sorted.reduce((a, b) => a + b, 0) / Math.max(sorted.length, 1), median: percentile(sorted, MEDIAN),
    p90: percentile(sorted, P90), p99: percentile(sorted, P99), max: sorted[sorted.length - 1] ?? NaN,
  };
}
