/**
 * The fluent DSL: a thin, typed shell over the IR. A GraphBuilder owns the node list; Modules
 * carry a module path (for layer names like `/model.2/m.0/cv1/conv/Conv`) and a parameter path
 * (for weight names like `model.2.m.0.cv1.conv.weight`) and create nodes. Every call infers shapes
 * and types at once, so a mistake is reported at the line that made it, naming the layer.
 */
import type { DType } from '../common/dtype.js';
import type { HostTensor } from '../common/host-tensor.js';
import type { Graph, GraphMeta } from './ir/graph.js';
import { makeGraph } from './ir/graph.js';
import { makeNode } from './ir/infer.js';
import type { NodeFields } from './ir/node-base.js';
import type { IrNode, NodeSpec } from './ir/node.js';
import type { ActivationOp } from './ir/nodes/activation.js';
import type { ElementWiseOp } from './ir/nodes/element-wise.js';
import { paramRef, type ParamRef } from './ir/param.js';
import type { Dim, TensorValue } from './ir/tensor-type.js';
import { verifyGraph } from './ir/verify.js';
import { normalizeConv, normalizeNms, normalizePool, type ConvOptions, type NmsLayerOptions, type PoolOptions } from './options.js';

/** A tensor handle: the name and inferred type of a value in the graph being built. */
export type Tensor = TensorValue;

