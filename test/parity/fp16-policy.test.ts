/**
 * yolov8n under the fp16 policy "everything except /model.22/" on the CPU backend, against the
 * official fp32 ONNX export.
 *
 * Tolerance and why: fp16 keeps 11 significant bits (relative step 2^-11 ≈ 4.9e-4). The policy
 * rounds every backbone/neck weight and the tensors crossing fp16 regions to that grid, and the
 * errors compound over ~60 layers before the fp32 head. Class scores are sigmoid probabilities:
 * a drift of 1e-2 never changes which objects pass conf 0.25 by more than a hair and matches the
 * fp16 agreement the engines are held to (scores within 0.01). Box coordinates matter where an
 * anchor can become a detection: for anchors scoring above 0.25 we require 0.5 px (half a pixel
 * at 640, invisible after mapping back). Anchors with near-zero scores have flat DFL
 * distributions whose expectation moves more (measured up to ~3.3 px) and never reach NMS at
 * the default threshold, so they are not held to that bound. Measured on this machine: scores
 * within 5.5e-3, confident boxes within 0.11 px.
 */
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HostTensor, toFloat32 } from '../../common/host-tensor.js';
import { parsePolicy } from '../../dsl/precision/policy.js';
import type { EngineRunner } from '../../engine/backend.js';
import { onnxruntimeBackend } from '../../engine/backends/onnxruntime.js';
import { prepareModel } from '../../engine/prepare.js';
import { dataPath } from '../data.js';
import { letterbox, randomImage } from '../images.js';

const SCORE_TOLERANCE = 1e-2;
const CONFIDENT_BOX_TOLERANCE = 0.5;
const CONFIDENT = 0.25;
const ANCHORS = 8400;
const ROWS = 84;

describe('fp16 policy "*:fp16,/model.22/:fp32" on the CPU backend', () => {
  let official: ort.InferenceSession;
  let ours: EngineRunner;
  let dtypes: Map<string, string>;

  beforeAll(async () => {
    const prepared = await prepareModel({ weights: dataPath('weights', 'yolov8n.pt'), policy: parsePolicy('*:fp16,/model.22/:fp32') });
    dtypes = new Map(prepared.graph.nodes.map((n) => [n.name, n.outputs[0]?.type.dtype ?? '']));
    ours = await onnxruntimeBackend.build(prepared.graph, prepared.params);
    official = await ort.InferenceSession.create(dataPath('onnx', 'yolov8n.onnx'));
  });

  afterAll(async () => {
    await ours?.dispose();
    await official?.release();
  });

  it('types the backbone fp16 and the head fp32', () => {
    expect(dtypes.get('/model.0/conv/Conv')).toBe('float16');
    expect(dtypes.get('/model.21/cv2/act/Silu')).toBe('float16');
    expect(dtypes.get('/model.22/dfl/conv/Conv')).toBe('float32');
    expect(dtypes.get('output0')).toBe('float32');
  });

  it.each([['random', async () => randomImage(3)], ['bus.jpg', async () => (await letterbox(dataPath('images', 'bus.jpg'))).tensor],
    ['zidane.jpg', async () => (await letterbox(dataPath('images', 'zidane.jpg'))).tensor]] as const)('stays within tolerance on %s', async (name, make) => {
    const input: HostTensor = await make();
    const mine = toFloat32((await ours.run({ images: input })).output0!);
    const reference = (await official.run({ images: new ort.Tensor('float32', toFloat32(input), [...input.shape]) })).output0!.data as Float32Array;
    let score = 0;
    let box = 0;
    for (let k = 0; k < ANCHORS; k++) {
      let best = 0;
      for (let r = 4; r < ROWS; r++) {
        best = Math.max(best, reference[r * ANCHORS + k]!);
        score = Math.max(score, Math.abs(mine[r * ANCHORS + k]! - reference[r * ANCHORS + k]!));
      }
      if (best > CONFIDENT) for (let r = 0; r < 4; r++) box = Math.max(box, Math.abs(mine[r * ANCHORS + k]! - reference[r * ANCHORS + k]!));
    }
    console.log(`${name}: max |score diff| ${score.toExponential(2)}, max |box diff| of confident anchors ${box.toFixed(4)} px`);
    expect(score).toBeLessThanOrEqual(SCORE_TOLERANCE);
    expect(box).toBeLessThanOrEqual(CONFIDENT_BOX_TOLERANCE);
    expect(mine.every(Number.isFinite)).toBe(true);
  });
});
