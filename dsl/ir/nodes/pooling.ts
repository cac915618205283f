import { isFloat } from '../../../common/dtype.js';
import { expectInputs, expectRank, type InferFn, layerError, type NodeBase } from '../node-base.js';
import { tensorType } from '../tensor-type.js';
import { convOutputSize } from './convolution.js';

export type PoolingOp = 'max' | 'average';

/** 2-D pooling, NCHW; padding [top, left, bottom, right] (padded cells never win a max). */
export interface PoolingNode extends NodeBase<'Pooling'> {
  readonly op: PoolingOp;
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number, number, number];
}

export const inferPooling: InferFn<PoolingNode> = (node, inputs) => {
  expectInputs(node, inputs, 1);
  const x = inputs[0]!;
  expectRank(node, x, 4);
  // Max pooling commutes with quantization, so it may run on int8; averaging needs floats.
  if (!isFloat(x.dtype) && !(node.op === 'max' && x.dtype === 'int8')) throw layerError(node, `${node.op} pooling cannot take ${x.dtype}`);
  const [n, c, h, w] = x.shape;
  if (typeof h !== 'number' || typeof w !== 'number') throw layerError(node, 'spatial size must be fixed');
  const [pt, pl, pb, pr] = node.padding;
  const oh = convOutputSize(h, node.kernel[0], node.stride[0], pt, pb, 1);
  const ow = convOutputSize(w, node.kernel[1], node.stride[1], pl, pr, 1);
  if (oh < 1 || ow < 1) throw layerError(node, `input ${h}x${w} is too small for kernel ${node.kernel.join('x')}`);
  return [tensorType(x.dtype, [n!, c!, oh, ow])];
};
