/**
 * The range methods on histograms whose answer is known, the collector's two passes, and the
 * calibration file: round trip, TensorRT cache text, and every way a file can be bad.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Calibration, parseCalibration, readCalibration, trtCalibrationCache, writeCalibration } from '../../engine/calibrate/calibration-file.js';
import { RangeCollector } from '../../engine/calibrate/collector.js';
import { entropyAmax, HISTOGRAM_BINS, parseCalibrationMethod, percentileAmax } from '../../engine/calibrate/methods.js';
import { thrownNetdefError } from '../thrown.js';

function histogram(f: (bin: number) => number, binWidth = 0.01): { counts: Float64Array; binWidth: number } {
  return { counts: Float64Array.from({ length: HISTOGRAM_BINS }, (_, i) => f(i)), binWidth };
}

describe('range methods', () => {
  it('percentile: the upper edge of the bin where the cumulative count reaches p %', () => {
    const h = histogram(() => 1); // uniform: p % of the bins
    expect(percentileAmax(h, 50)).toBeCloseTo(1024 * 0.01, 9);
    expect(percentileAmax(h, 100)).toBeCloseTo(HISTOGRAM_BINS * 0.01, 9);
    expect(percentileAmax(histogram(() => 0), 99.99)).toBe(0);
  });

  it('entropy keeps a uniform range whole and clips a long sparse tail', () => {
    expect(entropyAmax(histogram(() => 100))).toBeCloseTo(HISTOGRAM_BINS * 0.01, 9);
    // A Laplace-like bulk in the first 200 bins and a thin tail of outliers out to the last bin.
    const tailed = histogram((i) => (i < 200 ? Math.round(1e6 * Math.exp(-i / 40)) : i % 97 === 0 ? 1 : 0));
    const amax = entropyAmax(tailed);
    expect(amax).toBeLessThan(HISTOGRAM_BINS * 0.01 / 2);
    expect(amax).toBeGreaterThan(1.28 * 0.99); // never below the 128 bins it starts from
  });

  it('parses method names and refuses others, naming them', () => {
    expect(parseCalibrationMethod('entropy')).toEqual({ name: 'entropy' });
    expect(parseCalibrationMethod('percentile')).toEqual({ name: 'percentile', percentile: 99.99 });
    expect(parseCalibrationMethod('percentile=99.9')).toEqual({ name: 'percentile', percentile: 99.9 });
    for (const bad of ['kl', 'percentile=0', 'percentile=101', 'minmax=3', 'entropy=x']) {
      expect(thrownNetdefError(() => parseCalibrationMethod(bad))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining(bad) });
    }
  });

  it('collects max |x| first, then histograms over that range', () => {
    const c = new RangeCollector();
    c.observeMax('t', Float32Array.of(0.5, -2, 1));
    c.observeMax('t', Float32Array.of(1.5));
    expect(c.ranges({ name: 'minmax' }).get('t')).toBe(2);
    const values = Float32Array.from({ length: 10000 }, (_, i) => (i === 0 ? -2 : (i % 100) / 100));
    c.observeHistogram('t', values);
    const p = c.ranges({ name: 'percentile', percentile: 99.9 }).get('t')!;
    expect(p).toBeGreaterThan(0.98);
    expect(p).toBeLessThan(1.01);
  });
});

const DIGEST = 'a'.repeat(64);
const sample: Calibration = {
  source: 'test', method: { name: 'entropy' }, images: 3, imgsz: [640, 640], model: 'yolov8n', graphDigest: DIGEST, weightsDigest: 'b'.repeat(64),
  amax: new Map([['images', 1], ['/model.0/act/Silu_output_0', 6.5]]),
};

describe('calibration file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netdef-calib-'));

  it('round-trips through the file, written atomically', async () => {
    const path = join(dir, 'ok.json');
    await writeCalibration(path, sample);
    const back = await readCalibration(path);
    expect(back).toMatchObject({ source: path, method: { name: 'entropy' }, images: 3, imgsz: [640, 640], model: 'yolov8n', graphDigest: DIGEST });
    expect([...back.amax]).toEqual([...sample.amax]);
  });

  it('writes TensorRT\'s cache text: header, then each scale as float32 bits in hex', () => {
    const text = trtCalibrationCache(sample, 100300);
    const [header, first, second] = text.trim().split('\n');
    expect(header).toBe('TRT-100300-EntropyCalibration2');
    const bits = (x: number): string => { const v = new DataView(new ArrayBuffer(4)); v.setFloat32(0, x); return v.getUint32(0).toString(16).padStart(8, '0'); };
    expect(first).toBe(`images: ${bits(Math.fround(1 / 127))}`);
    expect(second).toBe(`/model.0/act/Silu_output_0: ${bits(Math.fround(6.5 / 127))}`);
  });

  it.each([
    ['truncated', (t: string) => t.slice(0, t.length / 2), 'truncated or not JSON'],
    ['from another format', (t: string) => t.replace('netdef-calibration', 'other'), '"format"'],
    ['of another version', (t: string) => t.replace('"version": 1', '"version": 7'), '"version" 7 is not supported'],
    ['without tensors', (t: string) => t.replace('"tensors"', '"tensorz"'), '"tensors" is missing'],
    ['with a negative range', (t: string) => t.replace('6.5', '-6.5'), "tensor '/model.0/act/Silu_output_0' has range -6.5"],
    ['with a bad digest', (t: string) => t.replace(DIGEST, 'xyz'), '"graph" must be a sha256'],
    ['with an unknown method', (t: string) => t.replace('"entropy"', '"kl"'), "'kl' is not entropy"],
  ])('refuses a file %s, naming it and the field', async (_, edit, message) => {
    const good = join(dir, 'good.json');
    await writeCalibration(good, sample);
    const text = (await import('node:fs')).readFileSync(good, 'utf8');
    const path = join(dir, 'bad.json');
    writeFileSync(path, edit(text));
    await expect(readCalibration(path)).rejects.toMatchObject({ code: 'ERR_CALIBRATION', message: expect.stringContaining(path) });
    await expect(readCalibration(path)).rejects.toMatchObject({ message: expect.stringContaining(message) });
  });

  it('keeps tensor names such as __proto__ as plain keys', () => {
    const text = `{"format":"netdef-calibration","version":1,"model":"m","graph":"${DIGEST}","weights":"${DIGEST}","imgsz":[64,64],"method":"minmax","images":1,`
      + '"tensors":{"constructor":1,"__proto__":2}}';
    const c = parseCalibration(text, 'x.json');
    expect(c.amax.get('constructor')).toBe(1);
    expect(c.amax.get('__proto__')).toBe(2);
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });
});
