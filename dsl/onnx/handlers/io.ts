/**
 * ONNX export of the graph's boundary: Input (a graph input whose symbolic dims become dim_param),
 * Output (an Identity producing the graph output under the node's name, as `output0`) and Constant
 * (an initializer named by its tensor).
 */
import type { KindTable } from '../../ir/node.js';
import type { OnnxGraphBuilder } from '../builder.js';

export function ioHandlers(b: OnnxGraphBuilder): Pick<KindTable<void>, 'Input' | 'Output' | 'Constant'> {
  return {
    Input: (node) => {
      const out = node.outputs[0]!;
      b.graphInput(node, out.name, out.type);
    },
    Output: (node) => {
      const out = node.outputs[0]!;
      b.node(node, { opType: 'Identity', name: node.name, inputs: node.inputs, outputs: [out.name] });
      b.graphOutput(out.name, out.type);
    },
    Constant: (node) => {
      b.initializer(node, node.outputs[0]!.name, node.value);
    },
  };
}
