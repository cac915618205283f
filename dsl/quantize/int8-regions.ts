/**
 * Where int8 runs in a typed graph, following TensorRT's Q/DQ placement recommendations:
 *  - every convolution the policy names int8 reads an int8 input (quantized per tensor) and int8
 *    weights (per output channel);
 *  - max pooling, nearest resize, split and concat run on int8 data when every reader of their
 *    outputs is int8 (an int8 convolution or another such layer): quantization commutes with them
 *    exactly (q(max(x)) = max(q(x))), so moving the Quantize above them changes no value;
 *  - the tensors around such a layer share one scale (a concat's inputs all get the concat's
 *    scale), so the layer moves bytes without requantizing: "scale groups";
 *  - a residual add (a Bottleneck's x + cv2(cv1(x))) whose one input is an int8 convolution's
 *    (activated) output read by nothing else reads its other input, the shortcut, quantized:
 *    Add(conv, Dequantize(Quantize(x))), TensorRT's placement for fusing the add into the
 *    convolution. The shortcut's Quantize is the one the int8 layers reading x share, so a split or
 *    add output feeding it needs no float copy (the split runs on int8), and the CUDA engine folds
 *    the add into the convolution's epilogue with an int8 residual (native fuse_pass.h).
 * Tensors are named by their origin: a Cast between two float types is looked through, and so is
 * a uint8 image input's scaling (models/yolov8/input.ts: the same values as the float32 input), so
 * the calibration (made on the fp32 graph with a float32 input) names the same tensors under any
 * policy and either input.
 */
import { isFloat } from '../../common/dtype.js';
import { consumerIndex, type Graph, producerIndex, tensorIndex } from '../ir/graph.js';
import type { IrNode } from '../ir/node.js';
import type { TensorValue } from '../ir/tensor-type.js';
import { precisionOf, type PrecisionPolicy } from '../precision/policy.js';

/**
 * The scope of layers that only rescale an image input (a uint8 input's cast and division by 255,
 * models/yolov8/input.ts): their output holds the values a float32 input would.
 */
export const PREPROCESS_SCOPE = '/preprocess/';

/** The layer kinds that move int8 data unchanged (a max, a copy, a slice, a repeat). */
export function movesData(node: IrNode): boolean {
  return (node.kind === 'Pooling' && node.op === 'max') || node.kind === 'Concat' || node.kind === 'Split' || (node.kind === 'Resize' && node.mode === 'nearest');
}

export interface Int8Regions {
  /** Convolutions that run in int8. */
  readonly convolutions: ReadonlySet<string>;
  /** Data-movement layers that run on int8. */
  readonly movers: ReadonlySet<string>;
  /** Residual adds: the index of the input each reads quantized (the shortcut), by add name. */
  readonly residualAdds: ReadonlyMap<string, number>;
  /** The origin of a tensor (through float Casts). */
  origin(tensor: string): string;
  /** The scale group of an origin tensor: every origin tensor that must share its scale. */
  group(tensor: string): readonly string[];
}

/** Union-find over tensor names. */
class Groups {
  readonly #parent = new Map<string, string>();

  find(x: string): string {
    let root = x;
    while (this.#parent.has(root) && this.#parent.get(root) !== root) root = this.#parent.get(root)!;
    this.#parent.set(x, root);
    return root;
  }

  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.#parent.set(ra, rb);
  }

  members(x: string): string[] {
    const root = this.find(x);
    return [...this.#parent.keys()].filter((k) => this.find(k) === root);
  }
}

/** The int8 regions of `graph` under `policy` (layers the policy gives int8 and that can take it). */
export function int8Regions(graph: Graph, policy: PrecisionPolicy): Int8Regions {
  const producers = producerIndex(graph);
  const consumers = consumerIndex(graph);
  const origin = (tensor: string): string => {
    let t = tensor;
    for (let p = producers.get(t); p && (p.kind === 'Cast' || p.name.startsWith(PREPROCESS_SCOPE)); p = producers.get(t)) t = p.inputs[0]!;
    return t;
  };
  const convolutions = new Set(graph.nodes.filter((n) => n.kind === 'Convolution' && !n.quant && precisionOf(policy, n.name) === 'int8').map((n) => n.name));
  const residualAdds = new Map<string, number>();
  const tensors = tensorIndex(graph);
  const position = new Map(graph.nodes.map((n, i) => [n.name, i]));
  for (const n of graph.nodes) {
    if (n.kind !== 'ElementWise' || n.op !== 'add' || n.inputs.length !== 2 || precisionOf(policy, n.name) !== 'int8') continue;
    const k = convolutionSide(n, producers, consumers, tensors, convolutions, position);
    if (k >= 0) residualAdds.set(n.name, 1 - k);
  }
  const movers = new Set<string>();
  // Whether `reader` takes `tensor` as int8 data.
  const readsInt8 = (reader: IrNode, tensor: string): boolean =>
    convolutions.has(reader.name) || movers.has(reader.name) || reader.inputs[residualAdds.get(reader.name) ?? -1] === tensor;
  // Readers come after their producers, so one walk from the end settles every layer.
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i]!;
    if (!movesData(n) || precisionOf(policy, n.name) !== 'int8') continue;
    const reads = n.outputs.flatMap((o) => (consumers.get(o.name) ?? []).map((r) => readsInt8(r, o.name)));
    if (reads.length > 0 && reads.every(Boolean)) movers.add(n.name);
  }
  const groups = new Groups();
  for (const n of graph.nodes) {
    if (!movers.has(n.name)) continue;
    const tensors = [...n.inputs, ...n.outputs.map((o) => o.name)].map(origin);
    for (const t of tensors) groups.union(t, tensors[0]!);
  }
  return { convolutions, movers, residualAdds, origin, group: (t) => groups.members(origin(t)) };
}

/**
 * Which input of add `n` an int8 convolution yields (directly or through its activation), read by
 * nothing but the add, with the other input a float tensor of the add's shape; -1 when neither.
 * When both are, the later one (the other exists when that convolution runs).
 */
function convolutionSide(n: IrNode, producers: ReadonlyMap<string, IrNode>, consumers: ReadonlyMap<string, readonly IrNode[]>,
  tensors: ReadonlyMap<string, TensorValue>, convolutions: ReadonlySet<string>, position: ReadonlyMap<string, number>): number {
  const fromConv = (tensor: string): boolean => {
    let p = producers.get(tensor);
    if (p?.kind === 'Activation') p = producers.get(p.inputs[0]!);
    return p !== undefined && convolutions.has(p.name) && (consumers.get(tensor) ?? []).length === 1;
  };
  const shape = n.outputs[0]!.type.shape.join();
  const typeOf = (tensor: string) => tensors.get(tensor)?.type;
  const sides = [0, 1].filter((k) => {
    const shortcut = typeOf(n.inputs[1 - k]!);
    return fromConv(n.inputs[k]!) && n.inputs[0] !== n.inputs[1] && shortcut !== undefined && isFloat(shortcut.dtype) &&
      shortcut.shape.join() === shape && typeOf(n.inputs[k]!)?.shape.join() === shape;
  });
  if (sides.length === 0) return -1;
  const at = (k: number) => position.get(producers.get(n.inputs[k]!)!.name)!;
  return sides.length === 1 ? sides[0]! : at(1) > at(0) ? 1 : 0;
}
