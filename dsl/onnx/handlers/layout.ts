/**
 * ONNX export of the layers that move data: Concat, Split (sizes as an int64 input, opset >= 13),
 * Shuffle (Reshape with an int64 shape, then Transpose) and Resize (nearest, integer scales, with
 * PyTorch's `Upsample(mode='nearest')` semantics: asymmetric coordinates, floor).
 */
import type { KindTable, ShuffleNode } from '../../ir/node.js';
import { type Dim, formatShape } from '../../ir/tensor-type.js';
import { attr, exportError, helperConst, helperNode, helperValue, type OnnxGraphBuilder } from '../builder.js';

/** The shape after the reshape and before the transpose (the output shape with the perm undone). */
function reshapedShape(node: ShuffleNode): Dim[] {
  const out = node.outputs[0]!.type.shape;
  const perm = node.perm;
  if (!perm) return [...out];
  const shape: Dim[] = new Array<Dim>(out.length);
  perm.forEach((p, i) => { shape[p] = out[i]!; });
  return shape;
}

/**
 * The int64 target of ONNX Reshape for a shape with symbolic dims: a symbol at the index where the
 * input has it becomes 0 (copy that dim); one other symbol becomes -1 (inferred); more than one
 * unknown cannot be expressed as a constant shape and is an error naming the layer.
 */
export function reshapeTarget(node: ShuffleNode, inputShape: readonly Dim[], target: readonly Dim[]): number[] {
  const unknown = target.filter((d, i) => typeof d === 'string' && inputShape[i] !== d);
  if (unknown.length > 1) {
    throw exportError(node, `reshape ${formatShape(inputShape)} -> ${formatShape(target)} moves ${unknown.length} symbolic dimensions (${unknown.join(', ')}); ONNX Reshape can infer only one`);
  }
  return target.map((d, i) => {
    if (typeof d === 'string') return inputShape[i] === d ? 0 : -1;
    if (d <= 0) throw exportError(node, `reshape target ${formatShape(target)} has a non-positive dimension`);
    return d;
  });
}

export function layoutHandlers(b: OnnxGraphBuilder): Pick<KindTable<void>, 'Concat' | 'Split' | 'Shuffle' | 'Resize'> {
  return {
    Concat: (node) => {
      b.node(node, { opType: 'Concat', name: node.name, inputs: node.inputs, outputs: [node.outputs[0]!.name], attributes: [attr.int('axis', node.axis)] });
    },
    Split: (node) => {
      const sizes = b.int64Initializer(node, helperConst(node, 'split'), node.sizes);
      b.node(node, {
        opType: 'Split', name: node.name, inputs: [node.inputs[0]!, sizes], outputs: node.outputs.map((o) => o.name),
        attributes: [attr.int('axis', node.axis)],
      });
    },
    Shuffle: (node) => {
      const out = node.outputs[0]!;
      const input = node.inputs[0]!;
      if (!node.reshape && !node.perm) {
        b.node(node, { opType: 'Identity', name: node.name, inputs: [input], outputs: [out.name] });
        return;
      }
      let current = input;
      if (node.reshape) {
        const reshaped = reshapedShape(node);
        const shape = b.int64Initializer(node, helperConst(node, 'shape'), reshapeTarget(node, b.typeOf(node, input).shape, reshaped));
        const reshapeOut = node.perm ? helperValue(node, 'Reshape') : out.name;
        b.node(node, { opType: 'Reshape', name: node.name, inputs: [input, shape], outputs: [reshapeOut] });
        if (node.perm) b.valueInfo(reshapeOut, { dtype: out.type.dtype, shape: reshaped });
        current = reshapeOut;
      }
      if (node.perm) {
        const name = node.reshape ? helperNode(node, 'Transpose') : node.name;
        b.node(node, { opType: 'Transpose', name, inputs: [current], outputs: [out.name], attributes: [attr.ints('perm', node.perm)] });
      }
    },
    Resize: (node) => {
      const scales = b.float32Initializer(node, helperConst(node, 'scales'), node.scales, [node.scales.length]);
      b.node(node, {
        opType: 'Resize', name: node.name, inputs: [node.inputs[0]!, '', scales], outputs: [node.outputs[0]!.name],
        attributes: [
          attr.string('mode', 'nearest'),
          attr.string('coordinate_transformation_mode', 'asymmetric'),
          attr.string('nearest_mode', 'floor'),
        ],
      });
    },
  };
}
