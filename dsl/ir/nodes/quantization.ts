import { isFloat } from '../../../common/dtype.js';
import { expectInputs, type InferFn, layerError, type NodeBase, normAxis } from '../node-base.js';
import { type TensorType, tensorType } from '../tensor-type.js';

/**
 * Scales of a Q/DQ pair: one per tensor (`axis` null, one scale) or one per channel along `axis`.
 * Quantize: q = clamp(round(x / scale), -128, 127); Dequantize: x = q * scale (zero point 0, as
 * TensorRT requires).
 */
interface QuantizationFields {
  readonly scales: readonly number[];
  readonly axis: number | null;
}

export interface QuantizeNode extends NodeBase<'Quantize'>, QuantizationFields {
  readonly to: 'int8';
}

export interface DequantizeNode extends NodeBase<'Dequantize'>, QuantizationFields {
  readonly to: 'float32' | 'float16';
}

function checkScales(node: { name: string; kind: string } & QuantizationFields, x: TensorType): void {
  if (node.scales.length === 0 || node.scales.some((s) => !(s > 0) || !Number.isFinite(s))) {
    throw layerError(node, 'scales must be positive finite numbers');
  }
  if (node.axis === null) {
    if (node.scales.length !== 1) throw layerError(node, `a per-tensor scale is one number, got ${node.scales.length}`);
    return;
  }
  const axis = normAxis(node, node.axis, x.shape.length);
  if (x.shape[axis] !== node.scales.length) {
    throw layerError(node, `${node.scales.length} scales do not match dimension ${axis} (${x.shape[axis]})`);
  }
}

export const inferQuantize: InferFn<QuantizeNode> = (node, inputs) => {
  expectInputs(node, inputs, 1);
  const x = inputs[0]!;
  if (!isFloat(x.dtype)) throw layerError(node, `expects a float input, found ${x.dtype}`);
  checkScales(node, x);
  return [tensorType('int8', x.shape)];
};

export const inferDequantize: InferFn<DequantizeNode> = (node, inputs) => {
  expectInputs(node, inputs, 1);
  const x = inputs[0]!;
  if (x.dtype !== 'int8') throw layerError(node, `expects an int8 input, found ${x.dtype}`);
  checkScales(node, x);
  return [tensorType(node.to, x.shape)];
};
