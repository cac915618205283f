/** `netdef export-onnx`: the typed graph as an ONNX file that Netron and ONNX Runtime open. */
import { writeFile, rename, rm } from 'node:fs/promises';
import { exportOnnx } from '../../dsl/onnx/export.js';
import { prepareModel } from '../../engine/prepare.js';
import { modelOptions, required, type Values } from '../args.js';

export const exportUsage = 'netdef export-onnx [--weights FILE | --model yolov8n] [--precision-policy P] [--imgsz 640] [--batch N|dynamic] -o OUT.onnx';

export async function exportOnnxCommand(values: Values): Promise<void> {
  const out = required(values, 'output', 'the .onnx file to write');
  const prepared = await prepareModel(modelOptions(values));
  const meta = prepared.graph.meta;
  const bytes = exportOnnx(prepared.graph, prepared.params, {
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
}
