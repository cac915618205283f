/**
 * Non-maximum suppression exactly as Ultralytics 8.0.232 `non_max_suppression` (ultralytics/utils/ops.py)
 * followed by torchvision's CPU `nms` kernel (torchvision/csrc/ops/cpu/nms_kernel.cpp) computes it,
 * for a raw YOLOv8 detection output [batch, 4 + nc, anchors]:
 *
 * 1. candidates, xywh -> xyxy, best class or multi-label, class filter (see nms-candidates.ts);
 * 2. `if n > max_nms`: keep the max_nms highest scores;
 * 3. batched NMS: boxes offset by `class * max_wh` (0 when agnostic) in float32, sorted by score
 *    descending, greedily kept unless their float32 IoU with an already kept box is > iou (strictly);
 * 4. `i[:max_det]`. Results come in NMS order (score descending).
 *
 * Decisions where the reference is not fully determined:
 * - Ties in score: torch's `sort`/`argsort` (stable=False) leave their order to the implementation
 *   (std::sort or x86-simd-sort). Here equal scores keep Ultralytics' row order (anchor, then class):
 *   a stable sort. Only exact float32 ties can differ from a given torch build.
 * - Ultralytics' wall-clock time limit (it stops processing further images) is not imitated.
 * Exactness of the speed-ups: NMS stops once max_det boxes are kept (later boxes cannot change earlier
 * decisions), and when the offset boxes of different classes cannot overlap in x (always, for sane
 * boxes), each box is only compared with kept boxes of its own class: the IoU of non-overlapping boxes
 * is 0 (or NaN), never > iou, so the kept set is the one torchvision computes over all pairs.
 * Tested by test/vision/nms.test.ts: hand-computed cases, float32 edge cases, a brute-force transcription,
 * and results of Ultralytics' own code under torch 2.11 / torchvision 0.26 (CPU), bit for bit.
 */
import { ErrorCode, fail } from '../common/errors.js';
import { type Box, iouFloat32 } from './boxes.js';
import { type Candidates, collectCandidates } from './nms-candidates.js';

const f32 = Math.fround;

/** Ultralytics' `max_nms`: the most candidates NMS considers, by score. */
export const DEFAULT_MAX_NMS = 30000;

export interface NmsOptions {
  /** Confidence threshold; a score must be strictly greater. Default 0.25 (Ultralytics predict). */
  readonly conf?: number;
  /** IoU threshold; a box is suppressed when its IoU is strictly greater. Default 0.7. */
  readonly iou?: number;
  /** Keep only these class ids (applied after the best class is chosen). */
  readonly classes?: readonly number[];
  /** Suppress across classes. Default false. */
  readonly agnostic?: boolean;
  /** One entry per class above `conf` per anchor (Ultralytics val uses true). Default false. */
  readonly multiLabel?: boolean;
  /** Most detections kept per image. Default 300. */
  readonly maxDet?: number;
  /** Most boxes passed into NMS (highest scores). Default DEFAULT_MAX_NMS (30000). */
  readonly maxNms?: number;
  /** Class offset for batched NMS, in pixels. Default 7680. */
  readonly maxWh?: number;
}

/** The layout of a raw output: [batch, channels = 4 + nc, anchors], channel-major per image. */
export interface PredictionLayout {
  readonly batch: number;
  readonly channels: number;
  readonly anchors: number;
}

/** One kept box in the input image's pixels (before scaling back to the original image). */
export interface NmsDetection {
  /** [x1, y1, x2, y2], float32 values. */
  readonly box: Box;
  readonly score: number;
  readonly classId: number;
}

interface ResolvedOptions {
  readonly conf: number;
  readonly iou: number;
  readonly classes: ReadonlySet<number> | undefined;
  readonly agnostic: boolean;
  readonly multiLabel: boolean;
  readonly maxDet: number;
  readonly maxNms: number;
  readonly maxWh: number;
}

/** Ultralytics' `non_max_suppression` for every image of a raw output; one array per image. */
export function nonMaxSuppression(output0: Float32Array, layout: PredictionLayout, options: NmsOptions = {}): NmsDetection[][] {
  checkLayout(output0, layout);
  const nc = layout.channels - 4;
  const opts = resolveOptions(options, nc);
  const perImage = layout.channels * layout.anchors;
  const results: NmsDetection[][] = [];
  for (let b = 0; b < layout.batch; b++) {
    const candidates = collectCandidates({
      data: output0, offset: b * perImage, nc, anchors: layout.anchors,
      conf: f32(opts.conf), multiLabel: opts.multiLabel, classes: opts.classes,
    });
    results.push(suppress(candidates, opts));
  }
  return results;
}

