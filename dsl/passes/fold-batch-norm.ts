/**
 * Folds each BatchNorm that directly follows a Convolution (and is its only reader) into it:
 * the convolution records the statistics (`fold`) and gains a bias named `<conv>.bias`, as
 * Ultralytics' `fuse_conv_and_bn` does; the numbers are computed when weights are bound.
 */
import type { Graph } from '../ir/graph.js';
import { consumerIndex, producerIndex } from '../ir/graph.js';
import type { BatchNormNode, ConvolutionNode } from '../ir/node.js';
import { paramRef } from '../ir/param.js';
import { rewriteGraph } from './rewrite.js';

function foldable(bn: BatchNormNode, producers: Map<string, unknown>, readers: Map<string, unknown[]>): ConvolutionNode | null {
  const conv = producers.get(bn.inputs[0]!) as ConvolutionNode | undefined;
  if (!conv || conv.kind !== 'Convolution' || conv.fold || conv.activation) return null;
  return readers.get(conv.outputs[0]!.name)?.length === 1 ? conv : null;
}

export function foldBatchNorm(g: Graph): Graph {
  const producers = producerIndex(g);
  const readers = consumerIndex(g);
  const folded = new Map<string, BatchNormNode>();
  for (const n of g.nodes) {
    if (n.kind === 'BatchNorm') {
      const conv = foldable(n, producers, readers);
      if (conv) folded.set(conv.name, n);
    }
  }
  if (folded.size === 0) return g;
  const foldedNames = new Set([...folded.values()].map((bn) => bn.name));
  return rewriteGraph(g, (node, ctx) => {
    if (node.kind === 'Convolution' && folded.has(node.name)) {
      const bn = folded.get(node.name)!;
      const prefix = node.weight.name.replace(/\.weight$/, '');
      const conv = ctx.remake(node, [ctx.value(node.inputs[0]!)], {
        fold: { gamma: bn.gamma, beta: bn.beta, mean: bn.mean, var: bn.var, eps: bn.eps, convBias: node.bias },
        bias: paramRef(`${prefix}.bias`, [node.outChannels], 'conv.bias'),
      });
      ctx.replace(bn.outputs[0]!.name, conv.outputs[0]!.name);
      return conv;
    }
    if (node.kind === 'BatchNorm' && foldedNames.has(node.name)) return [];
    return node;
  });
}
