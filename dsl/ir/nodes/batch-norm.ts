import { isFloat } from '../../../common/dtype.js';
import { expectInputs, type InferFn, layerError, type NodeBase } from '../node-base.js';
import type { ParamRef } from '../param.js';

/** Inference-mode batch normalisation over axis 1 (folded into the convolution by a pass). */
export interface BatchNormNode extends NodeBase<'BatchNorm'> {
  readonly eps: number;
  readonly gamma: ParamRef;
  readonly beta: ParamRef;
  readonly mean: ParamRef;
  readonly var: ParamRef;
}

export const inferBatchNorm: InferFn<BatchNormNode> = (node, inputs) => {
  expectInputs(node, inputs, 1);
  const x = inputs[0]!;
  if (x.shape.length < 2 || !isFloat(x.dtype)) throw layerError(node, `expects a float input of rank >= 2, found ${x.dtype}[${x.shape.join(', ')}]`);
  const c = x.shape[1];
  for (const p of [node.gamma, node.beta, node.mean, node.var]) {
    if (p.shape.length !== 1 || p.shape[0] !== c) {
      throw layerError(node, `input has ${c} channels, so '${p.name}' must be [${c}], found [${p.shape.join(', ')}]`);
    }
  }
  return [x];
};
