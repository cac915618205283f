/**
 * Refit on the CUDA engine, end to end from weight files: an engine built from yolov8n and
 * refitted with perturbed yolov8n-shaped weights (each float tensor scaled by 1 ± 5 %, saved as
 * safetensors) gives the outputs of an engine built directly from those weights; refitting back
 * gives the first engine's outputs bit for bit (only the weight bytes changed: same kernels, same
 * captured graphs); the refitted engine saves and loads with its new weights; weights of another
 * model are refused with the list of mismatches. Build and refit times are printed, not asserted
 * (scripts/bench/refit.ts measures them).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, describe, it } from 'node:test';
import { NetdefError } from '../../common/errors.js';
import { type HostTensor, toFloat32 } from '../../common/host-tensor.js';
import { parsePolicy } from '../../dsl/precision/policy.js';
import { Engine } from '../../engine/engine.js';
import { prepareModel } from '../../engine/prepare.js';
import { buildYolov8 } from '../../models/yolov8/model.js';
import { randomWeights } from '../../weights/random.js';
import { writePerturbed } from '../engine/perturb.js';
import { assertSameDetections, gpuData, letterboxed, maxDifference } from './support.js';

const MODEL = 'yolov8n';
/** fp32 engines built apart may pick other cuDNN algorithms: relative to max(|b|, 1), as the CPU comparison. */
const FP32_TOLERANCE = 1e-4;
/** The perturbation must move output0 by more than this (else the test shows nothing). */
const MIN_MOVE = 1e-2;
const tmp = mkdtempSync(join(tmpdir(), 'netdef-refit-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function build(weights: string, policy: string): Promise<Engine> {
  const prepared = await prepareModel({ weights, policy: parsePolicy(policy) });
  return Engine.build(prepared, { backend: 'cuda', batch: { min: 1, opt: 1, max: 2 } });
}

async function output(engine: Engine, input: HostTensor): Promise<Float32Array> {
  return toFloat32((await engine.run({ images: input })).output0!);
}

describe(`refit on the CUDA engine (${MODEL})`, () => {
  const original = gpuData(MODEL, 'weights.safetensors');
  const perturbed = join(tmp, 'perturbed.safetensors');

  // fp32: output0 within 1e-4; fp16: the same detections (two fp16 builds may pick other kernels).
  for (const policy of ['*:fp32', '*:fp16,/model.22/:fp32']) {
    it(`${policy}: refitted = built from the new weights; refit back = the original bit for bit`, async () => {
      await writePerturbed(original, perturbed, 7);
      const input = await letterboxed('bus.jpg');
      let t0 = performance.now();
      await using engine = await build(original, policy);
      const buildMs = performance.now() - t0;
      const before = await output(engine, input);

      t0 = performance.now();
      await engine.refit(perturbed);
      const refitMs = performance.now() - t0;
      const refittedTensor = (await engine.run({ images: input })).output0!;
      const refitted = toFloat32(refittedTensor);
      await using direct = await build(perturbed, policy);
      const expectedTensor = (await direct.run({ images: input })).output0!;
      const expected = toFloat32(expectedTensor);
      const diff = maxDifference(refitted, expected);
      const moved = maxDifference(before, expected);
      console.log(`${policy}: build ${buildMs.toFixed(0)} ms, refit ${refitMs.toFixed(0)} ms; refitted vs direct ${diff.toExponential(2)}, original vs direct ${moved.toExponential(2)}`);
      assert.ok(moved > MIN_MOVE, `the perturbation should move the outputs (${moved})`);
      if (policy === '*:fp32') assert.ok(diff <= FP32_TOLERANCE, `refitted vs built from the same weights: ${diff}`);
      else assertSameDetections(refittedTensor, expectedTensor, `${policy} refitted vs direct`);

      const file = join(tmp, 'refitted.engine');
      await engine.save(file);
      await using loaded = await Engine.load(file);
      assert.deepEqual(await output(loaded, input), refitted, 'a saved refitted engine holds the new weights');

      await engine.refit(original);
      assert.deepEqual(await output(engine, input), before, 'refit back to the original weights');
    });
  }

  it('refuses weights of another model with the mismatches, and keeps working', async () => {
    await using engine = await build(original, '*:fp32');
    const input = await letterboxed('zidane.jpg');
    const before = await output(engine, input);
    const yolov8s = randomWeights(buildYolov8({ scale: 'yolov8s', nc: 80 }), 1);
    await assert.rejects(engine.refit(yolov8s), (e: unknown) => {
      assert.ok(e instanceof NetdefError && e.code === 'ERR_WEIGHTS_MISMATCH', String(e));
      assert.match(e.message, /model\.0\.conv\.weight/);
      return true;
    });
    assert.deepEqual(await output(engine, input), before);
  });
});