/**
 * Steps 2 to 4 (max_nms, NMS, max_det) for one image whose candidates were collected elsewhere (on
 * the GPU: engine/image-run.ts), in Ultralytics' row order, already past the confidence and class
 * filters. Best class only: `multiLabel` with more than one class is refused (its candidates are
 * collected on the host).
 */
export function nmsOnCandidates(candidates: Candidates, nc: number, options: NmsOptions = {}): NmsDetection[] {
  const opts = resolveOptions(options, nc);
  if (opts.multiLabel) fail(ErrorCode.InvalidArgument, 'multiLabel NMS collects its candidates on the host; these are best-class candidates');
  return suppress(candidates, opts);
}

/** Steps 2 to 4 for one image. */
function suppress(c: Candidates, opts: ResolvedOptions): NmsDetection[] {
  if (c.count === 0 || opts.maxDet === 0) return [];
  const order = sortByScore(c);
  const n = Math.min(order.length, opts.maxNms);
  const offset = offsetBoxes(c, order, n, opts);
  const kept = greedy(offset, n, opts);
  return kept.map((p) => {
    const i = order[p]!;
    return { box: [c.x1[i]!, c.y1[i]!, c.x2[i]!, c.y2[i]!], score: c.score[i]!, classId: c.classId[i]! };
  });
}

/** Indices below this fit beside a float32's 31 value bits in one exactly represented double. */
const INDEX_LIMIT = 2 ** 21;
const INFINITY_BITS = 0x7f800000;

/**
 * Candidate indices by score descending; equal scores keep their row order (stable). Scores are
 * positive (they passed `> conf >= 0`), so their float32 bit patterns order like the values: each
 * entry becomes the double (INFINITY_BITS - bits) * 2^21 + index, and one native numeric sort of
 * those orders by score descending, then index ascending.
 */
export function sortByScore(c: Candidates): Uint32Array {
  const n = c.count;
  const order = new Uint32Array(n);
  if (n >= INDEX_LIMIT) {
    for (let i = 0; i < n; i++) order[i] = i;
    const s = c.score;
    return order.sort((a, b) => s[b]! - s[a]! || a - b);
  }
  const bits = new Uint32Array(c.score.buffer, c.score.byteOffset, n);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = (INFINITY_BITS - bits[i]!) * INDEX_LIMIT + i;
  keys.sort();
  for (let i = 0; i < n; i++) order[i] = keys[i]! % INDEX_LIMIT;
  return order;
}

/** The first n sorted entries' boxes offset by `class * max_wh` in float32, with float32 areas. */
interface OffsetBoxes {
  readonly x1: Float32Array;
  readonly y1: Float32Array;
  readonly x2: Float32Array;
  readonly y2: Float32Array;
  readonly area: Float32Array;
  /** The class of each entry, or -1 for all when classes may interact (agnostic, odd boxes). */
  readonly bucket: Int32Array;
}

function offsetBoxes(c: Candidates, order: Uint32Array, n: number, opts: ResolvedOptions): OffsetBoxes {
  const x1 = new Float32Array(n), y1 = new Float32Array(n), x2 = new Float32Array(n), y2 = new Float32Array(n);
  const area = new Float32Array(n);
  const bucket = new Int32Array(n);
  const scale = opts.agnostic ? 0 : opts.maxWh;
  for (let p = 0; p < n; p++) {
    const i = order[p]!;
    const off = f32(c.classId[i]! * scale);
    x1[p] = c.x1[i]! + off; // float32 storage rounds like torch's float32 add
    y1[p] = c.y1[i]! + off;
    x2[p] = c.x2[i]! + off;
    y2[p] = c.y2[i]! + off;
    area[p] = f32(x2[p]! - x1[p]!) * f32(y2[p]! - y1[p]!);
    bucket[p] = c.classId[i]!;
  }
  if (opts.agnostic || !classesSeparated(x1, x2, bucket)) bucket.fill(-1);
  return { x1, y1, x2, y2, area, bucket };
}

/**
 * True when no two boxes of different classes can have a positive x overlap: per class, the x range
 * covered by boxes with x1 < x2 (others never intersect anything) must not overlap another class's.
 */
