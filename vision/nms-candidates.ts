/**
 * The candidate stage of Ultralytics 8.0.232 `non_max_suppression` (ultralytics/utils/ops.py) for one
 * image of a raw YOLOv8 output laid out [4 + nc, anchors] (channel-major, as the Detect head emits it):
 *
 *   xc = prediction[:, 4:mi].amax(1) > conf_thres           -> anchorMaxima + candidate anchors
 *   box = xywh2xyxy(box)                                     -> float32 corners per candidate anchor
 *   multi_label: i, j = torch.where(cls > conf_thres)         -> one entry per (anchor, class), row-major
 *   else:        conf, j = cls.max(1); keep conf > conf_thres -> one entry per anchor, first max on ties
 *   x = x[(x[:, 5:6] == classes).any(1)]                      -> class filter, after the choice above
 *
 * Entries are produced in Ultralytics' row order (anchor, then class), which is the tie order the
 * NMS sort keeps. Scores are compared with the threshold rounded to float32, because torch casts a
 * Python scalar to the tensor's dtype before comparing. Reads are tight loops over the typed array,
 * class row by class row (contiguous): first a scan for scores above the threshold, which at
 * predict's 0.25 leaves a few hundred anchors of 8,400; only those get their column's maximum (and
 * a NaN anywhere in a column excludes its anchor, as torch's amax propagates NaN). When many anchors
 * pass (val's 0.001), the maxima of all anchors are computed row by row instead.
 * Tested through test/vision/nms.test.ts.
 */

const f32 = Math.fround;

/** Candidate entries of one image: corners (float32, xyxy), score and class per entry. */
export interface Candidates {
  readonly count: number;
  readonly x1: Float32Array;
  readonly y1: Float32Array;
  readonly x2: Float32Array;
  readonly y2: Float32Array;
  readonly score: Float32Array;
  readonly classId: Int32Array;
}

export interface CandidateQuery {
  /** The whole output; the image starts at `offset` and spans (4 + nc) * anchors values. */
  readonly data: Float32Array;
  readonly offset: number;
  readonly nc: number;
  readonly anchors: number;
  /** The confidence threshold already rounded to float32. */
  readonly conf: number;
  readonly multiLabel: boolean;
  /** Allowed class ids, or undefined for all. */
  readonly classes: ReadonlySet<number> | undefined;
}

/** Per anchor, the largest class score (NaN if any class score is NaN, as `amax`) and its first index. */
export function anchorMaxima(q: CandidateQuery): { max: Float32Array; argmax: Int32Array } {
  const { data, offset, nc, anchors } = q;
  const classRow = (c: number): Float32Array => data.subarray(offset + (4 + c) * anchors, offset + (5 + c) * anchors);
  const max = classRow(0).slice();
  const argmax = new Int32Array(anchors);
  for (let c = 1; c < nc; c++) {
    const row = classRow(c);
    for (let a = 0; a < anchors; a++) {
      const v = row[a]!;
      const m = max[a]!;
      if (v > m || (v !== v && m === m)) { // strictly greater keeps the first index; NaN sticks
        max[a] = v;
        argmax[a] = c;
      }
    }
  }
  return { max, argmax };
}

/** The entries of one image that survive the confidence and class filters, in Ultralytics' row order. */
/** Above this share of anchors passing the threshold scan, the row-by-row maxima are cheaper. */
const DENSE_SHARE = 0.125;

/** Anchors with some class score above the threshold, in order; undefined when too many for the sparse path. */
function anchorsAboveThreshold(q: CandidateQuery): Int32Array | undefined {
  const { data, offset, nc, anchors, conf } = q;
  const hit = new Uint8Array(anchors);
  let count = 0;
  for (let c = 0; c < nc; c++) {
    const base = offset + (4 + c) * anchors;
    for (let a = 0; a < anchors; a++) {
      if (data[base + a]! > conf && hit[a] === 0) {
        hit[a] = 1;
        count++;
      }
    }
    if (count > anchors * DENSE_SHARE) return undefined;
  }
  const out = new Int32Array(count);
  for (let a = 0, k = 0; a < anchors; a++) if (hit[a] === 1) out[k++] = a;
  return out;
}

