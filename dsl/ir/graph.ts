import type { IrNode } from './node.js';
import type { InputNode, OutputNode } from './node.js';
import type { TensorValue } from './tensor-type.js';

/** What a detection graph says about itself (carried into weight files and engines). */
export interface GraphMeta {
  readonly model: string;
  readonly task?: 'detect';
  readonly nc?: number;
  readonly names?: readonly string[];
  readonly strides?: readonly number[];
  readonly imgsz?: readonly [number, number];
  readonly scale?: string;
}

/** A graph: nodes in topological order (each input produced by an earlier node). Immutable. */
export interface Graph {
  readonly name: string;
  readonly nodes: readonly IrNode[];
  readonly meta: GraphMeta;
}

export function makeGraph(name: string, nodes: readonly IrNode[], meta: GraphMeta): Graph {
  return Object.freeze({ name, nodes: Object.freeze([...nodes]), meta: Object.freeze({ ...meta }) });
}

export function graphInputs(g: Graph): InputNode[] {
  return g.nodes.filter((n): n is InputNode => n.kind === 'Input');
}

export function graphOutputs(g: Graph): OutputNode[] {
  return g.nodes.filter((n): n is OutputNode => n.kind === 'Output');
}

/** Every tensor in the graph by name. */
export function tensorIndex(g: Graph): Map<string, TensorValue> {
  const map = new Map<string, TensorValue>();
  for (const n of g.nodes) for (const o of n.outputs) map.set(o.name, o);
  return map;
}

/** The node producing each tensor. */
export function producerIndex(g: Graph): Map<string, IrNode> {
  const map = new Map<string, IrNode>();
  for (const n of g.nodes) for (const o of n.outputs) map.set(o.name, n);
  return map;
}

/** The nodes reading each tensor. */
export function consumerIndex(g: Graph): Map<string, IrNode[]> {
  const map = new Map<string, IrNode[]>();
  for (const n of g.nodes) for (const i of n.inputs) map.set(i, [...(map.get(i) ?? []), n]);
  return map;
}
