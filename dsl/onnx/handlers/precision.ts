/**
 * ONNX export of the layers that change precision: Cast, Quantize (QuantizeLinear with a float32
 * scale, int8 zero point 0 (uint8 128 inside the graph, see OnnxGraphBuilder.isOffsetInt8), per-tensor or per-channel with `axis`) and Dequantize
 * (DequantizeLinear to float32, then a Cast when the layer yields float16). ONNX QuantizeLinear
 * rounds half to even and saturates to [-128, 127]. Its float input must be float32 up to opset 18,
 * so a float16 input is cast first.
 */
import type { DequantizeNode, KindTable, QuantizeNode } from '../../ir/node.js';
import type { AttributeProtoObject } from '../proto.js';
import { ONNX_DATA_TYPE } from '../proto.js';
import { attr, helperConst, helperNode, helperValue, type OnnxGraphBuilder } from '../builder.js';

interface QdqInputs {
  readonly scale: string;
  readonly zeroPoint: string;
  readonly attributes: AttributeProtoObject[];
}

/**
 * The scale (float32) and zero point of the int8 tensor `int8Tensor`: scalars per tensor, 1-D with
 * `axis` per channel. The zero point is int8 0, or uint8 128 where ONNX carries the tensor shifted
 * (OnnxGraphBuilder.isOffsetInt8).
 */
function qdqInputs(b: OnnxGraphBuilder, node: QuantizeNode | DequantizeNode, int8Tensor: string): QdqInputs {
  const shape = node.axis === null ? [] : [node.scales.length];
  return {
    scale: b.float32Initializer(node, helperConst(node, 'scale'), node.scales, shape),
    zeroPoint: b.int8ZeroPoint(node, helperConst(node, 'zero_point'), int8Tensor, shape),
    attributes: node.axis === null ? [] : [attr.int('axis', node.axis)],
  };
}

export function precisionHandlers(b: OnnxGraphBuilder): Pick<KindTable<void>, 'Cast' | 'Quantize' | 'Dequantize'> {
  return {
    Cast: (node) => {
      b.node(node, {
        opType: 'Cast', name: node.name, inputs: node.inputs, outputs: [node.outputs[0]!.name],
        attributes: [attr.int('to', ONNX_DATA_TYPE[node.to])],
      });
    },
    Quantize: (node) => {
      const inType = b.typeOf(node, node.inputs[0]!);
      let x = node.inputs[0]!;
      if (inType.dtype !== 'float32') {
        const cast = helperValue(node, 'Cast');
        b.node(node, { opType: 'Cast', name: helperNode(node, 'Cast'), inputs: [x], outputs: [cast], attributes: [attr.int('to', ONNX_DATA_TYPE.float32)] });
        b.valueInfo(cast, { dtype: 'float32', shape: inType.shape });
        x = cast;
      }
      const q = qdqInputs(b, node, node.outputs[0]!.name);
      b.node(node, {
        opType: 'QuantizeLinear', name: node.name, inputs: [x, q.scale, q.zeroPoint], outputs: [node.outputs[0]!.name], attributes: q.attributes,
      });
    },
    Dequantize: (node) => {
      const out = node.outputs[0]!;
      const q = qdqInputs(b, node, node.inputs[0]!);
      const dqOut = node.to === 'float32' ? out.name : helperValue(node, 'DequantizeLinear');
      b.node(node, {
        opType: 'DequantizeLinear', name: node.name, inputs: [node.inputs[0]!, q.scale, q.zeroPoint], outputs: [dqOut], attributes: q.attributes,
      });
      if (node.to === 'float32') return;
      b.valueInfo(dqOut, { dtype: 'float32', shape: out.type.shape });
      b.node(node, { opType: 'Cast', name: helperNode(node, 'Cast'), inputs: [dqOut], outputs: [out.name], attributes: [attr.int('to', ONNX_DATA_TYPE[node.to])] });
    },
  };
}
