import { isFloat } from '../../../common/dtype.js';
import { expectInputs, expectRank, type InferFn, layerError, type NodeBase } from '../node-base.js';
import type { BnFold, ParamRef } from '../param.js';
import { tensorType } from '../tensor-type.js';
import type { ActivationOp } from './activation.js';

/**
 * 2-D convolution, NCHW, weights [outChannels, inChannels/groups, kh, kw]. After the batch-norm
 * folding pass, `fold` names the statistics folded in and `bias` names the folded bias (which the
 * weight file does not hold: it is computed when weights are bound). `activation` is a fused
 * activation applied to the output.
 */
export interface ConvolutionNode extends NodeBase<'Convolution'> {
  readonly outChannels: number;
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  /** [top, left, bottom, right] */
  readonly padding: readonly [number, number, number, number];
  readonly dilation: readonly [number, number];
  readonly groups: number;
  readonly weight: ParamRef;
  readonly bias: ParamRef | null;
  readonly fold: BnFold | null;
  readonly activation: ActivationOp | null;
  /**
   * An int8 convolution (set by the int8 pass, dsl/passes/quantize-int8.ts): the input is int8
   * quantized with `inputScale`, the weights int8 per output channel (their scales computed from
   * the weights when they are bound, weights/quantize.ts), the products accumulated in int32 and
   * rescaled to float32 (acc · inputScale · weightScale[k] + bias[k]) before the activation.
   */
  readonly quant?: ConvQuantization;
}

export interface ConvQuantization {
  /** The scale of the int8 input: x ≈ q · inputScale. */
  readonly inputScale: number;
}

export function convOutputSize(size: number, k: number, s: number, padBefore: number, padAfter: number, dilation: number): number {
  return Math.floor((size + padBefore + padAfter - dilation * (k - 1) - 1) / s) + 1;
}

export const inferConvolution: InferFn<ConvolutionNode> = (node, inputs) => {
  expectInputs(node, inputs, 1);
  const x = inputs[0]!;
  expectRank(node, x, 4);
  if (node.quant) {
    if (x.dtype !== 'int8') throw layerError(node, `is an int8 convolution, so its input must be int8, found ${x.dtype}`);
    if (!(node.quant.inputScale > 0) || !Number.isFinite(node.quant.inputScale)) throw layerError(node, `input scale ${node.quant.inputScale} must be a positive finite number`);
  } else if (!isFloat(x.dtype)) {
    throw layerError(node, `expects a float input, found ${x.dtype}`);
  }
  const [n, c, h, w] = x.shape;
  if (typeof c !== 'number' || typeof h !== 'number' || typeof w !== 'number') {
    throw layerError(node, `channels and spatial size must be fixed, found [${x.shape.join(', ')}]`);
  }
  const [kh, kw] = node.kernel;
  const { groups, outChannels } = node;
  if (c % groups !== 0 || outChannels % groups !== 0) {
    throw layerError(node, `channels ${c} -> ${outChannels} are not divisible by groups ${groups}`);
  }
  const expected = [outChannels, c / groups, kh, kw];
  const found = node.weight.shape;
  if (found.length !== 4 || found.some((d, i) => d !== expected[i])) {
    throw layerError(node, `input has ${c} channels, so weight '${node.weight.name}' must be [${expected.join(', ')}], found [${found.join(', ')}]`);
  }
  if (node.bias && (node.bias.shape.length !== 1 || node.bias.shape[0] !== outChannels)) {
    throw layerError(node, `bias '${node.bias.name}' must be [${outChannels}], found [${node.bias.shape.join(', ')}]`);
  }
  const [pt, pl, pb, pr] = node.padding;
  const oh = convOutputSize(h, kh, node.stride[0], pt, pb, node.dilation[0]);
  const ow = convOutputSize(w, kw, node.stride[1], pl, pr, node.dilation[1]);
  if (oh < 1 || ow < 1) throw layerError(node, `input ${h}x${w} is too small for kernel ${kh}x${kw}`);
  // An int8 convolution yields float32: the int32 sums rescaled (its consumers quantize again).
  return [tensorType(node.quant ? 'float32' : x.dtype, [n!, outChannels, oh, ow])];
};