function classesSeparated(x1: Float32Array, x2: Float32Array, classId: Int32Array): boolean {
  const ranges = new Map<number, [number, number]>();
  for (let p = 0; p < x1.length; p++) {
    const lo = x1[p]!, hi = x2[p]!;
    if (Number.isNaN(lo) || Number.isNaN(hi)) return false;
    if (!(lo < hi)) continue;
    const r = ranges.get(classId[p]!);
    if (r === undefined) ranges.set(classId[p]!, [lo, hi]);
    else { r[0] = Math.min(r[0], lo); r[1] = Math.max(r[1], hi); }
  }
  const sorted = [...ranges.values()].sort((a, b) => a[0] - b[0]);
  for (let k = 1; k < sorted.length; k++) if (sorted[k]![0] < sorted[k - 1]![1]) return false;
  return true;
}

/** Greedy NMS over sorted positions 0..n-1; returns kept positions in order, at most maxDet. */
function greedy(b: OffsetBoxes, n: number, opts: ResolvedOptions): number[] {
  const kept: number[] = [];
  const keptByBucket = new Map<number, number[]>();
  for (let p = 0; p < n && kept.length < opts.maxDet; p++) {
    let list = keptByBucket.get(b.bucket[p]!);
    if (list === undefined) {
      list = [];
      keptByBucket.set(b.bucket[p]!, list);
    }
    if (!suppressedBy(b, list, p, opts.iou)) {
      list.push(p);
      kept.push(p);
    }
  }
  return kept;
}

/** Whether any kept box (the first IoU argument, as in torchvision) overlaps box p by more than iou. */
function suppressedBy(b: OffsetBoxes, list: readonly number[], p: number, iou: number): boolean {
  const px1 = b.x1[p]!, py1 = b.y1[p]!, px2 = b.x2[p]!, py2 = b.y2[p]!, pa = b.area[p]!;
  for (const k of list) {
    const ovr = iouFloat32(b.x1[k]!, b.y1[k]!, b.x2[k]!, b.y2[k]!, b.area[k]!, px1, py1, px2, py2, pa);
    if (ovr > iou) return true; // float32 IoU against the double threshold, as in C++
  }
  return false;
}

function checkLayout(output0: Float32Array, layout: PredictionLayout): void {
  const { batch, channels, anchors } = layout;
  for (const [name, v] of Object.entries(layout)) {
    if (!Number.isInteger(v) || v < 0) fail(ErrorCode.InvalidArgument, `NMS layout ${name} must be a non-negative integer, got ${String(v)}`);
  }
  if (channels < 5) fail(ErrorCode.InvalidArgument, `NMS expects 4 box channels and at least 1 class, got ${channels} channels`);
  if (output0.length !== batch * channels * anchors) {
    fail(ErrorCode.InvalidArgument, `NMS input has ${output0.length} values, layout [${batch}, ${channels}, ${anchors}] needs ${batch * channels * anchors}`);
  }
}

function resolveOptions(o: NmsOptions, nc: number): ResolvedOptions {
  const conf = o.conf ?? 0.25;
  const iou = o.iou ?? 0.7;
  if (!(conf >= 0 && conf <= 1)) fail(ErrorCode.InvalidArgument, `conf must be in [0, 1], got ${conf}`);
  if (!(iou >= 0 && iou <= 1)) fail(ErrorCode.InvalidArgument, `iou must be in [0, 1], got ${iou}`);
  const resolved = {
    conf, iou,
    classes: o.classes === undefined ? undefined : new Set(o.classes),
    agnostic: o.agnostic ?? false,
    multiLabel: (o.multiLabel ?? false) && nc > 1, // `multi_label &= nc > 1`
    maxDet: o.maxDet ?? 300,
    maxNms: o.maxNms ?? DEFAULT_MAX_NMS,
    maxWh: o.maxWh ?? 7680,
  };
  for (const key of ['maxDet', 'maxNms'] as const) {
    if (!Number.isInteger(resolved[key]) || resolved[key] < 0) fail(ErrorCode.InvalidArgument, `${key} must be a non-negative integer, got ${resolved[key]}`);
  }
  if (!Number.isFinite(resolved.maxWh)) fail(ErrorCode.InvalidArgument, `maxWh must be finite, got ${resolved.maxWh}`);
  return resolved;
}
