import { expectInputs, type InferFn, layerError, type NodeBase, normAxis } from '../node-base.js';
import { type Dim, tensorType } from '../tensor-type.js';

/** Splits one axis into consecutive parts of the given sizes (a slice per output). */
export interface SplitNode extends NodeBase<'Split'> {
  readonly axis: number;
  readonly sizes: readonly number[];
}

export const inferSplit: InferFn<SplitNode> = (node, inputs) => {
  expectInputs(node, inputs, 1);
  const x = inputs[0]!;
  const axis = normAxis(node, node.axis, x.shape.length);
  const total = node.sizes.reduce((a, b) => a + b, 0);
  if (x.shape[axis] !== total || node.sizes.some((s) => !(s > 0))) {
    throw layerError(node, `sizes [${node.sizes.join(', ')}] must be positive and sum to dimension ${axis} (${x.shape[axis]})`);
  }
  return node.sizes.map((s) => {
    const shape: Dim[] = [...x.shape];
    shape[axis] = s;
    return tensorType(x.dtype, shape);
  });
};
