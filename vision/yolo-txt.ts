/**
 * Detections as YOLO-format label lines, as Ultralytics' predict writes them with `save_txt`:
 * `class x_center y_center width height [score]`, the box normalised by the original image's
 * width and height, each number printed as Python's `'%g'` prints it (6 significant digits,
 * trailing zeros dropped, exponent form below 1e-4).
 */
import type { Detection } from './postprocess.js';

const SIGNIFICANT = 6;
/** Python's %g switches to exponent form below 10^-4 and from 10^precision. */
const MIN_FIXED_EXPONENT = -4;

/** A number as Python's `'%g' % x`. */
export function formatG(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mantissa, exp] = x.toExponential(SIGNIFICANT - 1).split('e') as [string, string];
  const exponent = Number(exp);
  const strip = (s: string): string => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exponent < MIN_FIXED_EXPONENT || exponent >= SIGNIFICANT) {
    const sign = exponent < 0 ? '-' : '+';
    return `${strip(mantissa)}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return strip(x.toFixed(Math.max(0, SIGNIFICANT - 1 - exponent)));
}

/** One line per detection; `withScore` appends the score (Ultralytics' save_conf). */
export function yoloLabelLines(detections: readonly Detection[], width: number, height: number, withScore: boolean): string[] {
  return detections.map((d) => {
    const [x1, y1, x2, y2] = d.box;
    const values = [(x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height, ...(withScore ? [d.score] : [])];
    return [String(d.classId), ...values.map(formatG)].join(' ');
  });
}
