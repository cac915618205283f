/**
 * Turns a precision policy into types: every computing layer takes its inputs in the float type the
 * policy gives its name (float32 for int8 layers, which quantize-int8.ts then quantizes), with a Cast inserted where a tensor changes type (one Cast per tensor and
 * type, shared by all readers) and constants converted in place. Graph inputs and outputs keep
 * their types (float32), so callers see the same interface under any policy. Explicit Cast,
 * Quantize and Dequantize nodes are left as written.
 */
import type { DType } from '../../common/dtype.js';
import { isFloat } from '../../common/dtype.js';
import { castFloat } from '../../common/host-tensor.js';
import type { Graph } from '../ir/graph.js';
import { makeNode } from '../ir/infer.js';
import type { CastNode, ConstantNode, IrNode, NodeKind } from '../ir/node.js';
import type { TensorValue } from '../ir/tensor-type.js';
import { type Precision, type PrecisionPolicy, precisionOf } from '../precision/policy.js';
import { pruneUnused } from './prune.js';
import { type RewriteContext, rewriteGraph } from './rewrite.js';

/** How each kind takes part: computes in the policy's precision, passes through, or is an endpoint. */
const ROLE: { readonly [K in NodeKind]: 'compute' | 'keep' | 'output' | 'constant' } = {
  Input: 'keep', Output: 'output', Constant: 'constant', Cast: 'keep', Quantize: 'keep', Dequantize: 'keep',
  Convolution: 'compute', BatchNorm: 'compute', Activation: 'compute', ElementWise: 'compute', Concat: 'compute',
  Split: 'compute', Pooling: 'compute', Resize: 'compute', Shuffle: 'compute', Softmax: 'compute', MatMul: 'compute',
  NMS: 'compute',
};

/**
 * The float type each precision computes in. An int8 layer's float parts (a convolution's rescaled
 * output, an activation, an add) are float32, as DequantizeLinear yields; the int8 pass
 * (quantize-int8.ts) then quantizes what int8 layers read.
 */
const FLOAT_OF: Readonly<Record<Precision, 'float32' | 'float16'>> = { fp32: 'float32', fp16: 'float16', int8: 'float32' };

function targetDtype(policy: PrecisionPolicy, layer: string): 'float32' | 'float16' {
  return FLOAT_OF[precisionOf(policy, layer)];
}

export function applyPrecision(g: Graph, policy: PrecisionPolicy): Graph {
  const producers = new Map<string, IrNode>();
  const converted = new Map<string, TensorValue>();

  const convert = (ctx: RewriteContext, name: string, to: DType, emitted: IrNode[]): TensorValue => {
    const v = ctx.value(name);
    if (v.type.dtype === to || !isFloat(v.type.dtype)) return v;
    const key = `${v.name}\u0000${to}`;
    const done = converted.get(key);
    if (done) return done;
    const producer = producers.get(v.name)!;
    // One cast per tensor and type; a producer with several outputs (Split) gets one per output.
    const index = producer.outputs.findIndex((o) => o.name === v.name);
    const suffix = producer.outputs.length > 1 ? `_${index}` : '';
    const node = producer.kind === 'Constant'
      ? makeNode<ConstantNode>({ kind: 'Constant', name: `${producer.name}_${to}`, inputs: [], value: castFloat(producer.value, to as 'float32' | 'float16') }, [])
      : makeNode<CastNode>({ kind: 'Cast', name: `${producer.name}/Cast${suffix}_${to}`, inputs: [], to }, [v]);
    emitted.push(node);
    converted.set(key, node.outputs[0]!);
    return node.outputs[0]!;
  };

  const typed = rewriteGraph(g, (node, ctx) => {
    const role = ROLE[node.kind];
    let result: IrNode = node;
    const emitted: IrNode[] = [];
    if (role === 'compute' || role === 'output') {
      const to = role === 'output' ? g.nodes.find((n) => n.name === node.name)!.outputs[0]!.type.dtype : targetDtype(policy, node.name);
      const inputs = node.inputs.map((i) => convert(ctx, i, to, emitted));
      result = ctx.remake(node, inputs);
    }
    for (const n of [...emitted, result]) for (const o of n.outputs) producers.set(o.name, n);
    return [...emitted, result];
  });
  return pruneUnused(typed);
}
