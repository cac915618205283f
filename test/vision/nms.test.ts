/**
 * vision/nms.ts against (1) small cases worked out by hand, (2) a literal brute-force transcription of
 * Ultralytics' non_max_suppression + torchvision's all-pairs CPU loop (no buckets, no early stop) on
 * random synthetic outputs, and (3) results of Ultralytics 8.0.232's code under torch 2.11 /
 * torchvision 0.26 (CPU) on synthetic outputs (postprocess-synthetic.ts), bit for bit.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type Box, boxIou, scaleBoxes, type Shape2D, xywh2xyxy } from '../../vision/boxes.js';
import { type NmsDetection, type NmsOptions, nonMaxSuppression, type PredictionLayout } from '../../vision/nms.js';
import { outputFromAnchors, type SyntheticSpec, syntheticOutput } from './postprocess-synthetic.js';

const f = Math.fround;
const run = (anchors: number[][], options: NmsOptions = {}): NmsDetection[] => {
  const { data, layout } = outputFromAnchors(anchors);
  return nonMaxSuppression(data, layout, options)[0]!;
};
const summary = (dets: readonly NmsDetection[]): [number, number][] => dets.map((d) => [d.score, d.classId]);

describe('nonMaxSuppression: hand-computed cases', () => {
  // [cx, cy, w, h, class 0 score, class 1 score]
  const big = [50, 50, 100, 100];
  const over08 = [50, 40, 100, 80]; // IoU with big: 8000 / 10000
  const over07 = [50, 35, 100, 70]; // IoU 7000 / 10000 = float32(0.7) < 0.7
  const apart = [500, 500, 100, 100];

  it('suppresses a same-class box with IoU > iou and keeps the higher score', () => {
    expect(summary(run([[...big, f(0.8), 0], [...over08, f(0.9), 0]]))).toEqual([[f(0.9), 0]]);
  });

  it('keeps a box whose IoU is exactly float32(0.7) at iou 0.7 (strictly greater suppresses)', () => {
    expect(run([[...big, f(0.9), 0], [...over07, f(0.8), 0]])).toHaveLength(2);
    expect(run([[...big, f(0.9), 0], [...over07, f(0.8), 0]], { iou: 0.69 })).toHaveLength(1);
    // IoU exactly 0.5 at iou 0.5
    expect(run([[...big, f(0.9), 0], [50, 25, 100, 50, f(0.8), 0]], { iou: 0.5 })).toHaveLength(2);
  });

  it('does not suppress across classes unless agnostic', () => {
    const anchors = [[...big, f(0.9), 0], [...over08, 0, f(0.8)]];
    expect(summary(run(anchors))).toEqual([[f(0.9), 0], [f(0.8), 1]]);
    expect(summary(run(anchors, { agnostic: true }))).toEqual([[f(0.9), 0]]);
  });

  it('needs a score strictly above conf, compared in float32 as torch does', () => {
    expect(run([[...big, 0.25, 0]], { conf: 0.25 })).toHaveLength(0);
    expect(run([[...big, 0.25000003, 0]], { conf: 0.25 })).toHaveLength(1); // next float32 above 0.25
    expect(run([[...big, f(0.1), 0]], { conf: 0.1 })).toHaveLength(0); // float32(0.1) > 0.1 in double, not in float32
  });

  it('gives one detection per class above conf with multiLabel, none extra without', () => {
    const anchors = [[...big, f(0.6), f(0.7)]];
    expect(summary(run(anchors, { multiLabel: true }))).toEqual([[f(0.7), 1], [f(0.6), 0]]);
    expect(summary(run(anchors))).toEqual([[f(0.7), 1]]);
    expect(run([[...big, f(0.6)]], { multiLabel: true })).toHaveLength(1); // multi_label &= nc > 1
  });

  it('takes the first class on a tie of the best score', () => {
    expect(summary(run([[...big, f(0.6), f(0.6)]]))).toEqual([[f(0.6), 0]]);
  });

  it('filters classes after choosing the best class', () => {
    const anchors = [[...big, f(0.9), f(0.8)]];
    expect(run(anchors, { classes: [1] })).toHaveLength(0);
    expect(summary(run(anchors, { classes: [1], multiLabel: true }))).toEqual([[f(0.8), 1]]);
  });

  it('keeps at most maxDet, the highest scores', () => {
    const anchors = [0.5, 0.9, 0.7, 0.6, 0.8].map((s, k) => [100 + 200 * k, 100, 50, 50, f(s), 0]);
    expect(run(anchors, { maxDet: 3 }).map((d) => d.score)).toEqual([f(0.9), f(0.8), f(0.7)]);
    expect(run(anchors, { maxDet: 0 })).toEqual([]);
  });

  it('passes only the maxNms highest scores into NMS', () => {
    const anchors = [[...big, f(0.9), 0], [...over08, f(0.8), 0], [...apart, f(0.7), 0]];
    expect(summary(run(anchors, { maxNms: 2 }))).toEqual([[f(0.9), 0]]);
    expect(summary(run(anchors, { maxNms: 3 }))).toEqual([[f(0.9), 0], [f(0.7), 0]]);
  });

  it('breaks score ties by row order: anchor, then class (a stable sort)', () => {
    const tie = f(0.5);
    expect(run([[...apart, tie, 0], [...big, tie, 0]]).map((d) => d.box[0])).toEqual([450, 0]);
    expect(run([[...over08, tie, 0], [...big, tie, 0]]).map((d) => d.box)).toEqual([[0, 0, 100, 80]]);
    expect(summary(run([[...big, tie, tie]], { multiLabel: true }))).toEqual([[tie, 0], [tie, 1]]);
  });

  it('returns float32 corners from xywh', () => {
    const xywh: Box = [f(100.1), f(50.3), f(20.7), f(10.9)];
    expect(run([[...xywh, f(0.9), 0]])[0]!.box).toEqual(xywh2xyxy(xywh));
  });

  it('offsets classes by maxWh in float32, losing precision for large class ids as torch does', () => {
    // y2 = 7.01: IoU 0.701 with [0, 0, 10, 10]; offset by 79 * 7680 the float32 y2 rounds to 7, IoU 0.7
    const row = (cls: number, score: number, box: number[]): number[] => [...box, ...Array.from({ length: 80 }, (_, c) => (c === cls ? f(score) : 0))];
    const pair = (cls: number): number[][] => [row(cls, 0.9, [5, 5, 10, 10]), row(cls, 0.8, [5, 3.505, 10, 7.01])];
    expect(run(pair(0))).toHaveLength(1);
    expect(run(pair(79))).toHaveLength(2);
    expect(run(pair(79), { agnostic: true })).toHaveLength(1);
  });

  it('ignores an anchor with a NaN class score (amax is NaN)', () => {
    expect(run([[...big, f(0.9), Number.NaN]])).toHaveLength(0);
  });

  it('treats each image of a batch on its own', () => {
    const a = outputFromAnchors([[...big, f(0.9), 0], [...apart, 0, f(0.8)]]).data;
    const b = outputFromAnchors([[...apart, f(0.3), 0], [...big, 0, 0]]).data;
    const both = new Float32Array([...a, ...b]);
    const [first, second] = nonMaxSuppression(both, { batch: 2, channels: 6, anchors: 2 });
    expect(summary(first!)).toEqual([[f(0.9), 0], [f(0.8), 1]]);
    expect(summary(second!)).toEqual([[f(0.3), 0]]);
  });

  it('rejects bad layouts and options with typed errors', () => {
    const data = new Float32Array(12);
    const code = expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' });
    expect(() => nonMaxSuppression(data, { batch: 1, channels: 6, anchors: 3 })).toThrow(code);
    expect(() => nonMaxSuppression(data, { batch: 1, channels: 4, anchors: 3 })).toThrow(/at least 1 class/);
    expect(() => nonMaxSuppression(data, { batch: 1, channels: 6, anchors: 2 }, { conf: 1.5 })).toThrow(/conf/);
    expect(() => nonMaxSuppression(data, { batch: 1, channels: 6, anchors: 2 }, { iou: -0.1 })).toThrow(/iou/);
    expect(() => nonMaxSuppression(data, { batch: 1, channels: 6, anchors: 2 }, { maxDet: -1 })).toThrow(/maxDet/);
  });
});

/** Ultralytics' steps and torchvision's loop, written as literally as possible. */
function referenceNms(data: Float32Array, layout: PredictionLayout, o: Required<Omit<NmsOptions, 'classes'>> & { classes?: number[] }): number[][][] {
  const { channels, anchors } = layout;
  const nc = channels - 4;
  const conf = f(o.conf);
  const at = (b: number, c: number, a: number): number => data[(b * channels + c) * anchors + a]!;
  const stableDesc = (rows: number[][]): number[] => rows.map((_, i) => i).sort((i, j) => rows[j]![4]! - rows[i]![4]! || i - j);
  const out: number[][][] = [];
  for (let b = 0; b < layout.batch; b++) {
    let x: number[][] = [];
    for (let a = 0; a < anchors; a++) {
      const cls = Array.from({ length: nc }, (_, c) => at(b, 4 + c, a));
      if (cls.some(Number.isNaN) || !(Math.max(...cls) > conf)) continue;
      const box = xywh2xyxy([at(b, 0, a), at(b, 1, a), at(b, 2, a), at(b, 3, a)]);
      if (o.multiLabel && nc > 1) cls.forEach((s, c) => { if (s > conf) x.push([...box, s, c]); });
      else {
        const j = cls.indexOf(Math.max(...cls));
        if (cls[j]! > conf) x.push([...box, cls[j]!, j]);
      }
    }
    if (o.classes) x = x.filter((r) => o.classes!.includes(r[5]!));
    if (x.length > o.maxNms) x = stableDesc(x).slice(0, o.maxNms).map((i) => x[i]!);
    const boxes = x.map((r) => { const c = f(r[5]! * (o.agnostic ? 0 : o.maxWh)); return r.slice(0, 4).map((v) => f(v + c)) as unknown as Box; });
    const order = stableDesc(x);
    const suppressed = new Set<number>();
    const keep: number[] = [];
    for (let p = 0; p < order.length; p++) {
      const i = order[p]!;
      if (suppressed.has(i)) continue;
      keep.push(i);
      for (const j of order.slice(p + 1)) if (!suppressed.has(j) && boxIou(boxes[i]!, boxes[j]!) > o.iou) suppressed.add(j);
    }
    out.push(keep.slice(0, o.maxDet).map((i) => x[i]!));
  }
  return out;
}

