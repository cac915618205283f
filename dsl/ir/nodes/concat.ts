import { type InferFn, layerError, type NodeBase, normAxis } from '../node-base.js';
import { type Dim, formatType, tensorType } from '../tensor-type.js';

/** Concatenation along one axis; all other dimensions and the dtype must agree. */
export interface ConcatNode extends NodeBase<'Concat'> {
  readonly axis: number;
}

export const inferConcat: InferFn<ConcatNode> = (node, inputs) => {
  if (inputs.length < 1) throw layerError(node, 'expects at least one input');
  const first = inputs[0]!;
  const rank = first.shape.length;
  const axis = normAxis(node, node.axis, rank);
  let total = 0;
  inputs.forEach((t, i) => {
    if (t.dtype !== first.dtype || t.shape.length !== rank || t.shape.some((d, k) => k !== axis && d !== first.shape[k])) {
      throw layerError(node, `input ${i} ${formatType(t)} cannot be concatenated on axis ${axis} with input 0 ${formatType(first)}`);
    }
    const d = t.shape[axis];
    if (typeof d !== 'number') throw layerError(node, `concatenation axis ${axis} must be fixed, found '${d}'`);
    total += d;
  });
  const shape: Dim[] = [...first.shape];
  shape[axis] = total;
  return [tensorType(first.dtype, shape)];
};
