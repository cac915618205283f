/**
 * ONNX export of an int8 convolution (ConvolutionNode.quant) in integer arithmetic that ONNX
 * Runtime's CPU provider runs with its int8 GEMM (MLAS): ConvInteger on the uint8-carried int8
 * input and weights (zero points 128, so the products are those of the int8 values, exactly, and
 * padding reads the zero point, i.e. 0), then the int32 sums rescaled in float32:
 * y = float(acc) · (inputScale · weightScale[k]) + bias[k]. The CUDA engine's int8 epilogue computes
 * the same expression.
 */
import type { ConvolutionNode } from '../../ir/node.js';
import { weightScaleName } from '../../../weights/quantize.js';
import { attr, exportError, helperConst, helperNode, helperValue, type OnnxGraphBuilder } from '../builder.js';
import { ONNX_DATA_TYPE } from '../proto.js';

/** Writes the convolution up to its rescaled float32 output `out` (the activation follows in conv.ts). */
export function emitInt8Convolution(b: OnnxGraphBuilder, node: ConvolutionNode, out: string, attributes: ReturnType<typeof attr.int>[]): void {
  const x = node.inputs[0]!;
  if (!b.isOffsetInt8(x)) throw exportError(node, `its int8 input '${x}' is also a graph output; quantize it separately for the output`);
  const k = node.outChannels;
  const channelShape = [1, k, 1, 1];
  const weightScales = b.float32Param(node, weightScaleName(node.weight), k);
  const combined = Array.from(weightScales, (s) => Math.fround(node.quant!.inputScale * s));
  const inputs = [
    x, b.offsetInt8Param(node, node.weight),
    b.int8ZeroPoint(node, helperConst(node, 'x_zero_point'), x, []),
    b.int8ZeroPoint(node, helperConst(node, 'w_zero_point'), x, []),
  ];
  const acc = helperValue(node, 'ConvInteger');
  b.node(node, { opType: 'ConvInteger', name: node.name, inputs, outputs: [acc], attributes });
  const outType = node.outputs[0]!.type;
  b.valueInfo(acc, { ...outType, dtype: 'int32' });
  const accFloat = helperValue(node, 'Cast');
  b.node(node, { opType: 'Cast', name: helperNode(node, 'Cast'), inputs: [acc], outputs: [accFloat], attributes: [attr.int('to', ONNX_DATA_TYPE.float32)] });
  b.valueInfo(accFloat, outType);
  const scale = b.float32Initializer(node, helperConst(node, 'scale'), combined, channelShape);
  const scaled = node.bias ? helperValue(node, 'Mul') : out;
  b.node(node, { opType: 'Mul', name: helperNode(node, 'Mul'), inputs: [accFloat, scale], outputs: [scaled] });
  if (!node.bias) return;
  b.valueInfo(scaled, outType);
  const bias = b.float32Initializer(node, helperConst(node, 'bias'), Array.from(b.float32Param(node, node.bias.name, k)), channelShape);
  b.node(node, { opType: 'Add', name: helperNode(node, 'Add'), inputs: [scaled, bias], outputs: [out] });
}
