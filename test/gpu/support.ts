/**
 * Shared by the GPU tests (run on the GPU machine with `npm run test:gpu`, under Node's test runner:
 * vitest is too large to carry there). Data comes from .gpu/ (scripts/gpu-fixtures.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { type HostTensor, toFloat32 } from '../../common/host-tensor.js';
import { boxIou } from '../../vision/boxes.js';
import { type Detection, postprocess } from '../../vision/postprocess.js';
import { decodeImage } from '../../vision/image.js';
import { letterbox } from '../../vision/letterbox.js';
import { imageToTensor } from '../../vision/tensor.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const GPU_DATA = join(REPO, '.gpu');

export function gpuData(...parts: string[]): string {
  const path = join(GPU_DATA, ...parts);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npx tsx scripts/gpu-fixtures.ts\` and carry .gpu`);
  return path;
}

export interface Reference {
  readonly model: string;
  readonly image: string;
  readonly rows: number;
  readonly anchors: number;
  readonly picked: readonly number[];
  readonly values: readonly (readonly number[])[];
}

export function reference(model: string, image: string): Reference {
  return JSON.parse(readFileSync(gpuData(model, `${image}.ref.json`), 'utf8')) as Reference;
}

export async function letterboxed(image: string): Promise<HostTensor> {
  return imageToTensor(letterbox(await decodeImage(gpuData('images', image)), { shape: 640 }).image);
}

/** Largest |a − b| / max(|b|, 1) over the sampled anchors (relative, absolute near zero). */
export function maxRelativeError(out: Float32Array, ref: Reference): number {
  let worst = 0;
  ref.picked.forEach((k, i) => {
    for (let r = 0; r < ref.rows; r++) {
      const b = ref.values[i]![r]!;
      const e = Math.abs(out[r * ref.anchors + k]! - b) / Math.max(Math.abs(b), 1);
      worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
    }
  });
  return worst;
}

/** Largest |a − b| / max(|b|, 1) over two whole outputs of the same shape. */
export function maxDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), 1));
  return worst;
}

const MIN_IOU = 0.98;
const SCORE_TOLERANCE = 0.01;

function detections(output: HostTensor): Detection[] {
  const out = toFloat32(output);
  return postprocess({ dtype: 'float32', shape: output.shape, data: new Uint8Array(out.buffer, out.byteOffset, out.byteLength) }, { input: [640, 640], original: [640, 640] })[0]!;
}

/**
 * Two lists of one image's detections match: the same classes, and each detection of `expected`
 * matched by one of `got` of its class with IoU >= minIou and a score within scoreTolerance.
 */
export function assertMatchingDetections(got: readonly Detection[], expected: readonly Detection[], label: string, minIou: number, scoreTolerance: number): void {
  assert.deepEqual(got.map((d) => d.classId).sort(), expected.map((d) => d.classId).sort(), `${label} classes`);
  for (const d of expected) {
    const best = got.filter((e) => e.classId === d.classId).sort((x, y) => boxIou(y.box, d.box) - boxIou(x.box, d.box))[0]!;
    assert.ok(boxIou(best.box, d.box) >= minIou, `${label}: IoU ${boxIou(best.box, d.box)}`);
    assert.ok(Math.abs(best.score - d.score) <= scoreTolerance, `${label}: scores ${best.score} vs ${d.score}`);
  }
}

/**
 * Two output0 tensors of a 640×640 image give the same detections: the same classes, each box of
 * `expected` matched by one of `got` with IoU >= 0.98 and a score within 0.01 (how fp16 engines are
 * held to fp32 and to each other). Returns the number of detections.
 */
export function assertSameDetections(got: HostTensor, expected: HostTensor, label: string): number {
  const da = detections(expected);
  assertMatchingDetections(detections(got), da, label, MIN_IOU, SCORE_TOLERANCE);
  return da.length;
}
