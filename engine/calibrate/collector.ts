/**
 * What calibration keeps of each tensor over the images: the largest |x| (first pass), then, for
 * the histogram methods, an |x| histogram of HISTOGRAM_BINS bins over [0, that max] (second pass,
 * so the bins cover every value and never need re-binning).
 */
import { type CalibrationMethod, DEFAULT_PERCENTILE, entropyAmax, type Histogram, HISTOGRAM_BINS, percentileAmax } from './methods.js';

export class RangeCollector {
  readonly #amax = new Map<string, number>();
  readonly #histograms = new Map<string, Histogram>();

  /** First pass: widens each tensor's max |x|. */
  observeMax(tensor: string, values: Float32Array): void {
    let m = this.#amax.get(tensor) ?? 0;
    for (let i = 0; i < values.length; i++) {
      const a = Math.abs(values[i]!);
      if (a > m) m = a;
    }
    this.#amax.set(tensor, m);
  }

  /** Second pass: counts |x| into the tensor's histogram (its range from the first pass). */
  observeHistogram(tensor: string, values: Float32Array): void {
    let h = this.#histograms.get(tensor);
    if (!h) {
      const amax = this.#amax.get(tensor) ?? 0;
      h = { counts: new Float64Array(HISTOGRAM_BINS), binWidth: amax > 0 ? amax / HISTOGRAM_BINS : 1 };
      this.#histograms.set(tensor, h);
    }
    const last = HISTOGRAM_BINS - 1;
    const inv = 1 / h.binWidth;
    for (let i = 0; i < values.length; i++) {
      const bin = Math.min(last, Math.floor(Math.abs(values[i]!) * inv));
      h.counts[bin]! += 1;
    }
  }

  /** Whether the method needs the histogram pass. */
  static needsHistograms(method: CalibrationMethod): boolean {
    return method.name !== 'minmax';
  }

  /** Each tensor's range under the method. */
  ranges(method: CalibrationMethod): Map<string, number> {
    const out = new Map<string, number>();
    for (const [tensor, max] of this.#amax) {
      const h = this.#histograms.get(tensor);
      if (method.name === 'minmax' || !h || max === 0) out.set(tensor, max);
      else if (method.name === 'percentile') out.set(tensor, Math.min(max, percentileAmax(h, method.percentile ?? DEFAULT_PERCENTILE)));
      else out.set(tensor, Math.min(max, entropyAmax(h)));
    }
    return out;
  }
}
