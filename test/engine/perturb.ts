import { fromFloat32, type HostTensor, toFloat32 } from '../../common/host-tensor.js';
import { writeSafetensors } from '../../weights/safetensors.js';
import { metadataFromInfo } from '../../weights/metadata.js';
import { loadWeights } from '../../weights/load.js';

/**
 * Writes `from`'s weights, every float tensor scaled by (1 + amplitude·u) with u uniform in
 * [-1, 1) from a seed (batch-norm variances stay positive), as a netdef safetensors file.
 */
export async function writePerturbed(from: string, to: string, seed = 1, amplitude = 0.05): Promise<void> {
  const store = await loadWeights(from);
  let a = seed >>> 0;
  const next = (): number => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 4294967296;
  };
  const tensors = new Map<string, HostTensor>();
  for (const [name, t] of store.tensors) {
    if (t.dtype !== 'float16' && t.dtype !== 'float32') {
      tensors.set(name, t);
      continue;
    }
    const v = toFloat32(t);
    for (let i = 0; i < v.length; i++) v[i] = v[i]! * (1 + amplitude * (2 * next() - 1));
    tensors.set(name, fromFloat32(v, t.shape, 'float32'));
  }
  await writeSafetensors(to, tensors, metadataFromInfo(store.info));
}
