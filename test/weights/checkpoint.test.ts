import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toFloat32 } from '../../common/host-tensor.js';
import { loadPt, scaleFromConfig } from '../../weights/pt/checkpoint.js';
import { dataPath } from '../data.js';
import { PickleWriter, buildZip, caught, tempDir } from './helpers.js';

const YOLOV8N = dataPath('weights', 'yolov8n.pt');
const YOLOV8S = dataPath('weights', 'yolov8s.pt');
const dir = tempDir();

/** Writes a zip holding `archive/data.pkl` (+ extra records) and returns its path. */
function ptFile(name: string, pickle: Uint8Array, records: ReadonlyArray<readonly [string, Uint8Array]> = []): string {
  const path = join(dir, name);
  writeFileSync(path, buildZip([['archive/data.pkl', pickle], ['archive/byteorder', Buffer.from('little')], ...records], { zip64: true }));
  return path;
}

/** `_rebuild_tensor_v2(storage '0' (float32 x count), offset, size, stride, False, OrderedDict())`. */
function tensorCall(p: PickleWriter, count: number, offset: number, size: number[], stride: number[]): PickleWriter {
  p.global('torch._utils', '_rebuild_tensor_v2').mark();
  p.mark().str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(count).tuple().persId();
  p.int(offset).ints(size).ints(stride).newFalse();
  p.global('collections', 'OrderedDict').emptyTuple().reduce();
  return p.tuple().reduce();
}

describe('loadPt on the official checkpoints', () => {
  it('loads yolov8n.pt: names, shapes, fp16, model info, sha256', async () => {
    const store = await loadPt(YOLOV8N);
    const names = [...store.tensors.keys()];
    // Module.state_dict() order: parameters, then buffers, then submodules, depth first.
    expect(names.slice(0, 6)).toEqual([
      'model.0.conv.weight', 'model.0.bn.weight', 'model.0.bn.bias',
      'model.0.bn.running_mean', 'model.0.bn.running_var', 'model.0.bn.num_batches_tracked',
    ]);
    expect(names.at(-1)).toBe('model.22.dfl.conv.weight');
    // 57 Conv blocks x 6 (conv weight + 5 BatchNorm entries) + 6 biased head convs x 2 + the DFL weight.
    expect(store.tensors.size).toBe(355);
    const conv0 = store.tensors.get('model.0.conv.weight')!;
    expect(conv0.dtype).toBe('float16');
    expect(conv0.shape).toEqual([16, 3, 3, 3]);
    expect(store.tensors.get('model.0.bn.num_batches_tracked')).toMatchObject({ dtype: 'int64', shape: [] });
    expect(store.tensors.get('model.22.cv2.0.2.weight')!.shape).toEqual([64, 64, 1, 1]);
    expect(store.tensors.get('model.22.cv3.0.2.bias')!.shape).toEqual([80]);
    // Ultralytics fixes the DFL conv's weight to arange(16): a check that offsets land right.
    expect([...toFloat32(store.tensors.get('model.22.dfl.conv.weight')!)]).toEqual([...Array(16).keys()]);
    expect(store.info).toMatchObject({ scale: 'n', nc: 80, strides: [8, 16, 32], config: 'yolov8n.yaml' });
    expect(store.info.names).toHaveLength(80);
    expect(store.info.names![0]).toBe('person');
    expect(store.info.names![79]).toBe('toothbrush');
    expect(store.source).toEqual({
      path: YOLOV8N, format: 'pt', sha256: createHash('sha256').update(readFileSync(YOLOV8N)).digest('hex'),
    });
  });

  it('loads yolov8s.pt with scale s and wider layers', async () => {
    const store = await loadPt(YOLOV8S);
    expect(store.info).toMatchObject({ scale: 's', nc: 80, strides: [8, 16, 32] });
    expect(store.tensors.size).toBe(355);
    expect(store.tensors.get('model.0.conv.weight')!.shape).toEqual([32, 3, 3, 3]);
    expect(store.tensors.get('model.9.cv2.conv.weight')!.shape).toEqual([512, 1024, 1, 1]);
    const floats = [...store.tensors.values()].filter((t) => t.dtype !== 'int64');
    expect(floats.every((t) => t.dtype === 'float16')).toBe(true);
  });

  it('derives the scale from config names', () => {
    expect(scaleFromConfig('yolov8n.yaml')).toBe('n');
    expect(scaleFromConfig('models/yolov8x-p2.yaml')).toBe('x');
    expect(scaleFromConfig('yolo11m.yaml')).toBe('m');
    expect(scaleFromConfig('yolov8.yaml')).toBeUndefined();
    expect(scaleFromConfig(undefined)).toBeUndefined();
  });
});

