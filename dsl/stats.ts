/**
 * Size and cost of a graph: parameters (what the graph's layers hold after the passes run, so a
 * folded graph counts each convolution's weight and bias, as Ultralytics' fused model does) and
 * GFLOPs counted as Ultralytics counts them (thop's `profile`, then × 2): the multiply-accumulates
 * of convolutions (bias not counted) and matrix products, plus one op per output element of a
 * nearest upsample (thop's `count_upsample`); activations, pooling, concatenation and the Detect
 * head's arithmetic outside modules count zero. This reproduces Ultralytics' published figures.
 */
import { numel } from '../common/host-tensor.js';
import { type Graph, tensorIndex } from './ir/graph.js';
import { dispatch, type IrNode, type KindTable } from './ir/node.js';
import type { Dim, TensorValue } from './ir/tensor-type.js';

const zero = (): number => 0;

function fixed(shape: readonly Dim[], batch: number): number[] {
  return shape.map((d) => (typeof d === 'number' ? d : batch));
}

export function nodeParams(node: IrNode): number {
  const table: KindTable<number> = {
    Input: zero, Output: zero, Constant: zero, Activation: zero, ElementWise: zero, Concat: zero, Split: zero,
    Pooling: zero, Resize: zero, Shuffle: zero, Softmax: zero, MatMul: zero, Cast: zero, Quantize: zero, Dequantize: zero, NMS: zero,
    Convolution: (n) => numel(n.weight.shape) + (n.bias ? n.outChannels : 0),
    BatchNorm: (n) => 2 * n.gamma.shape[0]!,
  };
  return dispatch(table, node);
}

/** Multiply-accumulates of one node at the given batch size (`input` looks up its input tensors). */
export function nodeMacs(node: IrNode, input: (name: string) => TensorValue, batch = 1): number {
  const table: KindTable<number> = {
    Input: zero, Output: zero, Constant: zero, Activation: zero, ElementWise: zero, Concat: zero, Split: zero,
    Pooling: zero, Shuffle: zero, Softmax: zero, Cast: zero, Quantize: zero, Dequantize: zero, NMS: zero, BatchNorm: zero,
    Resize: (n) => numel(fixed(n.outputs[0]!.type.shape, batch)),
    Convolution: (n) => numel(fixed(n.outputs[0]!.type.shape, batch)) * numel(n.weight.shape.slice(1)),
    MatMul: (n) => {
      const k = input(n.inputs[0]!).type.shape.at(-1);
      return numel(fixed(n.outputs[0]!.type.shape, batch)) * (typeof k === 'number' ? k : batch);
    },
  };
  return dispatch(table, node);
}

export interface GraphStats {
  readonly layers: number;
  readonly parameters: number;
  readonly gflops: number;
}

export function graphStats(g: Graph, batch = 1): GraphStats {
  const layers = g.nodes.filter((n) => n.kind !== 'Input' && n.kind !== 'Output' && n.kind !== 'Constant').length;
  const parameters = g.nodes.reduce((a, n) => a + nodeParams(n), 0);
  const tensors = tensorIndex(g);
  const macs = g.nodes.reduce((a, n) => a + nodeMacs(n, (name) => tensors.get(name)!, batch), 0);
  const FLOPS_PER_MAC = 2;
  return { layers, parameters, gflops: (FLOPS_PER_MAC * macs) / 1e9 };
}
