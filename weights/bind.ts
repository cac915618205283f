/**
 * Binding weights to a graph: which stored tensors a graph expects (by Ultralytics state_dict
 * name, with shapes), a check that lists every mismatch in one error, and materialization of the
 * effective parameters a backend needs (batch-norm folded in, converted to each layer's dtype).
 */
import { isFloat } from '../common/dtype.js';
import { ErrorCode, NetdefError } from '../common/errors.js';
import { fromFloat32, type HostTensor, toFloat32 } from '../common/host-tensor.js';
import type { Graph } from '../dsl/ir/graph.js';
import { type KindTable, dispatch, type ConvolutionNode } from '../dsl/ir/node.js';
import type { ParamRef } from '../dsl/ir/param.js';
import { quantizePerChannel, weightScaleName } from './quantize.js';
import type { WeightStore } from './store.js';

/** Stored tensors that carry no weights (PyTorch's BatchNorm step counter). */
const IGNORED_SUFFIXES = ['.num_batches_tracked'];

const none = (): ParamRef[] => [];
/** The stored parameters each node reads. */
const STORED: KindTable<ParamRef[]> = {
  Input: none, Output: none, Constant: none, Activation: none, ElementWise: none, Concat: none, Split: none,
  Pooling: none, Resize: none, Shuffle: none, Softmax: none, MatMul: none, Cast: none, Quantize: none, Dequantize: none, NMS: none,
  Convolution: (n) => n.fold
    ? [n.weight, n.fold.gamma, n.fold.beta, n.fold.mean, n.fold.var, ...(n.fold.convBias ? [n.fold.convBias] : [])]
    : [n.weight, ...(n.bias ? [n.bias] : [])],
  BatchNorm: (n) => [n.gamma, n.beta, n.mean, n.var],
};

export function storedParams(g: Graph): Map<string, ParamRef> {
  const map = new Map<string, ParamRef>();
  for (const node of g.nodes) for (const p of dispatch(STORED, node)) map.set(p.name, p);
  return map;
}

export interface WeightMismatch {
  readonly name: string;
  readonly problem: 'missing' | 'unexpected' | 'shape' | 'dtype';
  readonly expected?: string;
  readonly found?: string;
}

/** Lists every way the weights do not fit the graph (empty when they fit). */
export function findMismatches(g: Graph, store: WeightStore): WeightMismatch[] {
  const expected = storedParams(g);
  const out: WeightMismatch[] = [];
  for (const [name, p] of expected) {
    const t = store.tensors.get(name);
    if (!t) {
      if (!p.init) out.push({ name, problem: 'missing', expected: `[${p.shape.join(', ')}]` });
      continue;
    }
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      out.push({ name, problem: 'shape', expected: `[${p.shape.join(', ')}]`, found: `[${t.shape.join(', ')}]` });
    } else if (!isFloat(t.dtype)) {
      out.push({ name, problem: 'dtype', expected: 'a float dtype', found: t.dtype });
    }
  }
  for (const name of store.tensors.keys()) {
    if (!expected.has(name) && !IGNORED_SUFFIXES.some((s) => name.endsWith(s))) out.push({ name, problem: 'unexpected' });
  }
  return out;
}

function describe(m: WeightMismatch): string {
  switch (m.problem) {
    case 'missing': return `missing ${m.name} ${m.expected}`;
    case 'unexpected': return `unexpected ${m.name}`;
    default: return `${m.problem} of ${m.name}: expected ${m.expected}, found ${m.found}`;
  }
}

/** Throws one error listing every mismatch (names the weight file and the graph). */
export function checkWeights(g: Graph, store: WeightStore): void {
  const problems = findMismatches(g, store);
  if (problems.length === 0) return;
  const MAX_LISTED = 20;
  const lines = problems.slice(0, MAX_LISTED).map(describe);
  if (problems.length > MAX_LISTED) lines.push(`… and ${problems.length - MAX_LISTED} more`);
  const counts = ['missing', 'unexpected', 'shape', 'dtype'].map((k) => `${problems.filter((p) => p.problem === k).length} ${k}`).join(', ');
  throw new NetdefError(ErrorCode.WeightsMismatch,
    `weights in '${store.source.path}' do not fit graph '${g.name}' (${counts}):\n  ${lines.join('\n  ')}`, { details: problems });
}

function valuesOf(store: WeightStore, p: ParamRef): Float32Array {
  const t = store.tensors.get(p.name) ?? p.init;
  if (!t) throw new NetdefError(ErrorCode.WeightsMismatch, `weight '${p.name}' is missing from '${store.source.path}'`);
  return toFloat32(t);
}

/**
 * Folded weights computed in float32 operation by operation, as Ultralytics' fuse_conv_and_bn does
 * in PyTorch: scale = γ / √(ε + σ²); w' = scale·w; b' = scale·b + (β − γ·μ / √(σ² + ε)).
 */
function foldConvolution(node: ConvolutionNode, store: WeightStore): { weight: Float32Array; bias: Float32Array | null } {
  const w = valuesOf(store, node.weight);
  if (!node.fold) return { weight: w, bias: node.bias ? valuesOf(store, node.bias) : null };
  const f = node.fold;
  const [gamma, beta, mean, variance] = [f.gamma, f.beta, f.mean, f.var].map((p) => valuesOf(store, p)) as Float32Array[];
  const convBias = f.convBias ? valuesOf(store, f.convBias) : null;
  const fr = Math.fround;
  const perOut = w.length / node.outChannels;
  const weight = new Float32Array(w.length);
  const bias = new Float32Array(node.outChannels);
  for (let o = 0; o < node.outChannels; o++) {
    const std = fr(Math.sqrt(fr(fr(f.eps) + variance![o]!)));
    const scale = fr(gamma![o]! / std);
    for (let k = 0; k < perOut; k++) weight[o * perOut + k] = fr(scale * w[o * perOut + k]!);
    const shift = fr(beta![o]! - fr(fr(gamma![o]! * mean![o]!) / std));
    bias[o] = fr(fr(scale * (convBias ? convBias[o]! : 0)) + shift);
  }
  return { weight, bias };
}

/**
 * The effective parameters by name, in the dtype of the layer reading them: what backends upload.
 * Convolutions give `weight.name` and `bias.name` (folded when `fold` is set); an int8 convolution
 * gives its weight as int8 and the per-channel scales under `weightScaleName(weight)`; unfolded
 * BatchNorms give their four statistics.
 */
export function materializeParams(g: Graph, store: WeightStore): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const node of g.nodes) {
    const inputDtype = node.kind === 'Convolution' || node.kind === 'BatchNorm' ? node.outputs[0]!.type.dtype : null;
    const dtype = inputDtype === 'float16' ? 'float16' : 'float32';
    if (node.kind === 'Convolution') {
      const { weight, bias } = foldConvolution(node, store);
      if (node.quant) {
        const q = quantizePerChannel(weight, node.weight.shape);
        out.set(node.weight.name, q.weight);
        out.set(weightScaleName(node.weight), q.scales);
      } else {
        out.set(node.weight.name, fromFloat32(weight, node.weight.shape, dtype));
      }
      if (bias && node.bias) out.set(node.bias.name, fromFloat32(bias, node.bias.shape, dtype));
    } else if (node.kind === 'BatchNorm') {
      for (const p of [node.gamma, node.beta, node.mean, node.var]) out.set(p.name, fromFloat32(valuesOf(store, p), p.shape, dtype));
    }
  }
  return out;
}