const rows = (dets: readonly NmsDetection[][]): number[][][] => dets.map((d) => d.map((r) => [...r.box, r.score, r.classId]));

describe('nonMaxSuppression: against a brute-force transcription', () => {
  const base = { conf: 0.25, iou: 0.7, agnostic: false, multiLabel: false, maxDet: 300, maxNms: 30000, maxWh: 7680 };
  const configs: (typeof base & { classes?: number[] })[] = [
    base,
    { ...base, conf: 0.001, multiLabel: true },
    { ...base, conf: 0.05, iou: 0.45, agnostic: true },
    { ...base, conf: 0.05, maxWh: 1 }, // classes overlap: the all-pairs fallback
    { ...base, conf: 0.05, maxWh: 300, multiLabel: true }, // class bands partly overlap
    { ...base, conf: 0.01, iou: 0.3, multiLabel: true, maxDet: 9, maxNms: 40 },
    { ...base, conf: 0.1, iou: 0, classes: [0, 3] },
  ];
  for (const seed of [11, 12, 13]) {
    for (const [k, o] of configs.entries()) {
      it(`seed ${seed}, config ${k}`, () => {
        const spec: SyntheticSpec = { seed, batch: 2, nc: 5, anchors: 120, boxQuant: 8, scoreBits: seed === 13 ? 5 : 20 };
        const data = syntheticOutput(spec);
        const layout = { batch: 2, channels: 9, anchors: 120 };
        expect(rows(nonMaxSuppression(data, layout, o))).toEqual(referenceNms(data, layout, o));
      });
    }
  }
});

