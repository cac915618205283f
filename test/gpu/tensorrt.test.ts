/**
 * The TensorRT backend on a GPU machine WITH TensorRT (and an addon built against its headers:
 * `TENSORRT_ROOT=... npm run build:native`). This project's GPU machines have no TensorRT, so there
 * every test here is skipped and says why; they are what a user with TensorRT runs to check the
 * backend: fp32 output0 against the CPU backend's reference, fp16 detections against fp32, the
 * policy visible in layers() (IEngineInspector), save/load, refit by name (= a build from the new
 * weights), a refused refit, and a timing cache written.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { toFloat32 } from '../../common/host-tensor.js';
import { parsePolicy } from '../../dsl/precision/policy.js';
import { tensorrtBackend } from '../../engine/backends/tensorrt.js';
import { precisionByGraphLayer, type TrtLayer } from '../../engine/backends/trt-inspector.js';
import { Engine } from '../../engine/engine.js';
import { prepareModel } from '../../engine/prepare.js';
import { buildYolov8 } from '../../models/yolov8/model.js';
import { randomWeights } from '../../weights/random.js';
import { writePerturbed } from '../engine/perturb.js';
import { assertSameDetections, gpuData, letterboxed, maxDifference, maxRelativeError, reference } from './support.js';

const MODEL = 'yolov8n';
const FP32_TOLERANCE = 1e-3;
const MIXED = '*:fp16,/model.22/:fp32';
const availability = tensorrtBackend.available();
const skip = availability.ok ? false : `TensorRT is not available here: ${availability.reason}`;
const tmp = mkdtempSync(join(tmpdir(), 'netdef-trt-gpu-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function build(policy: string, weights = gpuData(MODEL, 'weights.safetensors'), timingCache?: string): Promise<Engine> {
  const prepared = await prepareModel({ weights, policy: parsePolicy(policy) });
  return Engine.build(prepared, { backend: 'tensorrt', batch: { min: 1, opt: 1, max: 2 }, ...(timingCache ? { timingCache } : {}) });
}

describe(`${MODEL} on TensorRT`, { skip }, () => {
  it('fp32 output0 equals the CPU backend within 1e-3 relative; a timing cache is written', async () => {
    const cache = join(tmp, 'timing.cache');
    await using engine = await build('*:fp32', undefined, cache);
    assert.ok(existsSync(cache), 'timing cache written');
    for (const image of ['bus.jpg', 'zidane.jpg']) {
      const err = maxRelativeError(toFloat32((await engine.run({ images: await letterboxed(image) })).output0!), reference(MODEL, image));
      console.log(`tensorrt fp32 ${image}: max relative error ${err.toExponential(2)}`);
      assert.ok(err <= FP32_TOLERANCE, `${image}: ${err}`);
    }
  });

  it('honours a mixed policy (layers() from the inspector) and gives the fp32 detections', async () => {
    await using fp32 = await build('*:fp32');
    await using mixed = await build(MIXED);
    const precision = precisionByGraphLayer(mixed.layers() as TrtLayer[], Object.keys(mixed.metadata.precision));
    assert.equal(precision.get('/model.0/conv/Conv'), 'float16');
    assert.equal(precision.get('/model.22/dfl/conv/Conv'), 'float32');
    const input = await letterboxed('bus.jpg');
    assertSameDetections((await mixed.run({ images: input })).output0!, (await fp32.run({ images: input })).output0!, 'bus.jpg');
  });

  it('saves, loads, refits by name as a build from the new weights would, and refuses other shapes', async () => {
    const perturbed = join(tmp, 'perturbed.safetensors');
    await writePerturbed(gpuData(MODEL, 'weights.safetensors'), perturbed, 5);
    const file = join(tmp, 'n.engine');
    await using engine = await build('*:fp32');
    await engine.save(file);
    await using loaded = await Engine.load(file);
    const input = await letterboxed('zidane.jpg');
    assert.deepEqual(toFloat32((await loaded.run({ images: input })).output0!), toFloat32((await engine.run({ images: input })).output0!));
    await loaded.refit(perturbed);
    await using direct = await build('*:fp32', perturbed);
    const worst = maxDifference(toFloat32((await loaded.run({ images: input })).output0!), toFloat32((await direct.run({ images: input })).output0!));
    assert.ok(worst <= FP32_TOLERANCE, `refitted vs built from the same weights: ${worst}`);
    await assert.rejects(loaded.refit(randomWeights(buildYolov8({ scale: 'yolov8s', nc: 80 }), 1)), { code: 'ERR_WEIGHTS_MISMATCH' });
  });
});