const ACTIVATION_LAYER: Readonly<Record<ActivationOp, string>> = { silu: 'Silu', sigmoid: 'Sigmoid', relu: 'Relu' };
const ELEMENTWISE_LAYER: Readonly<Record<ElementWiseOp, string>> = { add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div', max: 'Max', min: 'Min' };

export class GraphBuilder {
  private readonly nodes: IrNode[] = [];
  private readonly used = new Map<string, number>();

  constructor(readonly name: string) {}

  /** A graph input; `shape` may hold symbols such as 'batch'. */
  input(name: string, dtype: DType, shape: readonly Dim[]): Tensor {
    return this.add({ kind: 'Input', name, dtype, shape: Object.freeze([...shape]) }, [])[0]!;
  }

  /** Marks `x` as the graph output `name`. */
  output(name: string, x: Tensor): void {
    this.add({ kind: 'Output', name }, [x]);
  }

  /** The module at the root: layer names `/…`, weight names without prefix. */
  root(): Module {
    return new Module(this, [], []);
  }

  /** Creates a node under a unique layer name (`_1`, `_2`, … appended on reuse, as ONNX exporters do). */
  add(fields: NodeSpec, inputs: readonly Tensor[]): Tensor[] {
    const name = this.unique(fields.name);
    const node = makeNode({ ...fields, name, inputs: [] } as NodeFields<IrNode>, inputs);
    this.nodes.push(node);
    return [...node.outputs];
  }

  /** Finishes the graph and verifies it. */
  build(meta: GraphMeta): Graph {
    return verifyGraph(makeGraph(this.name, this.nodes, meta));
  }

  private unique(name: string): string {
    const n = this.used.get(name);
    this.used.set(name, (n ?? 0) + 1);
    return n === undefined ? name : `${name}_${n}`;
  }
}

/** An nn.ModuleList / nn.Sequential: children are named `<name>.<i>` in layer names, `<name>.<i>.` in weights. */
export class ModuleList {
  constructor(
    private readonly b: GraphBuilder,
    private readonly layerBase: readonly string[],
    private readonly name: string,
    private readonly paramBase: readonly string[],
  ) {}

  at(i: number): Module {
    return new Module(this.b, [...this.layerBase, `${this.name}.${i}`], [...this.paramBase, String(i)]);
  }
}

/** A scope in the module tree; creates layers named after its path. */
export class Module {
  constructor(
    private readonly b: GraphBuilder,
    readonly layerPath: readonly string[],
    readonly paramPath: readonly string[],
  ) {}

  /** A child module (an attribute such as `cv1`, `conv`, `bn`). */
  child(attr: string): Module {
    return new Module(this.b, [...this.layerPath, attr], [...this.paramPath, attr]);
  }

  /** A ModuleList attribute (`m`, `cv2`): its items are `m.0`, `m.1`, … */
  list(attr: string): ModuleList {
    return new ModuleList(this.b, this.layerPath, attr, [...this.paramPath, attr]);
  }

  /** This module seen as an nn.Sequential: its items are `<this>.0`, `<this>.1`, … */
  sequential(): ModuleList {
    const last = this.layerPath[this.layerPath.length - 1] ?? '';
    return new ModuleList(this.b, this.layerPath, last, this.paramPath);
  }

  /** The layer name for an op of this module: `/model.0/conv/Conv`. */
  layer(op: string): string {
    return `/${[...this.layerPath, op].join('/')}`;
  }

  /** A parameter reference named by this module's state_dict path: `model.0.conv.weight`. */
  param(leaf: string, shape: readonly number[], role: ParamRef['role'], init?: HostTensor): ParamRef {
    return paramRef([...this.paramPath, leaf].join('.'), shape, role, init);
  }

  conv2d(x: Tensor, options: ConvOptions): Tensor {
    const c = normalizeConv(this.layer('Conv'), x, options);
    const weight = this.param('weight', [c.outChannels, c.inChannels / c.groups, ...c.kernel], 'conv.weight', options.weightInit);
    const bias = options.bias ? this.param('bias', [c.outChannels], 'conv.bias') : null;
    return this.one({
      kind: 'Convolution', name: this.layer('Conv'), outChannels: c.outChannels, kernel: c.kernel, stride: c.stride,
      padding: c.padding, dilation: c.dilation, groups: c.groups, weight, bias, fold: null, activation: null,
    }, [x]);
  }

  batchNorm(x: Tensor, options: { eps: number }): Tensor {
    const c = x.type.shape[1];
    const shape = typeof c === 'number' ? [c] : [];
    return this.one({
      kind: 'BatchNorm', name: this.layer('BatchNormalization'), eps: options.eps,
      gamma: this.param('weight', shape, 'bn.weight'), beta: this.param('bias', shape, 'bn.bias'),
      mean: this.param('running_mean', shape, 'bn.mean'), var: this.param('running_var', shape, 'bn.var'),
    }, [x]);
  }

  activation(x: Tensor, op: ActivationOp): Tensor {
    return this.one({ kind: 'Activation', name: this.layer(ACTIVATION_LAYER[op]), op }, [x]);
  }

  silu(x: Tensor): Tensor { return this.activation(x, 'silu'); }
  sigmoid(x: Tensor): Tensor { return this.activation(x, 'sigmoid'); }

  elementWise(op: ElementWiseOp, a: Tensor, b: Tensor): Tensor {
    return this.one({ kind: 'ElementWise', name: this.layer(ELEMENTWISE_LAYER[op]), op }, [a, b]);
  }

  add(a: Tensor, b: Tensor): Tensor { return this.elementWise('add', a, b); }
  sub(a: Tensor, b: Tensor): Tensor { return this.elementWise('sub', a, b); }
  mul(a: Tensor, b: Tensor): Tensor { return this.elementWise('mul', a, b); }
  div(a: Tensor, b: Tensor): Tensor { return this.elementWise('div', a, b); }

  concat(xs: readonly Tensor[], axis: number): Tensor {
    return this.one({ kind: 'Concat', name: this.layer('Concat'), axis }, xs);
  }

  split(x: Tensor, sizes: readonly number[], axis: number): Tensor[] {
    return this.b.add({ kind: 'Split', name: this.layer('Split'), axis, sizes: Object.freeze([...sizes]) }, [x]);
  }

  maxPool(x: Tensor, options: PoolOptions): Tensor {
    const p = normalizePool(options);
    return this.one({ kind: 'Pooling', name: this.layer('MaxPool'), op: 'max', ...p }, [x]);
  }

  /** Nearest-neighbour upsampling of the spatial axes (NCHW) by an integer factor. */
  upsample(x: Tensor, scale: number): Tensor {
    const scales = x.type.shape.map((_, i) => (i >= 2 ? scale : 1));
    return this.one({ kind: 'Resize', name: this.layer('Resize'), mode: 'nearest', scales }, [x]);
  }

  reshape(x: Tensor, shape: readonly Dim[]): Tensor {
    return this.one({ kind: 'Shuffle', name: this.layer('Reshape'), reshape: Object.freeze([...shape]), perm: null }, [x]);
  }

  transpose(x: Tensor, perm: readonly number[]): Tensor {
    return this.one({ kind: 'Shuffle', name: this.layer('Transpose'), reshape: null, perm: Object.freeze([...perm]) }, [x]);
  }

  softmax(x: Tensor, axis: number): Tensor {
    return this.one({ kind: 'Softmax', name: this.layer('Softmax'), axis }, [x]);
  }

  constant(value: HostTensor): Tensor {
    return this.one({ kind: 'Constant', name: this.layer('Constant'), value }, []);
  }

  cast(x: Tensor, to: DType): Tensor {
    return this.one({ kind: 'Cast', name: this.layer('Cast'), to }, [x]);
  }

  /**
   * Non-maximum suppression as TensorRT's INMSLayer (dsl/ir/nodes/nms.ts): boxes [B, N, 4], scores
   * [B, N, C] -> the selected (batch, class, box) indices, int32 [K, 3], and K as an int32 scalar.
   */
  nms(boxes: Tensor, scores: Tensor, options: NmsLayerOptions): { indices: Tensor; count: Tensor } {
    const [indices, count] = this.b.add({ kind: 'NMS', name: this.layer('NonMaxSuppression'), ...normalizeNms(options) }, [boxes, scores]);
    return { indices: indices!, count: count! };
  }

  private one(fields: NodeSpec, inputs: readonly Tensor[]): Tensor {
    return this.b.add(fields, inputs)[0]!;
  }
}
