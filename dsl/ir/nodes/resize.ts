import { expectInputs, type InferFn, layerError, type NodeBase } from '../node-base.js';
import { tensorType } from '../tensor-type.js';

/** Nearest-neighbour upsampling by integer factors per axis (PyTorch `Upsample(mode='nearest')`). */
export interface ResizeNode extends NodeBase<'Resize'> {
  readonly mode: 'nearest';
  readonly scales: readonly number[];
}

export const inferResize: InferFn<ResizeNode> = (node, inputs) => {
  expectInputs(node, inputs, 1);
  const x = inputs[0]!;
  if (node.scales.length !== x.shape.length) throw layerError(node, `needs ${x.shape.length} scales, got ${node.scales.length}`);
  const shape = x.shape.map((d, i) => {
    const s = node.scales[i]!;
    if (!Number.isInteger(s) || s < 1) throw layerError(node, `scale ${s} on axis ${i} must be a positive integer`);
    if (s === 1) return d;
    if (typeof d !== 'number') throw layerError(node, `cannot scale symbolic dimension '${d}'`);
    return d * s;
  });
  return [tensorType(x.dtype, shape)];
};
