import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toFloat32 } from '../../common/host-tensor.js';
import { type ConvertProgress, convertPtToSafetensors } from '../../weights/convert.js';
import { loadWeights } from '../../weights/load.js';
import { loadPt } from '../../weights/pt/checkpoint.js';
import { loadSafetensors, readSafetensors } from '../../weights/safetensors.js';
import { dataPath } from '../data.js';
import { caught, tempDir } from './helpers.js';

const YOLOV8N = dataPath('weights', 'yolov8n.pt');
const dir = tempDir();

describe('convertPtToSafetensors', () => {
  it('round-trips yolov8n.pt byte for byte, with its model info and sha256', async () => {
    const out = join(dir, 'yolov8n.safetensors');
    const phases = new Set<string>();
    const summary = await convertPtToSafetensors(YOLOV8N, out, { onProgress: (p: ConvertProgress) => phases.add(p.phase) });
    const pt = await loadPt(YOLOV8N);
    expect(summary).toMatchObject({ path: out, tensors: 355, info: pt.info, sourceSha256: pt.source.sha256 });
    expect(phases).toEqual(new Set(['read', 'write']));
    const st = await loadSafetensors(out);
    expect(st.tensors.size).toBe(pt.tensors.size);
    for (const [name, t] of pt.tensors) {
      const back = st.tensors.get(name);
      expect(back, name).toBeDefined();
      expect([back!.dtype, back!.shape]).toEqual([t.dtype, t.shape]);
      expect(Buffer.from(back!.data).equals(Buffer.from(t.data)), name).toBe(true);
    }
    expect(st.info).toEqual(pt.info);
    expect(st.source).toEqual({ path: out, format: 'safetensors', sha256: pt.source.sha256 });
    const { metadata } = await readSafetensors(out);
    expect(metadata).toMatchObject({ format: 'pt', 'netdef.nc': '80', 'netdef.scale': 'n', 'netdef.strides': '[8,16,32]', 'netdef.config': 'yolov8n.yaml' });
    expect(JSON.parse(metadata['netdef.names']!)[0]).toBe('person');
  });

  it('casts float tensors to float32 on request and keeps integer tensors', async () => {
    const out = join(dir, 'yolov8n-f32.safetensors');
    const summary = await convertPtToSafetensors(YOLOV8N, out, { dtype: 'float32' });
    const pt = await loadPt(YOLOV8N);
    const st = await loadSafetensors(out);
    expect(summary.tensors).toBe(355);
    expect(st.tensors.get('model.0.bn.num_batches_tracked')!.dtype).toBe('int64');
    const w = st.tensors.get('model.0.conv.weight')!;
    expect(w.dtype).toBe('float32');
    expect(toFloat32(w)).toEqual(toFloat32(pt.tensors.get('model.0.conv.weight')!));
  });

  it('rejects an unknown dtype option and a missing input', async () => {
    const out = join(dir, 'never.safetensors');
    const bad = await caught(() => convertPtToSafetensors(YOLOV8N, out, { dtype: 'int8' as 'keep' }));
    expect(bad.code).toBe('ERR_INVALID_ARGUMENT');
    const missing = join(dir, 'missing.pt');
    expect(await caught(() => convertPtToSafetensors(missing, out))).toMatchObject({ code: 'ERR_FILE_NOT_FOUND', message: expect.stringContaining(missing) });
  });
});

describe('loadWeights', () => {
  it('dispatches on the magic bytes, not the extension', async () => {
    const st = join(dir, 'weights.bin');
    await convertPtToSafetensors(YOLOV8N, st);
    expect((await loadWeights(st)).source.format).toBe('safetensors');
    expect((await loadWeights(YOLOV8N)).source.format).toBe('pt');
  });

  it('names the path of a missing file', async () => {
    const path = join(dir, 'nothing-here.safetensors');
    expect(await caught(() => loadWeights(path))).toMatchObject({ code: 'ERR_FILE_NOT_FOUND', message: expect.stringContaining(path) });
  });

  it('reads a non-zip file as safetensors, which rejects it', async () => {
    const path = join(dir, 'garbage.pt');
    writeFileSync(path, 'not weights at all');
    expect(await caught(() => loadWeights(path))).toMatchObject({ code: 'ERR_SAFETENSORS_HEADER', message: expect.stringContaining(path) });
  });
});
