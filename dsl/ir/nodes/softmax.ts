import { isFloat } from '../../../common/dtype.js';
import { expectInputs, type InferFn, layerError, type NodeBase, normAxis } from '../node-base.js';

export interface SoftmaxNode extends NodeBase<'Softmax'> {
  readonly axis: number;
}

export const inferSoftmax: InferFn<SoftmaxNode> = (node, inputs) => {
  expectInputs(node, inputs, 1);
  const x = inputs[0]!;
  if (!isFloat(x.dtype)) throw layerError(node, `expects a float input, found ${x.dtype}`);
  normAxis(node, node.axis, x.shape.length);
  return [x];
};
