import type { DType } from '../../../common/dtype.js';
import { expectInputs, type InferFn, type NodeBase } from '../node-base.js';
import { tensorType } from '../tensor-type.js';

/** A real conversion of the element type (fp32 <-> fp16, ...). */
export interface CastNode extends NodeBase<'Cast'> {
  readonly to: DType;
}

export const inferCast: InferFn<CastNode> = (node, inputs) => {
  expectInputs(node, inputs, 1);
  return [tensorType(node.to, inputs[0]!.shape)];
};
