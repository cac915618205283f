import type { ActivationNode } from './nodes/activation.js';
import type { BatchNormNode } from './nodes/batch-norm.js';
import type { CastNode } from './nodes/cast.js';
import type { ConcatNode } from './nodes/concat.js';
import type { ConstantNode } from './nodes/constant.js';
import type { ConvolutionNode } from './nodes/convolution.js';
import type { ElementWiseNode } from './nodes/element-wise.js';
import type { InputNode } from './nodes/input.js';
import type { MatMulNode } from './nodes/mat-mul.js';
import type { NmsNode } from './nodes/nms.js';
import type { OutputNode } from './nodes/output.js';
import type { PoolingNode } from './nodes/pooling.js';
import type { DequantizeNode, QuantizeNode } from './nodes/quantization.js';
import type { ResizeNode } from './nodes/resize.js';
import type { ShuffleNode } from './nodes/shuffle.js';
import type { SoftmaxNode } from './nodes/softmax.js';
import type { SplitNode } from './nodes/split.js';

/** The closed union of IR node kinds. Adding one fails to compile until every handler table covers it. */
export type IrNode =
  | InputNode
  | OutputNode
  | ConstantNode
  | ConvolutionNode
  | BatchNormNode
  | ActivationNode
  | ElementWiseNode
  | ConcatNode
  | SplitNode
  | PoolingNode
  | ResizeNode
  | ShuffleNode
  | SoftmaxNode
  | MatMulNode
  | CastNode
  | QuantizeNode
  | DequantizeNode
  | NmsNode;

export type NodeKind = IrNode['kind'];

/** A node's own fields without its wiring (inputs, outputs): what a DSL call specifies. */
export type NodeSpec = IrNode extends infer N ? (N extends IrNode ? Omit<N, 'inputs' | 'outputs'> : never) : never;
export type NodeOfKind<K extends NodeKind> = Extract<IrNode, { kind: K }>;

/** A table with one handler per node kind: the way passes and backends dispatch. */
export type KindTable<R> = { readonly [K in NodeKind]: (node: NodeOfKind<K>) => R };

export function dispatch<R>(table: KindTable<R>, node: IrNode): R {
  return (table[node.kind] as (n: IrNode) => R)(node);
}

export type { ActivationNode, BatchNormNode, CastNode, ConcatNode, ConstantNode, ConvolutionNode, DequantizeNode, ElementWiseNode, InputNode, MatMulNode, NmsNode, OutputNode, PoolingNode, QuantizeNode, ResizeNode, ShuffleNode, SoftmaxNode, SplitNode };
