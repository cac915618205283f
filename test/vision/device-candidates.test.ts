/**
 * The host side of GPU postprocessing (vision/device-candidates.ts, postprocessCandidates): given
 * the candidates the GPU kernel selects (native/src/cuda/ops/candidates.cuh, transcribed here as a
 * reference: best class strictly above float32(conf), class filter, the maxNms highest scores
 * with ties in anchor order, records in anchor order), the detections equal postprocess() over
 * the whole output, to the bit, including cut-offs through equal scores and NaN columns.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../common/errors.js';
import { hostTensor } from '../../common/host-tensor.js';
import { CANDIDATE_RECORD_BYTES, type CandidateBatch, candidatesOf } from '../../vision/device-candidates.js';
import { nmsOnCandidates } from '../../vision/nms.js';
import { type ImageShapes, postprocess, postprocessCandidates, predictDefaults } from '../../vision/postprocess.js';
import { thrownNetdefError as thrown } from '../thrown.js';
import { syntheticOutput } from './postprocess-synthetic.js';

interface Query {
  readonly conf: number;
  readonly maxNms: number;
  readonly classes?: readonly number[];
}

/** What the GPU kernel gives back for output0 [batch, 4 + nc, anchors]. */
function gpuCandidates(out: Float32Array, batch: number, nc: number, anchors: number, q: Query): CandidateBatch {
  const conf = Math.fround(q.conf);
  const counts = new Int32Array(batch);
  const records: number[][] = [];
  for (let b = 0; b < batch; b++) {
    const base = b * (4 + nc) * anchors;
    let kept: { a: number; score: number; cls: number }[] = [];
    for (let a = 0; a < anchors; a++) {
      let m = out[base + 4 * anchors + a]!;
      let best = 0;
      for (let c = 1; c < nc; c++) {
        const v = out[base + (4 + c) * anchors + a]!;
        if (v > m || (Number.isNaN(v) && !Number.isNaN(m))) {
          m = v;
          best = c;
        }
      }
      if (m > conf && (q.classes === undefined || q.classes.includes(best))) kept.push({ a, score: m, cls: best });
    }
    if (kept.length > q.maxNms) {
      kept = [...kept].sort((x, y) => y.score - x.score || x.a - y.a).slice(0, q.maxNms).sort((x, y) => x.a - y.a);
    }
    counts[b] = kept.length;
    for (const k of kept) records.push([base + k.a, k.score, k.cls, k.a]);
  }
  const bytes = new Uint8Array(records.length * CANDIDATE_RECORD_BYTES);
  const view = new DataView(bytes.buffer);
  records.forEach(([at, score, cls, a], i) => {
    const o = i * CANDIDATE_RECORD_BYTES;
    const anchorsOf = anchors;
    for (let f = 0; f < 4; f++) view.setFloat32(o + 4 * f, out[at! + f * anchorsOf]!, true);
    view.setFloat32(o + 16, score!, true);
    view.setInt32(o + 20, cls!, true);
    view.setInt32(o + 24, a!, true);
  });
  return { counts, records: bytes };
}

const SHAPES = (batch: number): ImageShapes[] => Array.from({ length: batch }, (_, b) => ({ input: [640, 640], original: [480 + 10 * b, 640] }));

describe('NMS on candidates selected on the GPU', () => {
  const batch = 3, nc = 80, anchors = 8400;
  const out = syntheticOutput({ seed: 5, batch, nc, anchors, boxQuant: 4, scoreBits: 6 });
  const tensor = hostTensor('float32', [batch, 4 + nc, anchors], new Uint8Array(out.buffer));

  const cases: { name: string; options: Record<string, unknown> }[] = [
    { name: 'predict defaults', options: {} },
    { name: 'low conf', options: { conf: 0.05 } },
    { name: 'maxNms cutting through equal scores', options: { conf: 0.01, maxNms: 97 } },
    { name: 'class filter', options: { conf: 0.05, classes: [0, 3, 17, 500] } },
    { name: 'agnostic, max_det 5', options: { agnostic: true, maxDet: 5 } },
    { name: 'maxNms 0', options: { maxNms: 0 } },
  ];
  for (const c of cases) {
    it(`equals postprocess() over the whole output: ${c.name}`, () => {
      const options = { ...predictDefaults, ...c.options };
      const q = { conf: options.conf!, maxNms: options.maxNms ?? 30000, ...(options.classes ? { classes: options.classes as number[] } : {}) };
      const want = postprocess(tensor, SHAPES(batch), options);
      const got = postprocessCandidates(gpuCandidates(out, batch, nc, anchors, q), nc, SHAPES(batch), options);
      expect(got).toEqual(want);
      if (c.name === 'predict defaults') expect(want.flat().length).toBeGreaterThan(10);
    });
  }

  it('excludes anchors with a NaN class score, as the host does', () => {
    const withNan = out.slice();
    for (let a = 0; a < anchors; a += 97) withNan[(4 + 7) * anchors + a] = Number.NaN;
    const t = hostTensor('float32', [batch, 4 + nc, anchors], new Uint8Array(withNan.buffer));
    const got = postprocessCandidates(gpuCandidates(withNan, batch, nc, anchors, { conf: 0.25, maxNms: 30000 }), nc, SHAPES(batch));
    expect(got).toEqual(postprocess(t, SHAPES(batch)));
  });

  it('turns records into float32 corners as nms-candidates.ts does', () => {
    const bytes = new Uint8Array(CANDIDATE_RECORD_BYTES);
    const v = new DataView(bytes.buffer);
    [100.1, 50.3, 33.3, 0.7].forEach((x, i) => v.setFloat32(4 * i, x, true));
    v.setFloat32(16, 0.5, true);
    v.setInt32(20, 3, true);
    const c = candidatesOf({ counts: Int32Array.of(1), records: bytes }, 0);
    const f = Math.fround;
    const hw = f(f(33.3) / 2), hh = f(f(0.7) / 2);
    expect([c.x1[0], c.y1[0], c.x2[0], c.y2[0]]).toEqual([f(f(100.1) - hw), f(f(50.3) - hh), f(f(100.1) + hw), f(f(50.3) + hh)]);
    expect([c.score[0], c.classId[0], c.count]).toEqual([0.5, 3, 1]);
  });

  it('refuses records that end before the counts say, and multi-label NMS on best-class candidates', () => {
    expect(thrown(() => candidatesOf({ counts: Int32Array.of(2), records: new Uint8Array(CANDIDATE_RECORD_BYTES) }, 0)).code).toBe(ErrorCode.Backend);
    expect(thrown(() => postprocessCandidates({ counts: Int32Array.of(0, 0), records: new Uint8Array(0) }, nc, SHAPES(1))).code).toBe(ErrorCode.InvalidArgument);
    const empty = candidatesOf({ counts: Int32Array.of(0), records: new Uint8Array(0) }, 0);
    expect(thrown(() => nmsOnCandidates(empty, nc, { multiLabel: true })).code).toBe(ErrorCode.InvalidArgument);
    expect(nmsOnCandidates(empty, 1, { multiLabel: true })).toEqual([]);
  });
});
