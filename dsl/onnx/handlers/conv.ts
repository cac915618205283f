/**
 * ONNX export of Convolution (Conv, or ConvInteger and a rescale for an int8 one, conv-int8.ts, with its fused activation appended), BatchNorm
 * (BatchNormalization) and Activation. SiLU is written as Sigmoid then Mul(x, sigmoid), as
 * PyTorch exports it, so the graph reads like Ultralytics' own ONNX export.
 */
import type { ActivationOp } from '../../ir/nodes/activation.js';
import type { KindTable } from '../../ir/node.js';
import type { TensorType } from '../../ir/tensor-type.js';
import { attr, helperNode, helperValue, type LayerRef, type OnnxGraphBuilder } from '../builder.js';
import { emitInt8Convolution } from './conv-int8.js';

/** The ONNX operator that starts each activation (SiLU continues with a Mul). */
const FIRST_OP: Readonly<Record<ActivationOp, string>> = { relu: 'Relu', sigmoid: 'Sigmoid', silu: 'Sigmoid' };

/**
 * Writes activation `op` from `input` to `output`. Its first node is named `firstName`; SiLU's Mul
 * is a helper node of the layer (`<layer>/Mul`) and its sigmoid a helper value.
 */
export function emitActivation(
  b: OnnxGraphBuilder, layer: LayerRef, op: ActivationOp, io: { input: string; output: string; type: TensorType; firstName: string },
): void {
  const opType = FIRST_OP[op];
  if (op !== 'silu') {
    b.node(layer, { opType, name: io.firstName, inputs: [io.input], outputs: [io.output] });
    return;
  }
  const sigmoid = helperValue(layer, 'Sigmoid');
  b.node(layer, { opType, name: io.firstName, inputs: [io.input], outputs: [sigmoid] });
  b.valueInfo(sigmoid, io.type);
  b.node(layer, { opType: 'Mul', name: helperNode(layer, 'Mul'), inputs: [io.input, sigmoid], outputs: [io.output] });
}

export function convHandlers(b: OnnxGraphBuilder): Pick<KindTable<void>, 'Convolution' | 'BatchNorm' | 'Activation'> {
  return {
    Convolution: (node) => {
      const out = node.outputs[0]!;
      const dtype = out.type.dtype;
      const convOut = node.activation ? helperValue(node, 'Conv') : out.name;
      const [top, left, bottom, right] = node.padding;
      const attributes = [
        attr.ints('kernel_shape', node.kernel),
        attr.ints('strides', node.stride),
        attr.ints('pads', [top, left, bottom, right]),
        attr.ints('dilations', node.dilation),
        attr.int('group', node.groups),
      ];
      if (node.quant) {
        emitInt8Convolution(b, node, convOut, attributes);
      } else {
        const inputs = [node.inputs[0]!, b.param(node, node.weight, dtype)];
        if (node.bias) inputs.push(b.param(node, node.bias, dtype));
        b.node(node, { opType: 'Conv', name: node.name, inputs, outputs: [convOut], attributes });
      }
      if (node.activation) {
        b.valueInfo(convOut, out.type);
        const firstName = helperNode(node, FIRST_OP[node.activation]);
        emitActivation(b, node, node.activation, { input: convOut, output: out.name, type: out.type, firstName });
      }
    },
    BatchNorm: (node) => {
      const dtype = node.outputs[0]!.type.dtype;
      const params = [node.gamma, node.beta, node.mean, node.var].map((p) => b.param(node, p, dtype));
      b.node(node, {
        opType: 'BatchNormalization', name: node.name, inputs: [node.inputs[0]!, ...params], outputs: [node.outputs[0]!.name],
        attributes: [attr.float('epsilon', node.eps)],
      });
    },
    Activation: (node) => {
      const out = node.outputs[0]!;
      emitActivation(b, node, node.op, { input: node.inputs[0]!, output: out.name, type: out.type, firstName: node.name });
    },
  };
}
