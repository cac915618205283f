import type { HostTensor } from '../../../common/host-tensor.js';
import type { InferFn, NodeBase } from '../node-base.js';
import { tensorType } from '../tensor-type.js';

/** A value computed when the graph is defined (anchor points, strides). */
export interface ConstantNode extends NodeBase<'Constant'> {
  readonly value: HostTensor;
}

export const inferConstant: InferFn<ConstantNode> = (node) => [tensorType(node.value.dtype, node.value.shape)];
