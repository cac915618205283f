/** `netdef export-onnx`: the typed graph as an ONNX file that Netron and ONNX Runtime open. */
import { writeFile, rename, rm } from 'node:fs/promises';
import { exportOnnx as toOnnx } from '../../dsl/onnx/export.js';
import { prepareModel } from '../../engine/prepare.js';
import { modelOptions, required, type Values } from '../args.js';
import type { CommandSpec } from '../command.js';

async function exportOnnx(values: Values): Promise<number> {
  const out = required(values, 'output', 'the .onnx file to write');
  const options = await modelOptions(values);
  const prepared = await prepareModel(options);
  if (!options.weights) process.stderr.write(`warning: no --weights: ${out} holds ${prepared.graph.name} with random (untrained) weights, useful for graph checks only\n`);
  const meta = prepared.graph.meta;
  const bytes = toOnnx(prepared.graph, prepared.params, {
    metadata: {
      producer: 'netdef', model: meta.model, stride: String(Math.max(...(meta.strides ?? [32]))), task: 'detect',
      imgsz: JSON.stringify(meta.imgsz), names: JSON.stringify(Object.fromEntries((meta.names ?? []).map((n, i) => [i, n]))),
    },
  });
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, out);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  process.stderr.write(`wrote ${out} (${(bytes.byteLength / 1e6).toFixed(1)} MB, ${prepared.graph.nodes.length} layers)\n`);
  return 0;
}

export const exportOnnxCommand: CommandSpec = {
  name: 'export-onnx',
  summary: 'Write the typed graph as an ONNX file (opset 17) that Netron and ONNX Runtime open.',
  positionals: '',
  options: ['weights', 'model', 'imgsz', 'batch', 'half', 'int8', 'precision-policy', 'calib', 'output'],
  required: { output: 'the .onnx file to write' },
  run: exportOnnx,
};
