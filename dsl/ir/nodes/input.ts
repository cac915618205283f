import type { DType } from '../../../common/dtype.js';
import type { InferFn, NodeBase } from '../node-base.js';
import { type Dim, tensorType } from '../tensor-type.js';

/** A graph input. Its single output tensor carries the input's name. */
export interface InputNode extends NodeBase<'Input'> {
  readonly dtype: DType;
  readonly shape: readonly Dim[];
}

export const inferInput: InferFn<InputNode> = (node) => [tensorType(node.dtype, node.shape)];
