/**
 * NMS candidates selected on the GPU (engine/image-run.ts, native/src/cuda/ops/candidates.cuh) as
 * the host NMS takes them: each record's xywh turned into float32 corners exactly as
 * nms-candidates.ts does (`xywh2xyxy`), in the records' anchor order, which is Ultralytics' row
 * order in best-class mode. With the same candidates, vision/nms.ts then gives the same detections
 * as over the whole output.
 */
import { ErrorCode, fail } from '../common/errors.js';
import type { Candidates } from './nms-candidates.js';

/**
 * Per image `counts[b]` records of CANDIDATE_RECORD_BYTES, image after image, in anchor order:
 * cx, cy, w, h, score (float32), class, anchor (int32), little-endian.
 */
export interface CandidateBatch {
  readonly counts: Int32Array;
  readonly records: Uint8Array;
}

export const CANDIDATE_RECORD_BYTES = 28;

/** The records of image `b` (a view), checked against the bytes there are. */
function candidateRecords(batch: CandidateBatch, b: number): { readonly view: DataView; readonly count: number } {
  if (!(Number.isInteger(b) && b >= 0 && b < batch.counts.length)) fail(ErrorCode.InvalidArgument, `candidate batch has no image ${b}`);
  let start = 0;
  for (let i = 0; i < b; i++) start += batch.counts[i]!;
  const count = batch.counts[b]!;
  const bytes = count * CANDIDATE_RECORD_BYTES;
  if (count < 0 || start * CANDIDATE_RECORD_BYTES + bytes > batch.records.byteLength) fail(ErrorCode.Backend, `candidate records end early: image ${b} needs ${count} records`);
  return { view: new DataView(batch.records.buffer, batch.records.byteOffset + start * CANDIDATE_RECORD_BYTES, bytes), count };
}

const f32 = Math.fround;
const FIELD = 4;
const SCORE = 4 * FIELD;
const CLASS = 5 * FIELD;

/** Image `b`'s candidates from a batch of records. */
export function candidatesOf(batch: CandidateBatch, b: number): Candidates {
  const { view, count } = candidateRecords(batch, b);
  const x1 = new Float32Array(count), y1 = new Float32Array(count), x2 = new Float32Array(count), y2 = new Float32Array(count);
  const score = new Float32Array(count);
  const classId = new Int32Array(count);
  for (let i = 0, at = 0; i < count; i++, at += CANDIDATE_RECORD_BYTES) {
    const cx = view.getFloat32(at, true);
    const cy = view.getFloat32(at + FIELD, true);
    const hw = f32(view.getFloat32(at + 2 * FIELD, true) / 2);
    const hh = f32(view.getFloat32(at + 3 * FIELD, true) / 2);
    x1[i] = cx - hw; // float32 storage rounds as nms-candidates.ts's f32()
    y1[i] = cy - hh;
    x2[i] = cx + hw;
    y2[i] = cy + hh;
    score[i] = view.getFloat32(at + SCORE, true);
    classId[i] = view.getInt32(at + CLASS, true);
  }
  return { count, x1, y1, x2, y2, score, classId };
}
