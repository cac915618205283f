/**
 * The CUDA engine on the whole model, against the CPU backend (fixtures from scripts/gpu-fixtures.ts):
 * fp32 output0 within 1e-3 relative; fp16 gives the same detections (support.ts assertSameDetections); batches, engine files,
 * layer dtypes, bad inputs and a bad NETDEF_CUDA_PLAN_THREADS behave.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, describe, it } from 'node:test';
import { NetdefError } from '../../common/errors.js';
import { toFloat32 } from '../../common/host-tensor.js';
import { parsePolicy } from '../../dsl/precision/policy.js';
import { Engine } from '../../engine/engine.js';
import { prepareModel } from '../../engine/prepare.js';
import { assertSameDetections, GPU_DATA, gpuData, letterboxed, maxRelativeError, reference } from './support.js';

const FP32_TOLERANCE = 1e-3;
const IMAGES = ['bus.jpg', 'zidane.jpg'];
const MODELS = ['yolov8n', 'yolov8s'].filter((m) => existsSync(join(GPU_DATA, m)));
const tmp = mkdtempSync(join(tmpdir(), 'netdef-gpu-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function build(model: string, policy: string, batch = { min: 1, opt: 1, max: 4 }): Promise<Engine> {
  const prepared = await prepareModel({ weights: gpuData(model, 'weights.safetensors'), policy: parsePolicy(policy) });
  return Engine.build(prepared, { backend: 'cuda', batch });
}

for (const model of MODELS) {
  describe(`${model} on the CUDA engine`, () => {
    it('fp32 output0 equals the CPU backend within 1e-3 relative', async () => {
      await using engine = await build(model, '*:fp32');
      for (const image of IMAGES) {
        const out = toFloat32((await engine.run({ images: await letterboxed(image) })).output0!);
        const err = maxRelativeError(out, reference(model, image));
        console.log(`${model} fp32 ${image}: max relative error ${err.toExponential(2)}`);
        assert.ok(err <= FP32_TOLERANCE, `${image}: ${err}`);
      }
    });

    it('fp16 gives the same detections as fp32', async () => {
      await using fp32 = await build(model, '*:fp32');
      await using fp16 = await build(model, '*:fp16');
      for (const image of IMAGES) {
        const input = await letterboxed(image);
        const a = (await fp32.run({ images: input })).output0!;
        const b = (await fp16.run({ images: input })).output0!;
        const n = assertSameDetections(b, a, image);
        console.log(`${model} fp16 ${image}: ${n} detections agree with fp32`);
      }
    });
  });
}

const SMALLEST = MODELS[0] ?? 'yolov8n';

describe(`CUDA engine behaviour (${SMALLEST})`, () => {
  it('runs any batch in its range with the same per-image results', async () => {
    await using engine = await build(SMALLEST, '*:fp32');
    const one = toFloat32((await engine.run({ images: await letterboxed('bus.jpg') })).output0!);
    const input = await letterboxed('bus.jpg');
    const three = { dtype: input.dtype, shape: [3, ...input.shape.slice(1)], data: new Uint8Array(Buffer.concat([input.data, input.data, input.data])) };
    const out = toFloat32((await engine.run({ images: three })).output0!);
    for (let b = 0; b < 3; b++) assert.deepEqual(out.subarray(b * one.length, (b + 1) * one.length), one);
  });

  it('saves and loads an engine file; refuses corrupted files and wrong inputs with typed errors', async () => {
    const file = join(tmp, 'n.engine');
    await using engine = await build(SMALLEST, '*:fp16,/model.22/:fp32');
    await engine.save(file);
    const t0 = performance.now();
    await using loaded = await Engine.load(file);
    // Printed, not asserted: an engine file keeps its fused plans' texts (format 8), so a load on
    // the same GPU and cuDNN restores them rather than compiling them again.
    console.log(`engine file loaded in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    const input = await letterboxed('zidane.jpg');
    assert.deepEqual(toFloat32((await loaded.run({ images: input })).output0!), toFloat32((await engine.run({ images: input })).output0!));
    const layers = loaded.layers();
    assert.equal(layers.find((l) => l.name === '/model.0/conv/Conv')?.dtype, 'float16');
    assert.equal(layers.find((l) => l.name === '/model.22/dfl/conv/Conv')?.dtype, 'float32');
    writeFileSync(join(tmp, 'cut.engine'), Buffer.alloc(100, 1));
    await assert.rejects(Engine.load(join(tmp, 'cut.engine')), (e: unknown) => e instanceof NetdefError && e.code === 'ERR_ENGINE_FORMAT');
    const wrong = { dtype: 'float32' as const, shape: [1, 3, 320, 320], data: new Uint8Array(4 * 3 * 320 * 320) };
    await assert.rejects(engine.run({ images: wrong }), (e: unknown) => e instanceof NetdefError && e.code === 'ERR_INVALID_ARGUMENT');
  });

  it('refuses a NETDEF_CUDA_PLAN_THREADS that is not a thread count, naming it', async () => {
    process.env['NETDEF_CUDA_PLAN_THREADS'] = 'many';
    try {
      await assert.rejects(build(SMALLEST, '*:fp16'), (e: unknown) => e instanceof NetdefError && e.code === 'ERR_INVALID_ARGUMENT' && e.message.includes('NETDEF_CUDA_PLAN_THREADS'));
    } finally {
      delete process.env['NETDEF_CUDA_PLAN_THREADS'];
    }
  });

  it('reports per-layer kernels and times after profiling', async () => {
    await using engine = await build(SMALLEST, '*:fp16');
    const layers = await engine.profile(1, 10);
    const conv = layers.find((l) => l.name === '/model.0/conv/Conv')!;
    assert.ok(conv.kernel.length > 0 && conv.timeMs > 0, JSON.stringify(conv));
  });
});
