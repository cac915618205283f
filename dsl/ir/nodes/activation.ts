import { isFloat } from '../../../common/dtype.js';
import { expectInputs, type InferFn, layerError, type NodeBase } from '../node-base.js';

export const ACTIVATIONS = ['silu', 'sigmoid', 'relu'] as const;
export type ActivationOp = (typeof ACTIVATIONS)[number];

export interface ActivationNode extends NodeBase<'Activation'> {
  readonly op: ActivationOp;
}

export const inferActivation: InferFn<ActivationNode> = (node, inputs) => {
  expectInputs(node, inputs, 1);
  const x = inputs[0]!;
  if (!isFloat(x.dtype)) throw layerError(node, `expects a float input, found ${x.dtype}`);
  return [x];
};
