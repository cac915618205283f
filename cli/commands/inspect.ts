/**
 * `netdef inspect`: the typed graph as a table (layer, kind, output shape, dtype, weights) and
 * totals (layers, parameters, GFLOPs at the input size).
 */
import { dispatch, type IrNode, type KindTable } from '../../dsl/ir/node.js';
import { formatShape } from '../../dsl/ir/tensor-type.js';
import { graphStats } from '../../dsl/stats.js';
import { prepareGraph } from '../../engine/prepare.js';
import { modelOptions, type Values } from '../args.js';
import type { CommandSpec } from '../command.js';
import { formatTable } from '../table.js';

const noWeights = (): string[] => [];
const WEIGHT_NAMES: KindTable<string[]> = {
  Input: noWeights, Output: noWeights, Constant: noWeights, Activation: noWeights, ElementWise: noWeights, Concat: noWeights,
  Split: noWeights, Pooling: noWeights, Resize: noWeights, Shuffle: noWeights, Softmax: noWeights, MatMul: noWeights,
  Cast: noWeights, Quantize: noWeights, Dequantize: noWeights, NMS: noWeights,
  Convolution: (n) => [n.weight.name, ...(n.bias ? [n.bias.name] : [])],
  BatchNorm: (n) => [n.gamma.name, n.beta.name, n.mean.name, n.var.name],
};

export function layerRow(node: IrNode): { layer: string; kind: string; shape: string; dtype: string; weights: string[] } {
  const out = node.outputs[0];
  return {
    layer: node.name, kind: node.kind,
    shape: node.outputs.map((o) => formatShape(o.type.shape)).join(' '),
    dtype: out ? out.type.dtype : '',
    weights: dispatch(WEIGHT_NAMES, node),
  };
}

async function inspect(values: Values): Promise<number> {
  const prepared = await prepareGraph(await modelOptions(values));
  const g = prepared.graph;
  const stats = graphStats(g);
  const rows = g.nodes.map(layerRow);
  if (values.json) {
    const report = { model: g.name, source: (prepared.store?.source.path ?? 'no weights'), imgsz: g.meta.imgsz, totals: stats, layers: rows };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  const table = formatTable(['layer', 'kind', 'output', 'dtype', 'weights'], rows.map((r) => [r.layer, r.kind, r.shape, r.dtype, r.weights.join(' ')]));
  process.stdout.write(`${table}\n\n${g.name} (${(prepared.store?.source.path ?? 'no weights')}) at ${g.meta.imgsz?.join('x')}: `
    + `${stats.layers} layers, ${stats.parameters.toLocaleString('en-US')} parameters, ${stats.gflops.toFixed(1)} GFLOPs\n`);
  return 0;
}

export const inspectCommand: CommandSpec = {
  name: 'inspect',
  summary: 'The typed graph as a table (layer, kind, output shape, dtype, weights) with parameter and GFLOP totals.',
  positionals: '',
  options: ['weights', 'model', 'imgsz', 'batch', 'half', 'int8', 'precision-policy', 'calib', 'json'],
  run: inspect,
};
