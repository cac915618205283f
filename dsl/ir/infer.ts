import type { InferFn, NodeFields } from './node-base.js';
import type { IrNode, NodeKind, NodeOfKind } from './node.js';
import { inferActivation } from './nodes/activation.js';
import { inferBatchNorm } from './nodes/batch-norm.js';
import { inferCast } from './nodes/cast.js';
import { inferConcat } from './nodes/concat.js';
import { inferConstant } from './nodes/constant.js';
import { inferConvolution } from './nodes/convolution.js';
import { inferElementWise } from './nodes/element-wise.js';
import { inferInput } from './nodes/input.js';
import { inferMatMul } from './nodes/mat-mul.js';
import { inferNms } from './nodes/nms.js';
import { inferOutput } from './nodes/output.js';
import { inferPooling } from './nodes/pooling.js';
import { inferDequantize, inferQuantize } from './nodes/quantization.js';
import { inferResize } from './nodes/resize.js';
import { inferShuffle } from './nodes/shuffle.js';
import { inferSoftmax } from './nodes/softmax.js';
import { inferSplit } from './nodes/split.js';
import type { TensorType, TensorValue } from './tensor-type.js';

const INFER: { readonly [K in NodeKind]: InferFn<NodeOfKind<K>> } = {
  Input: inferInput,
  Output: inferOutput,
  Constant: inferConstant,
  Convolution: inferConvolution,
  BatchNorm: inferBatchNorm,
  Activation: inferActivation,
  ElementWise: inferElementWise,
  Concat: inferConcat,
  Split: inferSplit,
  Pooling: inferPooling,
  Resize: inferResize,
  Shuffle: inferShuffle,
  Softmax: inferSoftmax,
  MatMul: inferMatMul,
  Cast: inferCast,
  Quantize: inferQuantize,
  Dequantize: inferDequantize,
  NMS: inferNms,
};

export function inferTypes(fields: NodeFields<IrNode>, inputs: readonly TensorType[]): TensorType[] {
  return (INFER[fields.kind] as InferFn<IrNode>)(fields, inputs);
}

/** Output tensor names: the layer name with `_output_i`, as ONNX exporters write them; an Output node's tensor is its own name. */
export function outputNames(fields: NodeFields<IrNode>, count: number): string[] {
  if (fields.kind === 'Input' || fields.kind === 'Output') return [fields.name];
  return Array.from({ length: count }, (_, i) => `${fields.name}_output_${i}`);
}

/** The one factory: infers output types from the inputs and freezes the node. */
export function makeNode<N extends IrNode>(fields: NodeFields<N>, inputs: readonly TensorValue[]): N {
  const types = inferTypes(fields as NodeFields<IrNode>, inputs.map((v) => v.type));
  const names = outputNames(fields as NodeFields<IrNode>, types.length);
  const outputs = Object.freeze(types.map((type, i) => Object.freeze({ name: names[i]!, type })));
  return Object.freeze({ ...fields, inputs: Object.freeze(inputs.map((v) => v.name)), outputs }) as N;
}
