import { expectInputs, type InferFn, type NodeBase } from '../node-base.js';

/** Marks a tensor as a graph output under the node's name (`output0`). */
export type OutputNode = NodeBase<'Output'>;

export const inferOutput: InferFn<OutputNode> = (node, inputs) => {
  expectInputs(node, inputs, 1);
  return [inputs[0]!];
};
