/**
 * Normalisation of DSL sugar into explicit IR fields, in one place: `k: 3 | [3, 3]`, padding as a
 * number, a pair, four sides or 'same' (PyTorch/Ultralytics autopad: k // 2 per side).
 */
import type { HostTensor } from '../common/host-tensor.js';
import { layerError } from './ir/node-base.js';
import type { ConvolutionNode, NmsNode } from './ir/node.js';
import { NMS_TOPK_LIMIT } from './ir/nodes/nms.js';
import type { TensorValue } from './ir/tensor-type.js';

export type Pair = number | readonly [number, number];
export type Padding = number | 'same' | readonly [number, number] | readonly [number, number, number, number];

export interface ConvOptions {
  /** Input channels the layer is written for; checked against the input tensor when given. */
  readonly inChannels?: number;
  readonly outChannels: number;
  readonly kernel: Pair;
  readonly stride?: Pair;
  readonly padding?: Padding;
  readonly dilation?: Pair;
  readonly groups?: number;
  readonly bias?: boolean;
  /** Fixed value for a weight that is part of the architecture (used if the weight file lacks it). */
  readonly weightInit?: HostTensor;
}

export interface PoolOptions {
  readonly kernel: Pair;
  readonly stride?: Pair;
  readonly padding?: Padding;
}

/** An NMS layer's settings (dsl/ir/nodes/nms.ts); `topK` defaults to TensorRT's limit, NMS_TOPK_LIMIT. */
export type NmsLayerOptions = Pick<NmsNode, 'boxCoding' | 'maxOutputBoxesPerClass' | 'iouThreshold' | 'scoreThreshold'> & {
  readonly topK?: number;
};

export function normalizeNms(o: NmsLayerOptions): Pick<NmsNode, 'boxCoding' | 'maxOutputBoxesPerClass' | 'iouThreshold' | 'scoreThreshold' | 'topK'> {
  return {
    boxCoding: o.boxCoding, maxOutputBoxesPerClass: o.maxOutputBoxesPerClass, iouThreshold: o.iouThreshold,
    scoreThreshold: o.scoreThreshold, topK: o.topK ?? NMS_TOPK_LIMIT,
  };
}

export function pair(v: Pair): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

/** Explicit [top, left, bottom, right] padding. */
export function sides(p: Padding, kernel: [number, number], dilation: [number, number]): [number, number, number, number] {
  if (p === 'same') {
    const [ph, pw] = [Math.floor((dilation[0] * (kernel[0] - 1) + 1) / 2), Math.floor((dilation[1] * (kernel[1] - 1) + 1) / 2)];
    return [ph, pw, ph, pw];
  }
  if (typeof p === 'number') return [p, p, p, p];
  if (p.length === 2) return [p[0], p[1], p[0], p[1]];
  return [p[0], p[1], p[2], p[3]];
}

/** The convolution node's geometry fields, plus the input channels they were checked against. */
export type NormalizedConv = Pick<ConvolutionNode, 'outChannels' | 'kernel' | 'stride' | 'padding' | 'dilation' | 'groups'> & {
  readonly inChannels: number;
};

export function normalizeConv(layer: string, x: TensorValue, o: ConvOptions): NormalizedConv {
  const where = { name: layer, kind: 'Convolution' };
  const c = x.type.shape[1];
  if (x.type.shape.length !== 4 || typeof c !== 'number') {
    throw layerError(where, `expects an NCHW input with fixed channels, found [${x.type.shape.join(', ')}]`);
  }
  if (o.inChannels !== undefined && o.inChannels !== c) {
    throw layerError(where, `is written for ${o.inChannels} input channels, but its input '${x.name}' has ${c}`);
  }
  const groups = o.groups ?? 1;
  if (!Number.isInteger(o.outChannels) || o.outChannels < 1) throw layerError(where, `outChannels must be a positive integer, got ${o.outChannels}`);
  if (c % groups !== 0) throw layerError(where, `input channels ${c} are not divisible by groups ${groups}`);
  const kernel = pair(o.kernel);
  const dilation = pair(o.dilation ?? 1);
  return {
    inChannels: c, outChannels: o.outChannels, kernel, stride: pair(o.stride ?? 1),
    padding: sides(o.padding ?? 'same', kernel, dilation), dilation, groups,
  };
}

export function normalizePool(o: PoolOptions): { kernel: [number, number]; stride: [number, number]; padding: [number, number, number, number] } {
  const kernel = pair(o.kernel);
  return { kernel, stride: pair(o.stride ?? kernel), padding: sides(o.padding ?? 0, kernel, [1, 1]) };
}
