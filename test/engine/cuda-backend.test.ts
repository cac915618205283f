/**
 * The cuda backend as seen from a machine without a GPU (CI): a typed "no CUDA device" error, no
 * crash, and the CPU backend keeps working. On a machine with a GPU the same checks assert that the
 * backend is available instead (the GPU behaviour itself is tested by `npm run test:gpu`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cudaBackend } from '../../engine/backends/cuda.js';
import { selectBackend } from '../../engine/backends/index.js';
import { Detector } from '../../engine/detector.js';
import { Engine } from '../../engine/engine.js';
import { prepareModel } from '../../engine/prepare.js';
import { loadNativeAddon } from '../../engine/native/load.js';
import { netdef } from '../cli/run.js';
import { dataPath } from '../data.js';

const hasGpu = loadNativeAddon().capabilities().cuda.ok;

describe('cuda backend availability', () => {
  it(hasGpu ? 'is available on this GPU machine' : 'fails with ERR_NO_CUDA_DEVICE here', () => {
    if (hasGpu) {
      expect(cudaBackend.available()).toEqual({ ok: true });
      return;
    }
    const availability = cudaBackend.available();
    expect(availability.ok).toBe(false);
    expect(() => selectBackend('cuda')).toThrow(expect.objectContaining({ code: 'ERR_NO_CUDA_DEVICE' }));
    expect(cudaBackend.target()).toBe('none');
  });

  it.skipIf(hasGpu)('reports it from the CLI and the Detector, while the CPU backend keeps working', async () => {
    const res = await netdef('detect', dataPath('images', 'bus.jpg'), '--weights', dataPath('weights', 'yolov8n.pt'), '--backend', 'cuda', '--no-save');
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('ERR_NO_CUDA_DEVICE');
    await expect(Detector.load(dataPath('weights', 'yolov8n.pt'), { backend: 'cuda' })).rejects.toMatchObject({ code: 'ERR_NO_CUDA_DEVICE' });
    await using cpu = await Detector.load(dataPath('weights', 'yolov8n.pt'));
    const [r] = await cpu.detect(dataPath('images', 'bus.jpg'));
    expect(r!.detections.length).toBeGreaterThan(3);
  });
});

describe('cuda build settings, checked before any device is needed', () => {
  const weights = dataPath('weights', 'yolov8n.pt');

  it('refuses an unknown tactic search and a file that is not a CUDA timing cache, naming it', async () => {
    const prepared = await prepareModel({ weights });
    await expect(cudaBackend.build(prepared.graph, prepared.params, { search: 'fast' as 'heuristic' }))
      .rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining("search must be one of heuristic, exhaustive, got 'fast'") });
    const dir = mkdtempSync(join(tmpdir(), 'netdef-cache-'));
    try {
      const foreign = join(dir, 'trt.cache');
      writeFileSync(foreign, Uint8Array.from([0x54, 0x52, 0x54, 0]));
      await expect(cudaBackend.build(prepared.graph, prepared.params, { timingCache: foreign }))
        .rejects.toMatchObject({ code: 'ERR_ENGINE_FORMAT', message: expect.stringContaining(`${foreign}: not a netdef CUDA timing cache`) });
      await expect(cudaBackend.build(prepared.graph, prepared.params, { timingCache: dir }))
        .rejects.toMatchObject({ code: 'ERR_FILE_NOT_FOUND', message: expect.stringContaining('is a directory') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses GPU build settings on the CPU backend, naming the setting, from the API and the CLI', async () => {
    const prepared = await prepareModel({ weights });
    await expect(Engine.build(prepared, { timingCache: 'x.cache' }))
      .rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining("'timingCache' is read by the cuda and tensorrt backends only, not by 'onnxruntime'") });
    await expect(Engine.build(prepared, { search: 'exhaustive' }))
      .rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining("'search' is read by the cuda backend only") });
    const cache = await netdef('build', '--weights', weights, '--timing-cache', 'x.cache', '-o', 'never.engine');
    expect(cache.code).toBe(1);
    expect(cache.stderr).toContain('--timing-cache is read by the cuda and tensorrt backends');
    const search = await netdef('build', '--weights', weights, '--backend', 'tensorrt', '--tactic-search', 'exhaustive', '-o', 'never.engine');
    expect(search.code).toBe(1);
    expect(search.stderr).toContain("--tactic-search is the cuda backend's");
    const bad = await netdef('build', '--weights', weights, '--backend', 'cuda', '--tactic-search', 'quick', '-o', 'never.engine');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--tactic-search must be heuristic or exhaustive, got 'quick'");
    const math = await netdef('benchmark', '--weights', weights, '--fp32-math', 'tf32');
    expect(math.code).toBe(1);
    expect(math.stderr).toContain('--fp32-math is read by the cuda and tensorrt backends');
    const badMath = await netdef('build', '--weights', weights, '--backend', 'cuda', '--fp32-math', 'fp16', '-o', 'never.engine');
    expect(badMath.code).toBe(1);
    expect(badMath.stderr).toContain("--fp32-math must be fma or tf32, got 'fp16'");
    const detect = await netdef('detect', dataPath('images', 'bus.jpg'), '--weights', weights, '--timing-cache', 'x.cache', '--no-save');
    expect(detect.code).toBe(1);
    expect(detect.stderr).toContain('--timing-cache is read by the cuda and tensorrt backends');
    // The Detector passes its build settings to every engine it builds: the CPU backend refuses them.
    await using detector = await Detector.load(weights, { fp32Math: 'tf32' });
    await expect(detector.detect(dataPath('images', 'bus.jpg')))
      .rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining("'fp32Math' is read by the cuda and tensorrt backends only") });
    await expect(Engine.build(prepared, { fp32Math: 'tf32' }))
      .rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining("'fp32Math' is read by the cuda and tensorrt backends only") });
  });
});
