import { ErrorCode, NetdefError } from '../../common/errors.js';
import type { TensorType, TensorValue } from './tensor-type.js';

/** Fields every node has. `inputs` are tensor names; `outputs` carry inferred types. */
export interface NodeBase<K extends string> {
  readonly kind: K;
  /** The layer name, as Ultralytics' ONNX export writes it (`/model.0/conv/Conv`). */
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly TensorValue[];
}

/** A node's own fields, before its outputs are inferred. */
export type NodeFields<N extends NodeBase<string>> = Omit<N, 'outputs'>;

/** Shape/type inference: the output types of a node given its input types; throws on mistakes. */
export type InferFn<N extends NodeBase<string>> = (node: NodeFields<N>, inputs: readonly TensorType[]) => TensorType[];

/** An error raised while inferring or checking a node, naming the layer and its kind. */
export function layerError(node: { name: string; kind: string }, message: string): NetdefError {
  return new NetdefError(ErrorCode.DslShape, `${node.kind} layer '${node.name}': ${message}`, {
    details: { layer: node.name, kind: node.kind },
  });
}

export function expectInputs(node: { name: string; kind: string }, inputs: readonly TensorType[], count: number): void {
  if (inputs.length !== count) throw layerError(node, `expects ${count} input(s), got ${inputs.length}`);
}

export function expectRank(node: { name: string; kind: string }, t: TensorType, rank: number, what = 'input'): void {
  if (t.shape.length !== rank) {
    throw layerError(node, `${what} must have rank ${rank}, found [${t.shape.join(', ')}]`);
  }
}

export function normAxis(node: { name: string; kind: string }, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw layerError(node, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}