/** The candidate anchors (class maximum above the threshold) with their maximum and its first class. */
function candidateAnchors(q: CandidateQuery): { anchors: Int32Array; max: Float32Array; argmax: Int32Array } {
  const sparse = anchorsAboveThreshold(q);
  if (!sparse) {
    const { max, argmax } = anchorMaxima(q);
    const kept: number[] = [];
    for (let a = 0; a < q.anchors; a++) if (max[a]! > q.conf) kept.push(a);
    const anchors = Int32Array.from(kept);
    return { anchors, max: Float32Array.from(kept, (a) => max[a]!), argmax: Int32Array.from(kept, (a) => argmax[a]!) };
  }
  const { data, offset, nc, anchors } = q;
  const kept: number[] = [];
  const maxes: number[] = [];
  const classes: number[] = [];
  for (const a of sparse) {
    let m = data[offset + 4 * anchors + a]!;
    let best = 0;
    for (let c = 1; c < nc; c++) {
      const v = data[offset + (4 + c) * anchors + a]!;
      if (v > m || (v !== v && m === m)) {
        m = v;
        best = c;
      }
    }
    if (m > q.conf) {
      kept.push(a);
      maxes.push(m);
      classes.push(best);
    }
  }
  return { anchors: Int32Array.from(kept), max: Float32Array.from(maxes), argmax: Int32Array.from(classes) };
}

export function collectCandidates(q: CandidateQuery): Candidates {
  const { anchors: anchorsKept, max, argmax } = candidateAnchors(q);
  const out = new CandidateBuffer(q.multiLabel ? anchorsKept.length * 2 : anchorsKept.length);
  for (let k = 0; k < anchorsKept.length; k++) {
    const a = anchorsKept[k]!;
    const box = anchorBox(q, a);
    if (q.multiLabel) {
      for (let c = 0; c < q.nc; c++) {
        const v = q.data[q.offset + (4 + c) * q.anchors + a]!;
        if (v > q.conf && allowed(q.classes, c)) out.push(box, v, c);
      }
    } else {
      const c = argmax[k]!;
      if (allowed(q.classes, c)) out.push(box, max[k]!, c);
    }
  }
  return out.finish();
}

function allowed(classes: ReadonlySet<number> | undefined, c: number): boolean {
  return classes === undefined || classes.has(c);
}

/** `xywh2xyxy` on one anchor's box, in float32. */
function anchorBox(q: CandidateQuery, a: number): [number, number, number, number] {
  const { data, offset, anchors } = q;
  const cx = data[offset + a]!;
  const cy = data[offset + anchors + a]!;
  const hw = f32(data[offset + 2 * anchors + a]! / 2);
  const hh = f32(data[offset + 3 * anchors + a]! / 2);
  return [f32(cx - hw), f32(cy - hh), f32(cx + hw), f32(cy + hh)];
}

/** Struct-of-arrays storage that doubles when full. */
class CandidateBuffer {
  private n = 0;
  private x1: Float32Array;
  private y1: Float32Array;
  private x2: Float32Array;
  private y2: Float32Array;
  private score: Float32Array;
  private classId: Int32Array;

  constructor(capacity: number) {
    const cap = Math.max(16, capacity);
    this.x1 = new Float32Array(cap);
    this.y1 = new Float32Array(cap);
    this.x2 = new Float32Array(cap);
    this.y2 = new Float32Array(cap);
    this.score = new Float32Array(cap);
    this.classId = new Int32Array(cap);
  }

  push(box: readonly [number, number, number, number], score: number, classId: number): void {
    if (this.n === this.score.length) this.grow();
    const i = this.n++;
    this.x1[i] = box[0];
    this.y1[i] = box[1];
    this.x2[i] = box[2];
    this.y2[i] = box[3];
    this.score[i] = score;
    this.classId[i] = classId;
  }

  finish(): Candidates {
    const n = this.n;
    return {
      count: n,
      x1: this.x1.subarray(0, n), y1: this.y1.subarray(0, n), x2: this.x2.subarray(0, n), y2: this.y2.subarray(0, n),
      score: this.score.subarray(0, n), classId: this.classId.subarray(0, n),
    };
  }

  private grow(): void {
    const cap = this.score.length * 2;
    this.x1 = resized(this.x1, new Float32Array(cap));
    this.y1 = resized(this.y1, new Float32Array(cap));
    this.x2 = resized(this.x2, new Float32Array(cap));
    this.y2 = resized(this.y2, new Float32Array(cap));
    this.score = resized(this.score, new Float32Array(cap));
    this.classId = resized(this.classId, new Int32Array(cap));
  }
}

function resized<T extends Float32Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
