/**
 * NMS inside the engine through the engine API and the CLI (CPU backend; TensorRT maps the same
 * node to INMSLayer, docs/tensorrt.md): the engine file records the NMS settings, the loaded engine
 * returns the selected rows, a refit (which rebuilds the graph on this backend) keeps them, the
 * CUDA engine refuses NMS graphs before native code, and `build` refuses NMS flags without --nms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cudaBackend } from '../../engine/backends/cuda.js';
import { Engine } from '../../engine/engine.js';
import { prepareModel } from '../../engine/prepare.js';
import { NMS_OUTPUTS } from '../../models/yolov8/nms.js';
import { netdef } from '../cli/run.js';
import { dataPath } from '../data.js';
import { letterbox } from '../images.js';
import { writePerturbed } from './perturb.js';

const dir = mkdtempSync(join(tmpdir(), 'netdef-nms-engine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const NMS = { iouThreshold: 0.7, scoreThreshold: 0.25, maxPerClass: 300 };
const ROW = 3; // (batch, class, anchor)

function rows(out: Record<string, { data: Uint8Array; shape: readonly number[] }>): number[][] {
  const t = out[NMS_OUTPUTS.indices]!;
  const v = new Int32Array(t.data.buffer, t.data.byteOffset, t.data.byteLength / Int32Array.BYTES_PER_ELEMENT);
  return Array.from({ length: t.shape[0]! }, (_, i) => Array.from(v.subarray(i * ROW, (i + 1) * ROW)));
}

describe('NMS in the engine (CPU backend)', () => {
  it('is recorded in the engine file, runs after loading, and survives a refit', async () => {
    const weights = dataPath('weights', 'yolov8n.pt');
    const file = join(dir, 'nms.engine');
    const res = await netdef('build', '--weights', weights, '--nms', '--conf', '0.25', '-o', file);
    expect(res.code, res.stderr).toBe(0);
    await using engine = await Engine.load(file);
    expect(engine.metadata.nms).toEqual(NMS);
    expect(engine.metadata.outputs.map((o) => o.name)).toEqual(['output0', NMS_OUTPUTS.indices, NMS_OUTPUTS.count]);
    const input = (await letterbox(dataPath('images', 'bus.jpg'))).tensor;
    const selected = rows(await engine.run({ images: input }));
    expect(selected.length).toBeGreaterThanOrEqual(5); // bus.jpg: a bus and four people at conf 0.25
    expect(new Set(selected.map((r) => r[1]))).toEqual(new Set([0, 5])); // person, bus
    const perturbed = join(dir, 'perturbed.safetensors');
    await writePerturbed(weights, perturbed);
    await engine.refit(perturbed);
    expect(rows(await engine.run({ images: input })).length).toBeGreaterThan(0);
  });

  it('the CUDA engine refuses an NMS graph before native code', async () => {
    const prepared = await prepareModel({ model: 'yolov8n', nms: NMS });
    await expect(cudaBackend.build(prepared.graph, prepared.params)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/NMS layer '\/model\.22\/nms\/.*CUDA engine does not run NMS/),
    });
  });

  it('build refuses NMS thresholds without --nms', async () => {
    const res = await netdef('build', '--weights', dataPath('weights', 'yolov8n.pt'), '--iou', '0.5', '-o', join(dir, 'x.engine'));
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/ERR_INVALID_ARGUMENT.*add --nms/s);
  });
});
