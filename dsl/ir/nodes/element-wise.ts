import { expectInputs, type InferFn, layerError, type NodeBase } from '../node-base.js';
import { formatType, tensorType } from '../tensor-type.js';
import { broadcastShapes } from './broadcast.js';

export const ELEMENTWISE_OPS = ['add', 'sub', 'mul', 'div', 'max', 'min'] as const;
export type ElementWiseOp = (typeof ELEMENTWISE_OPS)[number];

/** A binary operation with NumPy broadcasting; both inputs share one dtype. */
export interface ElementWiseNode extends NodeBase<'ElementWise'> {
  readonly op: ElementWiseOp;
}

export const inferElementWise: InferFn<ElementWiseNode> = (node, inputs) => {
  expectInputs(node, inputs, 2);
  const [a, b] = inputs as [typeof inputs[0] & object, typeof inputs[0] & object];
  if (a.dtype !== b.dtype) throw layerError(node, `inputs must share a dtype, found ${formatType(a)} and ${formatType(b)}`);
  const shape = broadcastShapes(a.shape, b.shape);
  if (!shape) throw layerError(node, `shapes ${formatType(a)} and ${formatType(b)} do not broadcast`);
  return [tensorType(a.dtype, shape)];
};