describe('nonMaxSuppression: the sparse candidate scan (few anchors above conf) equals the dense one', () => {
  for (const seed of [21, 22]) {
    it(`seed ${seed}: few hot anchors, NaNs in some columns`, () => {
      const anchors = 400;
      const layout = { batch: 1, channels: 9, anchors };
      const data = syntheticOutput({ seed, batch: 1, nc: 5, anchors, boxQuant: 8, scoreBits: 20 });
      // Cool every anchor but one in twenty (well under the dense share), then spoil a few columns with NaN.
      for (let a = 0; a < anchors; a++) {
        for (let c = 0; c < 5; c++) {
          const i = (4 + c) * anchors + a;
          if (a % 20 !== 0) data[i] = f(data[i]! * 0.1);
          if (a % 40 === 0 && c === 2) data[i] = Number.NaN;
        }
      }
      const o = { conf: 0.25, iou: 0.7, agnostic: false, multiLabel: false, maxDet: 300, maxNms: 30000, maxWh: 7680 };
      const kept = rows(nonMaxSuppression(data, layout, o));
      expect(kept).toEqual(referenceNms(data, layout, o));
      expect(kept[0]!.length).toBeGreaterThan(0);
      const multi = { ...o, multiLabel: true };
      expect(rows(nonMaxSuppression(data, layout, multi))).toEqual(referenceNms(data, layout, multi));
    });
  }
});

