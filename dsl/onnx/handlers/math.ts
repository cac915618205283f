/**
 * ONNX export of the arithmetic layers: ElementWise (Add/Sub/Mul/Div/Max/Min, broadcasting as
 * ONNX does), Pooling (MaxPool; AveragePool with count_include_pad=1, PyTorch's AvgPool2d default),
 * Softmax and MatMul.
 */
import type { ElementWiseOp } from '../../ir/nodes/element-wise.js';
import type { PoolingOp } from '../../ir/nodes/pooling.js';
import type { KindTable } from '../../ir/node.js';
import { attr, type OnnxGraphBuilder } from '../builder.js';

const ELEMENTWISE_OP_TYPE: Readonly<Record<ElementWiseOp, string>> = {
  add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div', max: 'Max', min: 'Min',
};

const POOL_OP_TYPE: Readonly<Record<PoolingOp, string>> = { max: 'MaxPool', average: 'AveragePool' };

export function mathHandlers(b: OnnxGraphBuilder): Pick<KindTable<void>, 'ElementWise' | 'Pooling' | 'Softmax' | 'MatMul'> {
  return {
    ElementWise: (node) => {
      b.node(node, { opType: ELEMENTWISE_OP_TYPE[node.op], name: node.name, inputs: node.inputs, outputs: [node.outputs[0]!.name] });
    },
    Pooling: (node) => {
      const [top, left, bottom, right] = node.padding;
      const attributes = [
        attr.ints('kernel_shape', node.kernel),
        attr.ints('strides', node.stride),
        attr.ints('pads', [top, left, bottom, right]),
      ];
      if (node.op === 'average') attributes.push(attr.int('count_include_pad', 1));
      b.node(node, { opType: POOL_OP_TYPE[node.op], name: node.name, inputs: node.inputs, outputs: [node.outputs[0]!.name], attributes });
    },
    Softmax: (node) => {
      b.node(node, { opType: 'Softmax', name: node.name, inputs: node.inputs, outputs: [node.outputs[0]!.name], attributes: [attr.int('axis', node.axis)] });
    },
    MatMul: (node) => {
      b.node(node, { opType: 'MatMul', name: node.name, inputs: node.inputs, outputs: [node.outputs[0]!.name] });
    },
  };
}