describe('loadPt on hand-made archives', () => {
  const storage = new Float32Array([0, 1, 2, 3, 4, 5]);
  const record = ['archive/data/0', new Uint8Array(storage.buffer)] as const;

  it('reads a plain state_dict with contiguous and transposed views of one storage', async () => {
    const p = new PickleWriter().proto().global('collections', 'OrderedDict').emptyTuple().reduce().mark();
    tensorCall(p.str('w'), 6, 0, [2, 3], [3, 1]);
    tensorCall(p.str('wt'), 6, 0, [3, 2], [1, 3]);
    tensorCall(p.str('tail'), 6, 4, [2], [1]);
    tensorCall(p.str('empty'), 6, 0, [0, 3], [3, 1]);
    const path = ptFile('state-dict.pt', p.setItems().stop().bytes(), [record]);
    const store = await loadPt(path);
    expect([...store.tensors.keys()]).toEqual(['w', 'wt', 'tail', 'empty']);
    expect([...toFloat32(store.tensors.get('w')!)]).toEqual([0, 1, 2, 3, 4, 5]);
    expect([...toFloat32(store.tensors.get('wt')!)]).toEqual([0, 3, 1, 4, 2, 5]);
    expect([...toFloat32(store.tensors.get('tail')!)]).toEqual([4, 5]);
    expect(store.tensors.get('empty')).toMatchObject({ dtype: 'float32', shape: [0, 3] });
    expect(store.info).toEqual({});
  });

  it('rejects a view that reaches past its storage, naming the file and storage', async () => {
    const p = new PickleWriter().proto().global('collections', 'OrderedDict').emptyTuple().reduce().mark();
    tensorCall(p.str('w'), 6, 2, [2, 3], [3, 1]);
    const path = ptFile('overrun.pt', p.setItems().stop().bytes(), [record]);
    const err = await caught(() => loadPt(path));
    expect(err.code).toBe('ERR_CHECKPOINT_FORMAT');
    expect(err.message).toContain(path);
    expect(err.message).toContain("storage '0'");
  });

  it('refuses a pickle that calls os.system, naming the global and the file', async () => {
    const pickle = new PickleWriter().proto().global('os', 'system').mark().str('touch /tmp/pwned').tuple().reduce().stop().bytes();
    const path = ptFile('evil.pt', pickle);
    const err = await caught(() => loadPt(path));
    expect(err.code).toBe('ERR_PICKLE_FORBIDDEN_GLOBAL');
    expect(err.message).toContain("'os.system'");
    expect(err.message).toContain(path);
  });

  it.each([
    ['torch.storage', '_load_from_bytes'], // would run torch.load on embedded bytes
    ['torch', 'load'],
    ['builtins', 'getattr'],
    ['__builtin__', 'eval'],
    ['ultralytics.nn', 'os.system'], // dotted names are not classes
  ])('refuses the global %s.%s inside a .pt', async (module, name) => {
    const pickle = new PickleWriter().proto().global(module, name).mark().str('x').tuple().reduce().stop().bytes();
    const path = ptFile(`forbidden-${name}.pt`, pickle);
    const err = await caught(() => loadPt(path));
    expect(err.code).toBe('ERR_PICKLE_FORBIDDEN_GLOBAL');
    expect(err.message).toContain(`'${module}.${name}'`);
  });

  it('refuses a pickle with an unknown opcode', async () => {
    const path = ptFile('opcode.pt', Uint8Array.from([0x80, 0x02, 0xfe, 0x2e]));
    const err = await caught(() => loadPt(path));
    expect(err.code).toBe('ERR_PICKLE_FORMAT');
    expect(err.message).toContain(path);
    expect(err.message).toContain('0xfe');
  });

  it('refuses a truncated yolov8n.pt', async () => {
    const path = join(dir, 'truncated.pt');
    writeFileSync(path, readFileSync(YOLOV8N).subarray(0, 3 * 1024 * 1024));
    const err = await caught(() => loadPt(path));
    expect(err.code).toBe('ERR_ZIP_FORMAT');
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/truncated/);
  });

  it('refuses archives without a model or without data.pkl', async () => {
    const noModel = ptFile('no-model.pt', new PickleWriter().proto().emptyDict().mark().str('epoch').int(3).setItems().stop().bytes());
    const err = await caught(() => loadPt(noModel));
    expect(err.code).toBe('ERR_CHECKPOINT_FORMAT');
    expect(err.message).toMatch(/no-model\.pt.*no model or state_dict.*epoch/);
    const noPkl = join(dir, 'no-pkl.pt');
    writeFileSync(noPkl, buildZip([['archive/other', Buffer.from('x')]]));
    expect(await caught(() => loadPt(noPkl))).toMatchObject({ code: 'ERR_CHECKPOINT_FORMAT', message: expect.stringContaining(noPkl) });
  });

  it('reports a missing file as ERR_FILE_NOT_FOUND naming the path', async () => {
    const path = join(dir, 'absent.pt');
    expect(await caught(() => loadPt(path))).toMatchObject({ code: 'ERR_FILE_NOT_FOUND', message: expect.stringContaining(path) });
  });
});
