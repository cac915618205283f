/**
 * Where int8 runs in a typed graph, following TensorRT's Q/DQ placement recommendations:
 *  - every convolution the policy names int8 reads an int8 input (quantized per tensor) and int8
 *    weights (per output channel);
 *  - max pooling, nearest resize, split and concat run on int8 data when every reader of their
 *    outputs is int8 (an int8 convolution or another such layer): quantization commutes with them
 *    exactly (q(max(x)) = max(q(x))), so moving the Quantize above them changes no value;
 *  - the tensors around such a layer share one scale (a concat's inputs all get the concat's
 *    scale), so the layer moves bytes without requantizing: "scale groups".
 * Tensors are named by their origin: a Cast between two float types is looked through, and so is
 * a uint8 image input's scaling (models/yolov8/input.ts: the same values as the float32 input), so
 * the calibration (made on the fp32 graph with a float32 input) names the same tensors under any
 * policy and either input.
 */
import { consumerIndex, type Graph, producerIndex } from '../ir/graph.js';
import type { IrNode } from '../ir/node.js';
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
  const movers = new Set<string>();
  const readsInt8 = (n: IrNode): boolean => convolutions.has(n.name) || movers.has(n.name);
  // Readers come after their producers, so one walk from the end settles every layer.
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i]!;
    if (!movesData(n) || precisionOf(policy, n.name) !== 'int8') continue;
    const readers = n.outputs.flatMap((o) => consumers.get(o.name) ?? []);
    if (readers.length > 0 && readers.every(readsInt8)) movers.add(n.name);
  }
  const groups = new Groups();
  for (const n of graph.nodes) {
    if (!movers.has(n.name)) continue;
    const tensors = [...n.inputs, ...n.outputs.map((o) => o.name)].map(origin);
    for (const t of tensors) groups.union(t, tensors[0]!);
  }
  return { convolutions, movers, origin, group: (t) => groups.members(origin(t)) };
}
