import { expectInputs, type InferFn, layerError, type NodeBase } from '../node-base.js';
import { type Dim, formatShape, tensorType } from '../tensor-type.js';

/**
 * Reshape then transpose (either optional), as TensorRT's IShuffleLayer. In `reshape`, a symbolic
 * dimension must be one the input has (it is carried over); at most one -1 is inferred.
 */
export interface ShuffleNode extends NodeBase<'Shuffle'> {
  readonly reshape: readonly Dim[] | null;
  readonly perm: readonly number[] | null;
}

function fixedProduct(dims: readonly Dim[]): number {
  return dims.reduce<number>((a, d) => (typeof d === 'number' ? a * d : a), 1);
}

function symbols(dims: readonly Dim[]): string[] {
  return dims.filter((d): d is string => typeof d === 'string').sort();
}

export const inferShuffle: InferFn<ShuffleNode> = (node, inputs) => {
  expectInputs(node, inputs, 1);
  const x = inputs[0]!;
  let shape: Dim[] = [...x.shape];
  if (node.reshape) {
    const target = [...node.reshape];
    if (symbols(target.filter((d) => d !== -1)).join() !== symbols(x.shape).join()) {
      throw layerError(node, `reshape ${formatShape(target)} must keep the input's symbolic dimensions ${formatShape(x.shape)}`);
    }
    const inferred = target.indexOf(-1);
    const known = fixedProduct(target.filter((d) => d !== -1));
    const have = fixedProduct(x.shape);
    if (inferred >= 0) {
      if (have % known !== 0) throw layerError(node, `cannot reshape ${formatShape(x.shape)} to ${formatShape(target)}`);
      target[inferred] = have / known;
    } else if (known !== have) {
      throw layerError(node, `cannot reshape ${formatShape(x.shape)} to ${formatShape(target)}: element counts differ`);
    }
    shape = target;
  }
  if (node.perm) {
    const perm = node.perm;
    const ok = perm.length === shape.length && [...perm].sort((a, b) => a - b).every((p, i) => p === i);
    if (!ok) throw layerError(node, `perm [${perm.join(', ')}] is not a permutation of rank ${shape.length}`);
    shape = perm.map((p) => shape[p]!);
  }
  return [tensorType(x.dtype, shape)];
};
