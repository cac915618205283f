/**
 * The DSL's yolov8n, filled from the official yolov8n.pt through safetensors, against the official
 * Ultralytics ONNX export run by ONNX Runtime on the same input tensors. Acceptance: box rows
 * (0-3, input pixels) within 1e-3, score rows within 1e-5.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HostTensor, toFloat32 } from '../../common/host-tensor.js';
import type { EngineRunner } from '../../engine/backend.js';
import { onnxruntimeBackend } from '../../engine/backends/onnxruntime.js';
import { prepareModel } from '../../engine/prepare.js';
import { convertPtToSafetensors } from '../../weights/convert.js';
import { dataPath } from '../data.js';
import { letterbox, randomImage, stack } from '../images.js';

const BOX_ROWS = 4;
const BOX_TOLERANCE = 1e-3;
const SCORE_TOLERANCE = 1e-5;

/** Largest |a - b| over box rows and over score rows of output0 [B, 4 + nc, anchors], per image. */
export function rowDiffs(a: Float32Array, b: Float32Array, rows: number, anchors: number): { box: number; score: number } {
  let box = 0;
  let score = 0;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < anchors; k++) {
      const d = Math.abs(a[r * anchors + k]! - b[r * anchors + k]!);
      if (Number.isNaN(d)) return { box: Infinity, score: Infinity };
      if (r < BOX_ROWS) box = Math.max(box, d);
      else score = Math.max(score, d);
    }
  }
  return { box, score };
}

describe('yolov8n from yolov8n.pt (through safetensors) vs the official ONNX export', () => {
  let official: ort.InferenceSession;
  let ours: EngineRunner;
  let dir: string;
  const inputs: { name: string; tensor: HostTensor }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netdef-parity-'));
    const st = join(dir, 'yolov8n.safetensors');
    await convertPtToSafetensors(dataPath('weights', 'yolov8n.pt'), st);
    const prepared = await prepareModel({ weights: st });
    ours = await onnxruntimeBackend.build(prepared.graph, prepared.params);
    official = await ort.InferenceSession.create(dataPath('onnx', 'yolov8n.onnx'));
    inputs.push({ name: 'random seed 1', tensor: randomImage(1) }, { name: 'random seed 2', tensor: randomImage(2) });
    for (const image of ['bus.jpg', 'zidane.jpg']) inputs.push({ name: image, tensor: (await letterbox(dataPath('images', image))).tensor });
  });

  afterAll(async () => {
    await ours?.dispose();
    await official?.release();
    rmSync(dir, { recursive: true, force: true });
  });

  async function runOfficial(t: HostTensor): Promise<Float32Array> {
    const out = await official.run({ images: new ort.Tensor('float32', toFloat32(t), [...t.shape]) });
    return out.output0!.data as Float32Array;
  }

  it('matches on random and letterboxed real images, run as one batch of 4', async () => {
    const out = (await ours.run({ images: stack(inputs.map((i) => i.tensor)) })).output0!;
    const [batch, rows, anchors] = out.shape as [number, number, number];
    expect([batch, rows, anchors]).toEqual([inputs.length, 84, 8400]);
    const all = toFloat32(out);
    for (let i = 0; i < inputs.length; i++) {
      const reference = await runOfficial(inputs[i]!.tensor);
      const mine = all.subarray(i * rows * anchors, (i + 1) * rows * anchors);
      const d = rowDiffs(mine, reference, rows, anchors);
      console.log(`${inputs[i]!.name}: max |box diff| ${d.box.toExponential(2)} px, max |score diff| ${d.score.toExponential(2)}`);
      expect(d.box, inputs[i]!.name).toBeLessThanOrEqual(BOX_TOLERANCE);
      expect(d.score, inputs[i]!.name).toBeLessThanOrEqual(SCORE_TOLERANCE);
    }
  });
});
