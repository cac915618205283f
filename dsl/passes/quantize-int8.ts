/**
 * The int8 pass: turns the layers a policy names int8 into an explicitly quantized graph, with the
 * activation ranges of a calibration (dsl/quantize/int8-regions.ts says where int8 runs and which
 * tensors share a scale). It inserts one Quantize per float tensor entering an int8 region (named
 * `<producer>/Quantize`, shared by all its int8 readers), retypes max pooling, resize, split and
 * concat to int8 inside the region, and marks int8 convolutions (`quant.inputScale`; their weights
 * are quantized per output channel when bound). An int8 convolution yields float32, which its
 * readers quantize again or cast to their own precision, as TensorRT's Q/DQ graphs do. A residual
 * add next to an int8 convolution reads its shortcut through that Quantize and a Dequantize
 * (`<add>/Dequantize`), so the add can run in the convolution's epilogue on int8 data.
 * Apply after applyPrecision, which types int8 layers' float parts as float32.
 */
import { isFloat } from '../../common/dtype.js';
import { ErrorCode, NetdefError } from '../../common/errors.js';
import { symmetricScale } from '../../weights/quantize.js';
import type { Graph } from '../ir/graph.js';
import { makeNode } from '../ir/infer.js';
import type { DequantizeNode, IrNode, QuantizeNode } from '../ir/node.js';
import type { TensorValue } from '../ir/tensor-type.js';
import type { PrecisionPolicy } from '../precision/policy.js';
import { int8Regions } from '../quantize/int8-regions.js';
import { pruneUnused } from './prune.js';
import { type RewriteContext, rewriteGraph } from './rewrite.js';

/** Activation ranges by tensor name (a calibration), with where they came from for messages. */
export interface ActivationRanges {
  /** The calibration file (or a description of the in-memory calibration). */
  readonly source: string;
  /** max |x| of each tensor over the calibration images (or the method's clipped range). */
  readonly amax: ReadonlyMap<string, number>;
}

/** The largest number of missing tensors an error lists by name. */
const MAX_LISTED = 12;

export function quantizeInt8(graph: Graph, policy: PrecisionPolicy, ranges: ActivationRanges): Graph {
  const regions = int8Regions(graph, policy);
  if (regions.convolutions.size === 0 && regions.movers.size === 0) return graph;
  const scales = new Map<string, number>();
  const missing = new Set<string>();
  const scaleOf = (tensor: string): number => {
    const key = regions.origin(tensor);
    const known = scales.get(key);
    if (known !== undefined) return known;
    let amax = 0;
    for (const member of regions.group(key)) {
      const a = ranges.amax.get(member);
      if (a === undefined) missing.add(member);
      else amax = Math.max(amax, a);
    }
    const scale = symmetricScale(amax);
    scales.set(key, scale);
    return scale;
  };

  const producers = new Map<string, IrNode>();
  const quantized = new Map<string, TensorValue>();
  const int8Input = (ctx: RewriteContext, name: string, emitted: IrNode[]): TensorValue => {
    const v = ctx.value(name);
    if (v.type.dtype === 'int8') return v;
    // Quantize the origin (before float casts) when it is a float; a uint8 image's scaling stays.
    const origin = ctx.value(regions.origin(name));
    const source = isFloat(origin.type.dtype) ? origin : v;
    const done = quantized.get(source.name);
    if (done) return done;
    const producer = producers.get(source.name);
    const index = producer ? producer.outputs.findIndex((o) => o.name === source.name) : 0;
    const suffix = producer && producer.outputs.length > 1 ? `_${index}` : '';
    const q = makeNode<QuantizeNode>({
      kind: 'Quantize', name: `${producer?.name ?? source.name}/Quantize${suffix}`, inputs: [], to: 'int8', scales: [scaleOf(source.name)], axis: null,
    }, [source]);
    emitted.push(q);
    quantized.set(source.name, q.outputs[0]!);
    return q.outputs[0]!;
  };

  const rewritten = rewriteGraph(graph, (node, ctx) => {
    let result: IrNode = node;
    const emitted: IrNode[] = [];
    if (regions.convolutions.has(node.name) && node.kind === 'Convolution') {
      const x = int8Input(ctx, node.inputs[0]!, emitted);
      result = ctx.remake(node, [x], { quant: { inputScale: scaleOf(node.inputs[0]!) } });
    } else if (regions.movers.has(node.name)) {
      result = ctx.remake(node, node.inputs.map((i) => int8Input(ctx, i, emitted)));
    } else if (regions.residualAdds.has(node.name)) {
      // The shortcut through its shared Quantize and a Dequantize of the add's own.
      const k = regions.residualAdds.get(node.name)!;
      const q = int8Input(ctx, node.inputs[k]!, emitted);
      const to = ctx.value(node.inputs[1 - k]!).type.dtype === 'float16' ? 'float16' : 'float32';
      const dq = makeNode<DequantizeNode>({ kind: 'Dequantize', name: `${node.name}/Dequantize`, inputs: [], to, scales: [scaleOf(node.inputs[k]!)], axis: null }, [q]);
      emitted.push(dq);
      result = ctx.remake(node, node.inputs.map((i, j) => (j === k ? dq.outputs[0]! : ctx.value(i))));
    }
    for (const n of [...emitted, result]) for (const o of n.outputs) producers.set(o.name, n);
    return [...emitted, result];
  });
  if (missing.size > 0) {
    const names = [...missing];
    const listed = names.slice(0, MAX_LISTED).join(', ') + (names.length > MAX_LISTED ? `, … (${names.length} in all)` : '');
    throw new NetdefError(ErrorCode.Calibration,
      `calibration ${ranges.source} has no range for ${names.length} tensor(s) that int8 layers of ${graph.name} read: ${listed}; calibrate again for this model (netdef calibrate)`,
      { details: { source: ranges.source, missing: names } });
  }
  return pruneUnused(rewritten);
}