describe('nonMaxSuppression: Ultralytics 8.0.232 under torch 2.11 / torchvision 0.26 (CPU)', () => {
  const configs: Record<string, NmsOptions> = {
    predict: { conf: 0.25, iou: 0.7 },
    val: { conf: 0.001, iou: 0.7, multiLabel: true },
    agn: { conf: 0.1, iou: 0.5, agnostic: true },
    cls: { conf: 0.05, iou: 0.6, classes: [0, 2, 5], multiLabel: true },
    small: { conf: 0.01, iou: 0.45, maxDet: 7, maxNms: 50, multiLabel: true },
    zero: { conf: 0.05, iou: 0.0 },
  };
  const inputs: Record<string, { spec: SyntheticSpec; originals: Shape2D[] }> = {
    s1: { spec: { seed: 1, batch: 2, nc: 6, anchors: 64, boxQuant: 16, scoreBits: 20 }, originals: [[500, 375], [333, 1000]] },
    s2: { spec: { seed: 2, batch: 1, nc: 96, anchors: 400, boxQuant: 64, scoreBits: 24 }, originals: [[640, 640]] },
    s4: { spec: { seed: 4, batch: 1, nc: 80, anchors: 2000, boxQuant: 32, scoreBits: 24 }, originals: [[427, 640]] },
  };
  /** What Ultralytics' predictor computes: NMS rows, then scale_boxes into the original image. */
  const ultralyticsRows = (input: string, config: string): { nms: number[][]; scaled: Box[] }[] => {
    const { spec, originals } = inputs[input]!;
    const dets = nonMaxSuppression(syntheticOutput(spec), { batch: spec.batch, channels: 4 + spec.nc, anchors: spec.anchors }, configs[config]);
    return dets.map((d, b) => ({ nms: rows([d])[0]!, scaled: scaleBoxes(d.map((r) => r.box), [640, 640], originals[b]!) }));
  };

  it('matches row for row (s1 small, s2 small: class ids up to 95, s2 agnostic)', () => {
    expect(ultralyticsRows('s1', 'small').map((r) => r.nms)).toEqual([
      [[337.75, -109.65625, 443.25, 116.90625, 0.9778823852539062, 3], [103.0625, 348.4375, 263.5625, 426.5625, 0.9760313034057617, 5],
        [497.3125, 127.25, 545.9375, 254.375, 0.9754657745361328, 5], [93.5, 338.375, 262.25, 450.5, 0.9604434967041016, 2],
        [348.75, -116.34375, 442.25, 103.96875, 0.9383955001831055, 5], [68.15625, 270.15625, 97.84375, 376.09375, 0.9309720993041992, 4],
        [164.59375, 45.71875, 189.03125, 147.78125, 0.9236831665039062, 5]],
      [[151.78125, 96.65625, 346.09375, 327.21875, 0.9905729293823242, 4], [-66.65625, 363.5, 109.65625, 548.375, 0.983489990234375, 4],
        [167.9375, 68.8125, 368.5625, 265.1875, 0.9715442657470703, 0], [137.78125, 107.65625, 163.71875, 137.34375, 0.9572429656982422, 1],
        [-45.6875, 369.65625, 95.8125, 546.46875, 0.9477739334106445, 3], [132.65625, 110.84375, 157.46875, 133.53125, 0.9464902877807617, 5],
        [439.625, 36.15625, 602.125, 231.84375, 0.9463491439819336, 5]],
    ]);
    expect(ultralyticsRows('s2', 'small')[0]!.nms.map((r) => [r[4], r[5]])).toEqual([
      [0.9999633431434631, 77], [0.9999120235443115, 56], [0.999739944934845, 49], [0.9997192621231079, 75],
      [0.9993993639945984, 55], [0.9993305206298828, 39], [0.9990764260292053, 50],
    ]);
    expect(ultralyticsRows('s2', 'agn')[0]!.nms.map((r) => [r[4], r[5]])).toEqual([
      [0.9999633431434631, 77], [0.999739944934845, 49], [0.9997192621231079, 75], [0.9984645843505859, 45],
      [0.9980649948120117, 54], [0.997065544128418, 1], [0.9920961856842041, 42], [0.9890235066413879, 64],
    ]);
  });

  // sha256 (first 16 hex digits) of JSON.stringify([{ nms, scaled }, ...]) of torch's results
  const digests: [string, string, number[], string][] = [
    ['s1', 'predict', [38, 40], 'd82785d17094725b'], ['s1', 'val', [163, 145], '1a10d9d1103c0a34'],
    ['s1', 'zero', [22, 17], '519b5c271b963163'], ['s2', 'predict', [300], 'da3b6f59286bc6f1'],
    ['s2', 'val', [300], '0cd24c2ec56c2a56'], ['s2', 'zero', [240], '1965b2130a855106'],
    ['s4', 'predict', [300], 'a86c91d686623142'], ['s4', 'val', [300], 'b3bbba0962bab30d'],
    ['s4', 'cls', [62], '9bee04637a146f52'],
  ];
  for (const [input, config, counts, digest] of digests) {
    it(`matches bit for bit: ${input} ${config}`, () => {
      const result = ultralyticsRows(input, config);
      expect(result.map((r) => r.nms.length)).toEqual(counts);
      expect(createHash('sha256').update(JSON.stringify(result)).digest('hex').slice(0, 16)).toBe(digest);
    });
  }
});
