/**
 * Deterministic synthetic YOLOv8 outputs [batch, 4 + nc, anchors] for the postprocessing tests:
 * boxes scattered around six clusters per image (so they overlap a lot, some leave the image), one
 * "hot" class per cluster plus random others. Box values are multiples of 1 / boxQuant and scores of
 * 2^-scoreBits, so every value is exact in float32 and the same tensor can be rebuilt anywhere.
 * The expectations in nms.test.ts were produced from these tensors by Ultralytics' code under torch.
 */

/** mulberry32: a small seeded generator of uniform numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticSpec {
  readonly seed: number;
  readonly batch: number;
  readonly nc: number;
  readonly anchors: number;
  /** Box values are multiples of 1 / boxQuant. */
  readonly boxQuant: number;
  /** Scores are multiples of 2^-scoreBits (few bits: many exact ties). */
  readonly scoreBits: number;
}

const CLUSTERS = 6;
const HOT_CHANCE = 0.15;

export function syntheticOutput(spec: SyntheticSpec): Float32Array {
  const { seed, batch, nc, anchors, boxQuant, scoreBits } = spec;
  const r = mulberry32(seed);
  const ch = 4 + nc;
  const out = new Float32Array(batch * ch * anchors);
  const q = (x: number): number => Math.round(x * boxQuant) / boxQuant;
  const s = (x: number): number => Math.floor(x * 2 ** scoreBits) / 2 ** scoreBits;
  for (let b = 0; b < batch; b++) {
    const centers = Array.from({ length: CLUSTERS }, () => [r() * 680 - 20, r() * 680 - 20, 20 + r() * 180, 20 + r() * 180, Math.floor(r() * nc)] as const);
    for (let a = 0; a < anchors; a++) {
      const c = centers[Math.floor(r() * CLUSTERS)]!;
      const base = b * ch * anchors + a;
      out[base] = q(c[0] + (r() - 0.5) * c[2] * 0.3);
      out[base + anchors] = q(c[1] + (r() - 0.5) * c[3] * 0.3);
      out[base + 2 * anchors] = q(c[2] * (0.8 + 0.4 * r()));
      out[base + 3 * anchors] = q(c[3] * (0.8 + 0.4 * r()));
      for (let k = 0; k < nc; k++) {
        const hot = k === c[4] || r() < HOT_CHANCE;
        out[base + (4 + k) * anchors] = s(hot ? r() : r() * 0.02);
      }
    }
  }
  return out;
}

/** Builds a batch-1 output from anchors given as [cx, cy, w, h, ...class scores]. */
export function outputFromAnchors(anchors: readonly (readonly number[])[]): { data: Float32Array; layout: { batch: number; channels: number; anchors: number } } {
  const channels = anchors[0]!.length;
  const n = anchors.length;
  const data = new Float32Array(channels * n);
  anchors.forEach((row, a) => row.forEach((v, c) => { data[c * n + a] = v; }));
  return { data, layout: { batch: 1, channels, anchors: n } };
}
