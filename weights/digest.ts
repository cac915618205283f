/**
 * A fingerprint of a model's effective parameters: sha256 over each parameter's name, dtype, shape
 * and bytes, in order. Engine files record it, so an engine that can only be refitted with the
 * weights it was built from (TensorRT's kREFIT_IDENTICAL and stripped plans) can tell them apart.
 */
import { createHash } from 'node:crypto';
import type { HostTensor } from '../common/host-tensor.js';

export function weightsDigest(params: ReadonlyMap<string, HostTensor>): string {
  const hash = createHash('sha256');
  for (const [name, t] of params) {
    hash.update(`${name}\0${t.dtype}\0${t.shape.join(',')}\0`);
    hash.update(t.data);
  }
  return hash.digest('hex');
}
