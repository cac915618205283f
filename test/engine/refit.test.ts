import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toFloat32 } from '../../common/host-tensor.js';
import { Engine } from '../../engine/engine.js';
import { prepareModel } from '../../engine/prepare.js';
import { netdef } from '../cli/run.js';
import { dataPath } from '../data.js';
import { letterbox } from '../images.js';
import { writePerturbed } from './perturb.js';

const dir = mkdtempSync(join(tmpdir(), 'netdef-refit-'));
const perturbed = join(dir, 'perturbed.safetensors');
const engineFile = join(dir, 'n.engine');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await writePerturbed(dataPath('weights', 'yolov8n.pt'), perturbed);
  const engine = await Engine.build(await prepareModel({ weights: dataPath('weights', 'yolov8n.pt') }));
  await engine.save(engineFile);
  await engine.dispose();
});

describe('refit (CPU backend)', () => {
  it('gives what an engine built from the new weights gives', async () => {
    const input = (await letterbox(dataPath('images', 'bus.jpg'))).tensor;
    await using refitted = await Engine.load(engineFile);
    const before = toFloat32((await refitted.run({ images: input })).output0!);
    await refitted.refit(perturbed);
    await using direct = await Engine.build(await prepareModel({ weights: perturbed }));
    const after = toFloat32((await refitted.run({ images: input })).output0!);
    expect(after).toEqual(toFloat32((await direct.run({ images: input })).output0!));
    expect(after).not.toEqual(before);
  });

  it('refuses weights of another model, listing the mismatches', async () => {
    await using engine = await Engine.load(engineFile);
    await expect(engine.refit(dataPath('weights', 'yolov8s.pt'))).rejects.toMatchObject({
      code: 'ERR_WEIGHTS_MISMATCH', message: expect.stringContaining('shape of model.0.conv.weight: expected [16, 3, 3, 3], found [32, 3, 3, 3]'),
    });
  });

  it('netdef refit writes a refitted engine file', async () => {
    const out = join(dir, 'refitted.engine');
    const res = await netdef('refit', engineFile, '--weights', perturbed, '-o', out);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/refitted from .*perturbed\.safetensors in \d/);
    const input = (await letterbox(dataPath('images', 'zidane.jpg'))).tensor;
    await using loaded = await Engine.load(out);
    await using direct = await Engine.build(await prepareModel({ weights: perturbed }));
    expect(toFloat32((await loaded.run({ images: input })).output0!)).toEqual(toFloat32((await direct.run({ images: input })).output0!));
  });
});
