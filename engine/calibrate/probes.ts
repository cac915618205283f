/**
 * Which tensors calibration measures and how it sees them: every tensor the int8 pass may quantize
 * (the input of each convolution, and the inputs and outputs of the layers that can move int8 data:
 * max pooling, nearest resize, split, concat), made visible as extra graph outputs ("probes"), so
 * any backend that runs the graph can collect them. The graph's structure digest ties a calibration
 * to the graph it was made for.
 */
import { createHash } from 'node:crypto';
import type { Graph } from '../../dsl/ir/graph.js';
import { makeGraph } from '../../dsl/ir/graph.js';
import { makeNode } from '../../dsl/ir/infer.js';
import type { OutputNode } from '../../dsl/ir/node.js';
import { movesData, PREPROCESS_SCOPE } from '../../dsl/quantize/int8-regions.js';

/** The prefix of a probe output's name (`calibrate:<tensor>`). */
export const PROBE_PREFIX = 'calibrate:';

/** The float tensors of `graph` (fp32, batch norms folded) that an int8 policy may quantize, in graph order. */
export function calibrationTensors(graph: Graph): string[] {
  const floatTensors = new Map(graph.nodes.flatMap((n) => n.outputs).map((o) => [o.name, o.type.dtype === 'float32']));
  const names = new Set<string>();
  for (const n of graph.nodes) {
    if (n.kind === 'Convolution') names.add(n.inputs[0]!);
    else if (movesData(n)) for (const t of [...n.inputs, ...n.outputs.map((o) => o.name)]) names.add(t);
  }
  return [...names].filter((t) => floatTensors.get(t));
}

/** `graph` with one more Output per tensor, named PROBE_PREFIX + tensor. */
export function withProbes(graph: Graph, tensors: readonly string[]): Graph {
  const values = new Map(graph.nodes.flatMap((n) => n.outputs).map((o) => [o.name, o]));
  const probes = tensors.map((t) => makeNode<OutputNode>({ kind: 'Output', name: `${PROBE_PREFIX}${t}`, inputs: [] }, [values.get(t)!]));
  return makeGraph(graph.name, [...graph.nodes, ...probes], graph.meta);
}

/**
 * sha256 of the graph's structure: each layer's kind, name, inputs and outputs, and the class
 * count. Input size and batch are left out (activation ranges do not depend on them), and so are
 * precisions (calibration runs in fp32 and serves every policy) and a uint8 input's scaling layers
 * (their output is the float32 input's values): the uint8 input's first layers read `images`.
 */
export function graphDigest(graph: Graph): string {
  const scaled = new Map<string, string>();
  for (const n of graph.nodes) if (n.name.startsWith(PREPROCESS_SCOPE)) for (const o of n.outputs) scaled.set(o.name, scaled.get(n.inputs[0] ?? '') ?? n.inputs[0] ?? o.name);
  const name = (t: string): string => scaled.get(t) ?? t;
  const structure = graph.nodes.filter((n) => !n.name.startsWith(PREPROCESS_SCOPE))
    .map((n) => [n.kind, n.name, n.inputs.map(name), n.outputs.map((o) => o.name)]);
  return createHash('sha256').update(JSON.stringify({ name: graph.name, nc: graph.meta.nc ?? null, structure })).digest('hex');
}
