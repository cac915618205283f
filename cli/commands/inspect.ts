/**
 * `netdef inspect`: the typed graph as a table (layer, kind, output shape, dtype, weights; with
 * int8 layers also each layer's precision and int8 scales) and totals (layers, parameters, GFLOPs
 * at the input size).
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

const PRECISION_OF_DTYPE: Readonly<Record<string, string>> = { float32: 'fp32', float16: 'fp16', int8: 'int8' };
const SCALE_DIGITS = 4;

/** The arithmetic a layer runs in: int8 for an int8 convolution (float32 out) and int8 data movement, else its output's float type. */
function precisionOf(node: IrNode): string {
  if (node.kind === 'Convolution' && node.quant) return 'int8';
  const dtype = node.outputs[0]?.type.dtype ?? '';
  return PRECISION_OF_DTYPE[dtype] ?? dtype;
}

/** The int8 scales a layer uses: a Quantize's, an int8 convolution's input scale (its weights have one per output channel). */
function scalesOf(node: IrNode): string {
  if (node.kind === 'Quantize') return node.scales.length === 1 ? node.scales[0]!.toPrecision(SCALE_DIGITS) : `${node.scales.length} per channel`;
  if (node.kind === 'Convolution' && node.quant) return `x ${node.quant.inputScale.toPrecision(SCALE_DIGITS)}, w per channel`;
  return '';
}

export function layerRow(node: IrNode): { layer: string; kind: string; shape: string; dtype: string; precision: string; scales: string; weights: string[] } {
  const out = node.outputs[0];
  return {
    layer: node.name, kind: node.kind,
    shape: node.outputs.map((o) => formatShape(o.type.shape)).join(' '),
    dtype: out ? out.type.dtype : '',
    precision: precisionOf(node),
    scales: scalesOf(node),
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
  const int8 = rows.some((r) => r.scales !== '');
  const table = int8
    ? formatTable(['layer', 'kind', 'output', 'dtype', 'precision', 'int8 scales', 'weights'], rows.map((r) => [r.layer, r.kind, r.shape, r.dtype, r.precision, r.scales, r.weights.join(' ')]))
    : formatTable(['layer', 'kind', 'output', 'dtype', 'weights'], rows.map((r) => [r.layer, r.kind, r.shape, r.dtype, r.weights.join(' ')]));
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
