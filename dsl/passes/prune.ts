/** Removes nodes whose outputs nobody reads (Inputs and Outputs always stay). */
import type { Graph } from '../ir/graph.js';
import { makeGraph } from '../ir/graph.js';
import type { IrNode } from '../ir/node.js';

export function pruneUnused(g: Graph): Graph {
  const read = new Set<string>();
  const keep: IrNode[] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    const live = n.kind === 'Input' || n.kind === 'Output' || n.outputs.some((o) => read.has(o.name));
    if (!live) continue;
    keep.push(n);
    for (const input of n.inputs) read.add(input);
  }
  return keep.length === g.nodes.length ? g : makeGraph(g.name, keep.reverse(), g.meta);
}
