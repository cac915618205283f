import { ErrorCode, NetdefError } from '../../common/errors.js';
import type { Graph } from './graph.js';
import { inferTypes } from './infer.js';
import { formatType, sameType, type TensorValue } from './tensor-type.js';

/**
 * Checks a graph's invariants: unique layer and tensor names, every input produced by an earlier
 * node (so topological order, no cycles), stored types equal to freshly inferred ones, at least one
 * Input and one Output. Throws one error listing every problem found.
 */
export function verifyGraph(g: Graph): Graph {
  const problems: string[] = [];
  const layers = new Set<string>();
  const tensors = new Map<string, TensorValue>();
  for (const node of g.nodes) {
    if (layers.has(node.name)) problems.push(`duplicate layer name '${node.name}'`);
    layers.add(node.name);
    const inputs: TensorValue[] = [];
    for (const name of node.inputs) {
      const t = tensors.get(name);
      if (!t) problems.push(`layer '${node.name}' reads '${name}', which no earlier layer produces`);
      else inputs.push(t);
    }
    if (inputs.length === node.inputs.length) {
      try {
        const types = inferTypes(node, inputs.map((t) => t.type));
        if (types.length !== node.outputs.length || types.some((t, i) => !sameType(t, node.outputs[i]!.type))) {
          problems.push(`layer '${node.name}' has stale output types [${node.outputs.map((o) => formatType(o.type)).join(', ')}], inferred [${types.map(formatType).join(', ')}]`);
        }
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
    for (const o of node.outputs) {
      if (tensors.has(o.name)) problems.push(`tensor '${o.name}' is produced twice`);
      tensors.set(o.name, o);
    }
  }
  if (!g.nodes.some((n) => n.kind === 'Input')) problems.push('the graph has no Input');
  if (!g.nodes.some((n) => n.kind === 'Output')) problems.push('the graph has no Output');
  if (problems.length > 0) {
    throw new NetdefError(ErrorCode.GraphInvalid, `graph '${g.name}' is invalid:\n  ${problems.join('\n  ')}`, { details: problems });
  }
  return g;
}
