import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetdefError } from '../../common/errors.js';
import { toFloat32 } from '../../common/host-tensor.js';
import { NETDEF_VERSION } from '../../common/version.js';
import { Engine } from '../../engine/engine.js';
import { decodeEngine, encodeEngine } from '../../engine/file-format.js';
import { prepareModel } from '../../engine/prepare.js';
import { dataPath } from '../data.js';
import { randomImage, stack } from '../images.js';
import { tensorrtBackend } from '../../engine/backends/tensorrt.js';

const dir = mkdtempSync(join(tmpdir(), 'netdef-engine-'));
const file = join(dir, 'yolov8n.engine');
let engine: Engine;

beforeAll(async () => {
  engine = await Engine.build(await prepareModel({ weights: dataPath('weights', 'yolov8n.pt') }), { batch: { min: 1, opt: 1, max: 4 } });
  await engine.save(file);
});
afterAll(async () => {
  await engine?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function expectFormatError(path: string, fragment: string): Promise<void> {
  const err = await Engine.load(path).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(NetdefError);
  expect((err as NetdefError).code).toBe('ERR_ENGINE_FORMAT');
  expect((err as Error).message).toContain(path);
  expect((err as Error).message).toContain(fragment);
}

describe('engine files (CPU backend)', () => {
  it('saves and loads an engine that computes the same outputs', async () => {
    const loaded = await Engine.load(file);
    expect(loaded.backend).toBe('onnxruntime');
    expect(loaded.metadata.names[5]).toBe('bus');
    expect(loaded.metadata.precision['/model.0/conv/Conv']).toBe('float32');
    expect(loaded.metadata.weights).toContain('model.22.dfl.conv.weight');
    const images = stack([randomImage(7), randomImage(8)]);
    const [a, b] = await Promise.all([engine.run({ images }), loaded.run({ images })]);
    expect(toFloat32(b.output0!)).toEqual(toFloat32(a.output0!));
    await loaded.dispose();
  });

  it('refuses a batch outside the built range', async () => {
    const images = stack([1, 2, 3, 4, 5].map((s) => randomImage(s, 64)));
    await expect(engine.run({ images })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('refuses a truncated file', async () => {
    const cut = join(dir, 'cut.engine');
    const bytes = readFileSync(file);
    writeFileSync(cut, bytes.subarray(0, bytes.length - 1000));
    await expectFormatError(cut, 'truncated or corrupted');
  });

  it('refuses a corrupted file', async () => {
    const bad = join(dir, 'bad.engine');
    const bytes = Buffer.from(readFileSync(file));
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    writeFileSync(bad, bytes);
    await expectFormatError(bad, 'checksum mismatch');
  });

  it('refuses files of another netdef version, backend or target', async () => {
    const parsed = decodeEngine(readFileSync(file), file, { netdef: NETDEF_VERSION });
    const variants: [string, Partial<typeof parsed>, string][] = [
      ['old.engine', { netdef: '0.0.1' }, 'built by netdef 0.0.1'],
      ['gpu.engine', { target: 'sm_80' }, 'built for sm_80'],
    ];
    for (const [name, change, fragment] of variants) {
      writeFileSync(join(dir, name), encodeEngine({ ...parsed, ...change }));
      await expectFormatError(join(dir, name), fragment);
    }
    writeFileSync(join(dir, 'other.engine'), encodeEngine({ ...parsed, backend: 'tpu' }));
    await expect(Engine.load(join(dir, 'other.engine'))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/unknown backend 'tpu'/) });
    if (!tensorrtBackend.available().ok) {
      writeFileSync(join(dir, 'trt.engine'), encodeEngine({ ...parsed, backend: 'tensorrt' }));
      await expect(Engine.load(join(dir, 'trt.engine'))).rejects.toMatchObject({ code: 'ERR_BACKEND', message: expect.stringMatching(/backend 'tensorrt' cannot run here/) });
    }
    writeFileSync(join(dir, 'weights.engine'), readFileSync(dataPath('weights', 'yolov8n.pt')).subarray(0, 4096));
    await expectFormatError(join(dir, 'weights.engine'), 'bad magic');
  });

  it('refuses use after dispose', async () => {
    const e = await Engine.load(file);
    await e.dispose();
    await expect(e.run({ images: randomImage(1) })).rejects.toBeInstanceOf(NetdefError);
  });
});
