/**
 * Random weights for a graph (for inspection and speed measurements when no checkpoint is
 * given): convolution weights and biases uniform in ±1/√fan_in as PyTorch initialises them,
 * batch-norm statistics at their identity values; fixed parameters keep their `init` values.
 * Deterministic for a seed.
 */
import { fromFloat32, type HostTensor, numel } from '../common/host-tensor.js';
import { seededRandom } from '../common/random.js';
import type { Graph } from '../dsl/ir/graph.js';
import type { ParamRef } from '../dsl/ir/param.js';
import { storedParams } from './bind.js';
import type { WeightStore } from './store.js';

function fill(p: ParamRef, fanIn: number, next: () => number): HostTensor {
  const values = new Float32Array(numel(p.shape));
  const bound = 1 / Math.sqrt(Math.max(fanIn, 1));
  switch (p.role) {
    case 'conv.weight': case 'conv.bias':
      for (let i = 0; i < values.length; i++) values[i] = (2 * next() - 1) * bound;
      break;
    case 'bn.weight': case 'bn.var': values.fill(1); break;
    case 'bn.bias': case 'bn.mean': values.fill(0); break;
  }
  return fromFloat32(values, p.shape);
}

export function randomWeights(g: Graph, seed = 0): WeightStore {
  const next = seededRandom(seed);
  const tensors = new Map<string, HostTensor>();
  const fanIn = new Map<string, number>();
  for (const n of g.nodes) {
    if (n.kind !== 'Convolution') continue;
    const fan = numel(n.weight.shape.slice(1));
    fanIn.set(n.weight.name, fan);
    if (n.bias) fanIn.set(n.bias.name, fan);
    if (n.fold?.convBias) fanIn.set(n.fold.convBias.name, fan);
  }
  for (const [name, p] of storedParams(g)) tensors.set(name, p.init ?? fill(p, fanIn.get(name) ?? 1, next));
  return {
    tensors,
    info: { ...(g.meta.scale ? { scale: g.meta.scale } : {}), ...(g.meta.nc ? { nc: g.meta.nc } : {}), ...(g.meta.names ? { names: g.meta.names } : {}) },
    source: { path: `random(seed=${seed})`, format: 'random' },
  };
}
