import { expectInputs, type InferFn, layerError, type NodeBase } from '../node-base.js';
import { formatType, tensorType } from '../tensor-type.js';
import { broadcastShapes } from './broadcast.js';

/** Matrix product over the last two axes, batch axes broadcast (rank >= 2 both). */
export type MatMulNode = NodeBase<'MatMul'>;

export const inferMatMul: InferFn<MatMulNode> = (node, inputs) => {
  expectInputs(node, inputs, 2);
  const [a, b] = [inputs[0]!, inputs[1]!];
  if (a.dtype !== b.dtype || a.shape.length < 2 || b.shape.length < 2) {
    throw layerError(node, `expects two rank>=2 inputs of one dtype, found ${formatType(a)} and ${formatType(b)}`);
  }
  const [m, k1] = a.shape.slice(-2);
  const [k2, n] = b.shape.slice(-2);
  if (k1 !== k2) throw layerError(node, `inner dimensions differ: ${formatType(a)} x ${formatType(b)}`);
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  if (!batch) throw layerError(node, `batch dimensions of ${formatType(a)} and ${formatType(b)} do not broadcast`);
  return [tensorType(a.dtype, [...batch, m!, n!])];
};
