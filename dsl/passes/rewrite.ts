/**
 * The walk every pass shares: visits nodes in order, renames inputs that earlier rewrites replaced,
 * and lets the pass return replacement nodes. Returns the same graph object when nothing changed.
 */
import { type Graph, makeGraph } from '../ir/graph.js';
import { makeNode } from '../ir/infer.js';
import type { NodeFields } from '../ir/node-base.js';
import type { IrNode } from '../ir/node.js';
import { sameType, type TensorValue } from '../ir/tensor-type.js';

export interface RewriteContext {
  /** The current value of a tensor (after renames and retyping). */
  value(name: string): TensorValue;
  /** Makes later readers of tensor `from` read `to` instead. */
  replace(from: string, to: string): void;
  /** Re-creates a node on new inputs, inferring its outputs again. */
  remake<N extends IrNode>(node: N, inputs: readonly TensorValue[], changes?: Partial<NodeFields<N>>): N;
}

/** Returns the nodes that stand for `node` (itself, replacements, or none to drop it). */
export type Rewriter = (node: IrNode, ctx: RewriteContext) => IrNode | readonly IrNode[];

export function rewriteGraph(g: Graph, rewrite: Rewriter): Graph {
  const values = new Map<string, TensorValue>();
  const renames = new Map<string, string>();
  const resolve = (name: string): string => renames.get(name) ?? name;
  let changed = false;
  const ctx: RewriteContext = {
    value: (name) => {
      const v = values.get(resolve(name));
      if (!v) throw new Error(`rewrite: tensor '${name}' is not defined yet`);
      return v;
    },
    replace: (from, to) => { renames.set(from, resolve(to)); changed = true; },
    remake: (node, inputs, changes) => {
      const made = makeNode({ ...node, ...changes } as NodeFields<typeof node>, inputs);
      const same = !changes && made.inputs.every((n, i) => n === node.inputs[i])
        && made.outputs.every((o, i) => sameType(o.type, node.outputs[i]!.type));
      return same ? node : made;
    },
  };
  const out: IrNode[] = [];
  for (const original of g.nodes) {
    const renamed = original.inputs.some((i) => renames.has(i));
    const node = renamed
      ? (Object.freeze({ ...original, inputs: Object.freeze(original.inputs.map(resolve)) }) as IrNode)
      : original;
    const result = rewrite(node, ctx);
    const list = Array.isArray(result) ? result : [result as IrNode];
    if (renamed || list.length !== 1 || list[0] !== original) changed = true;
    for (const n of list) {
      out.push(n);
      for (const o of n.outputs) values.set(o.name, o);
    }
  }
  return changed ? makeGraph(g.name, out, g.meta) : g;
}
