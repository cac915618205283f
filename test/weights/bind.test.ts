import { describe, expect, it } from 'vitest';
import { NetdefError } from '../../common/errors.js';
import { toFloat32 } from '../../common/host-tensor.js';
import { foldBatchNorm } from '../../dsl/passes/fold-batch-norm.js';
import { buildYolov8 } from '../../models/yolov8/model.js';
import { checkWeights, findMismatches, materializeParams, storedParams } from '../../weights/bind.js';
import { loadWeights } from '../../weights/load.js';
import { randomWeights } from '../../weights/random.js';
import { dataPath } from '../data.js';

function mismatchError(fn: () => void): NetdefError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NetdefError);
    expect((e as NetdefError).code).toBe('ERR_WEIGHTS_MISMATCH');
    return e as NetdefError;
  }
  throw new Error('expected a weights mismatch');
}

describe('binding weights to a graph', () => {
  it('accepts the official yolov8n weights for a yolov8n graph (355 stored tensors, DFL included)', async () => {
    const store = await loadWeights(dataPath('weights', 'yolov8n.pt'));
    const g = buildYolov8({ scale: 'n', nc: 80 });
    expect(findMismatches(g, store)).toEqual([]);
    expect(storedParams(g).size).toBe(355 - 57); // 57 BatchNorms each store a num_batches_tracked counter
  });

  it('lists every mismatch when yolov8s weights meet a yolov8n graph, naming the file', async () => {
    const store = await loadWeights(dataPath('weights', 'yolov8s.pt'));
    const err = mismatchError(() => checkWeights(buildYolov8({ scale: 'n', nc: 80 }), store));
    expect(err.message).toContain('yolov8s.pt');
    expect(err.message).toContain("graph 'yolov8n'");
    expect(err.message).toContain('shape of model.0.conv.weight: expected [16, 3, 3, 3], found [32, 3, 3, 3]');
    expect((err.details as unknown[]).length).toBeGreaterThan(100);
  });

  it('refuses 80-class weights for a 20-class graph, naming the class-branch tensors', async () => {
    const store = await loadWeights(dataPath('weights', 'yolov8n.pt'));
    const err = mismatchError(() => checkWeights(buildYolov8({ scale: 'n', nc: 20 }), store));
    // the class branch narrows too: Ultralytics sizes it max(P3 channels, min(nc, 100)) = 64 for 20 classes
    expect(err.message).toContain('shape of model.22.cv3.0.2.weight: expected [20, 64, 1, 1], found [80, 80, 1, 1]');
    expect(err.message).toContain('36 shape');
    const named = (err.details as { name: string }[]).map((d) => d.name);
    for (const level of [0, 1, 2]) expect(named).toContain(`model.22.cv3.${level}.2.bias`);
    expect(named.every((n) => n.startsWith('model.22.cv3.'))).toBe(true);
  });

  it('reports missing and unexpected tensors together', () => {
    const g = buildYolov8({ scale: 'n', nc: 80 });
    const random = randomWeights(g, 1);
    const tensors = new Map(random.tensors);
    tensors.delete('model.9.cv2.bn.running_var');
    tensors.set('model.23.extra.weight', tensors.get('model.0.conv.weight')!);
    const err = mismatchError(() => checkWeights(g, { ...random, tensors }));
    expect(err.message).toContain('missing model.9.cv2.bn.running_var [256]');
    expect(err.message).toContain('unexpected model.23.extra.weight');
    expect(err.message).toContain('1 missing, 1 unexpected, 0 shape, 0 dtype');
  });

  it('folds batch norm as Ultralytics fuse_conv_and_bn does (official export initializer values)', async () => {
    const store = await loadWeights(dataPath('weights', 'yolov8n.pt'));
    const params = materializeParams(foldBatchNorm(buildYolov8({ scale: 'n', nc: 80 })), store);
    const w = toFloat32(params.get('model.0.conv.weight')!);
    const conv = toFloat32(store.tensors.get('model.0.conv.weight')!);
    const [gamma, v] = ['model.0.bn.weight', 'model.0.bn.running_var'].map((n) => toFloat32(store.tensors.get(n)!));
    const scale = Math.fround(gamma![0]! / Math.fround(Math.sqrt(Math.fround(Math.fround(1e-3) + v![0]!))));
    expect(w[0]).toBe(Math.fround(scale * conv[0]!));
    expect(params.get('model.0.conv.bias')!.shape).toEqual([16]);
    expect(toFloat32(params.get('model.22.dfl.conv.weight')!)).toEqual(Float32Array.from({ length: 16 }, (_, i) => i));
  });
});
