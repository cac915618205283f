/**
 * The tensorrt backend as far as it can be checked without TensorRT (this project's machines
 * cannot install it): where the addon lacks the adapter or libnvinfer, a typed error saying how to
 * get it, from the API and the CLI; the builder settings (weight modes → builder flags, workspace,
 * timing cache) as they are handed to the addon; the CLI refusing TensorRT flags for other
 * backends; engine files saved without weights (TensorRT stripped plans) refusing to run until
 * refitted — checked through the CPU backend, since that logic lives in Engine, not in a backend.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toFloat32 } from '../../common/host-tensor.js';
import { selectBackend } from '../../engine/backends/index.js';
import { tensorrtBackend, tensorrtBuildOptions, versionText } from '../../engine/backends/tensorrt.js';
import { Engine } from '../../engine/engine.js';
import { readEngineFile, writeEngineFile } from '../../engine/file-format.js';
import { loadNativeAddon } from '../../engine/native/load.js';
import { prepareModel } from '../../engine/prepare.js';
import { NETDEF_VERSION } from '../../common/version.js';
import { netdef } from '../cli/run.js';
import { dataPath } from '../data.js';
import { letterbox } from '../images.js';
import { writePerturbed } from './perturb.js';

const dir = mkdtempSync(join(tmpdir(), 'netdef-trt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const trt = loadNativeAddon().capabilities().tensorrt;

describe('tensorrt backend availability', () => {
  it.skipIf(trt.ok)('is refused with ERR_BACKEND saying what is missing', async () => {
    const availability = tensorrtBackend.available();
    expect(availability.ok).toBe(false);
    expect(() => selectBackend('tensorrt')).toThrow(expect.objectContaining({ code: 'ERR_BACKEND', message: expect.stringMatching(/TensorRT/) }));
    await expect(loadNativeAddon().loadTensorrtEngine(new Uint8Array(8), {})).rejects.toMatchObject({ code: 'ERR_BACKEND' });
    const res = await netdef('build', '--weights', dataPath('weights', 'yolov8n.pt'), '--backend', 'tensorrt', '-o', join(dir, 'n.engine'));
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/ERR_BACKEND.*TensorRT/s);
  });

  it('the addon reports whether it holds the adapter, and the header version when it does', () => {
    expect(typeof trt.compiled).toBe('boolean');
    if (trt.compiled) expect(trt.headerVersion).toBeGreaterThanOrEqual(100300);
    else expect(trt.reason).toMatch(/built without the TensorRT adapter.*TENSORRT_ROOT/);
  });
});

describe('tensorrt builder settings', () => {
  it('maps each weights mode to its builder flags, refittable by default', async () => {
    const batch = { min: 1, opt: 4, max: 8 };
    expect(await tensorrtBuildOptions({ batch })).toEqual({ batch, refit: true });
    expect(await tensorrtBuildOptions({ batch, tensorrt: { weights: 'fixed' } })).toEqual({ batch });
    expect(await tensorrtBuildOptions({ batch, tensorrt: { weights: 'identical' } })).toEqual({ batch, refitIdentical: true });
    expect(await tensorrtBuildOptions({ batch, tensorrt: { weights: 'stripped', workspaceBytes: 2 ** 28 } }))
      .toEqual({ batch, refitIdentical: true, stripPlan: true, workspaceBytes: 2 ** 28 });
  });

  it('reads an existing timing cache and refuses bad settings', async () => {
    const cache = join(dir, 'timing.cache');
    expect((await tensorrtBuildOptions({ timingCache: cache })).timingCache).toBeUndefined();
    writeFileSync(cache, Uint8Array.from([1, 2, 3]));
    expect((await tensorrtBuildOptions({ timingCache: cache })).timingCache).toEqual(Uint8Array.from([1, 2, 3]));
    await expect(tensorrtBuildOptions({ timingCache: dir })).rejects.toMatchObject({ code: 'ERR_FILE_NOT_FOUND', message: expect.stringContaining('is a directory') });
    expect((await tensorrtBuildOptions({ fp32Math: 'fma' })).tf32).toBe(false);
    expect((await tensorrtBuildOptions({ fp32Math: 'tf32' })).tf32).toBe(true);
    expect(await tensorrtBuildOptions({})).not.toHaveProperty('tf32');
    await expect(tensorrtBuildOptions({ fp32Math: 'bf16' as 'fma' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining("fp32Math must be fma or tf32, got 'bf16'") });
    await expect(tensorrtBuildOptions({ search: 'exhaustive' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('search') });
    await expect(tensorrtBuildOptions({ tensorrt: { workspaceBytes: -1 } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(tensorrtBuildOptions({ tensorrt: { weights: 'none' as 'fixed' } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('prints TensorRT versions as major.minor.patch', () => {
    expect(versionText(101600)).toBe('10.16.0');
    expect(versionText(110102)).toBe('11.1.2');
  });

  it('the CLI refuses TensorRT flags with another backend and bad values', async () => {
    const weights = dataPath('weights', 'yolov8n.pt');
    const other = await netdef('build', '--weights', weights, '--backend', 'onnxruntime', '--workspace', '64', '-o', join(dir, 'x.engine'));
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/ERR_INVALID_ARGUMENT.*--backend tensorrt/s);
    const bad = await netdef('build', '--weights', weights, '--backend', 'tensorrt', '--trt-weights', 'light', '-o', join(dir, 'x.engine'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--trt-weights must be one of refittable, fixed, identical, stripped/);
  });
});

describe('engine files saved without weights, or refittable only with their own', () => {
  const full = join(dir, 'full.engine');
  const weightless = join(dir, 'weightless.engine');
  const identical = join(dir, 'identical.engine');
  const fixed = join(dir, 'fixed.engine');
  const perturbed = join(dir, 'perturbed.safetensors');
  beforeAll(async () => {
    await using engine = await Engine.build(await prepareModel({ weights: dataPath('weights', 'yolov8n.pt') }));
    await engine.save(full);
    const file = await readEngineFile(full, { netdef: NETDEF_VERSION });
    await writeEngineFile(weightless, { ...file, metadata: { ...file.metadata, weightless: true, refit: 'identical' } });
    await writeEngineFile(identical, { ...file, metadata: { ...file.metadata, refit: 'identical' } });
    await writeEngineFile(fixed, { ...file, metadata: { ...file.metadata, refit: 'none' } });
    await writePerturbed(dataPath('weights', 'yolov8n.pt'), perturbed);
  });

  it('record a digest of the weights built with', async () => {
    const { metadata } = await readEngineFile(full, { netdef: NETDEF_VERSION });
    expect(metadata.weightsDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(metadata.refit).toBeUndefined();
  });

  it('refuse other weights where only identical ones may be refitted, and any where none may', async () => {
    await using same = await Engine.load(identical);
    await expect(same.refit(perturbed)).rejects.toMatchObject({ code: 'ERR_WEIGHTS_MISMATCH', message: expect.stringMatching(/only be refitted with the weights it was built from/) });
    await same.refit(dataPath('weights', 'yolov8n.pt'));
    await using none = await Engine.load(fixed);
    await expect(none.refit(dataPath('weights', 'yolov8n.pt'))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/fixed weights/) });
  });

  it('refuse to run until refitted, then run as the full engine', async () => {
    const input = (await letterbox(dataPath('images', 'bus.jpg'))).tensor;
    await using reference = await Engine.load(full);
    const expected = toFloat32((await reference.run({ images: input })).output0!);
    await using bare = await Engine.load(weightless);
    await expect(bare.run({ images: input })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/saved without its weights/) });
    await bare.refit(dataPath('weights', 'yolov8n.pt'));
    expect(toFloat32((await bare.run({ images: input })).output0!)).toEqual(expected);
    await using refitted = await Engine.load(weightless, { weights: dataPath('weights', 'yolov8n.pt') });
    expect(toFloat32((await refitted.run({ images: input })).output0!)).toEqual(expected);
  });
});
