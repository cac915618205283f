/**
 * CPU benchmark of the whole detection pipeline on coco128 (not a test): images/s end to end for
 * a model, and the share of time in decode, letterbox (+ tensor), inference and NMS. Side by side,
 * in the same run, the peer: ONNX Runtime running the official Ultralytics ONNX export on the same
 * letterboxed tensors (inference only), when the model is yolov8n.
 *
 *   npx tsx scripts/bench/cpu-pipeline.ts [--model yolov8n] [--data DIR] [--warmup 5] [--threads N]
 *
 * Prints a Markdown table for docs/benchmarks.md.
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { toFloat32 } from '../../common/host-tensor.js';
import { Detector, type StageTimes } from '../../engine/detector.js';
import { decodeImage } from '../../vision/image.js';
import { imagesInFolder } from '../../vision/files.js';
import { letterbox } from '../../vision/letterbox.js';
import { imageToTensor } from '../../vision/tensor.js';
import { dataPath } from '../../test/data.js';

const { values } = parseArgs({ options: {
  model: { type: 'string', default: 'yolov8n' }, data: { type: 'string' }, warmup: { type: 'string', default: '5' }, threads: { type: 'string', default: '0' },
} });
const model = values.model!;
const images = await imagesInFolder(values.data ?? join(dataPath('coco128'), 'images'));
const threads = Number(values.threads);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function ours(): Promise<{ total: StageTimes; perImage: number[]; wall: number }> {
  await using detector = await Detector.load(dataPath('weights', `${model}.pt`), threads ? { threads } : {});
  for (const image of images.slice(0, Number(values.warmup))) await detector.detect(image);
  const total = { decode: 0, letterbox: 0, inference: 0, nms: 0, build: 0 };
  const perImage: number[] = [];
  const t0 = performance.now();
  for await (const r of detector.detectEach(images)) {
    if ('error' in r) throw r.error;
    for (const k of Object.keys(total) as (keyof StageTimes)[]) total[k] += r.times[k];
    perImage.push(r.times.inference);
  }
  return { total, perImage, wall: performance.now() - t0 };
}

async function peer(): Promise<number[] | null> {
  if (model !== 'yolov8n') return null;
  const session = await ort.InferenceSession.create(dataPath('onnx', 'yolov8n.onnx'), { graphOptimizationLevel: 'all', ...(threads ? { intraOpNumThreads: threads } : {}) });
  const times: number[] = [];
  for (const [i, path] of images.entries()) {
    const t = imageToTensor(letterbox(await decodeImage(path), { shape: 640 }).image);
    const input = new ort.Tensor('float32', toFloat32(t), [...t.shape]);
    const s = performance.now();
    await session.run({ images: input });
    if (i >= Number(values.warmup)) times.push(performance.now() - s);
  }
  await session.release();
  return times;
}

const r = await ours();
const p = await peer();
const sum = r.total.decode + r.total.letterbox + r.total.inference + r.total.nms;
const pct = (x: number): string => `${((100 * x) / sum).toFixed(1)}%`;
console.log(`\n${model}, ${images.length} coco128 images, square 640, batch 1, ${cpus().length} CPU cores (${cpus()[0]?.model}), threads ${threads || 'ORT default'}\n`);
console.log('| | images/s end to end | decode | letterbox + tensor | inference | NMS + box mapping | median inference ms |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
console.log(`| netdef (DSL graph on onnxruntime-node) | ${(images.length / (r.wall / 1000)).toFixed(2)} | ${pct(r.total.decode)} | ${pct(r.total.letterbox)} | ${pct(r.total.inference)} | ${pct(r.total.nms)} | ${median(r.perImage).toFixed(1)} |`);
if (p) console.log(`| peer: official yolov8n.onnx, same ORT, same tensors | — | — | — | — | — | ${median(p).toFixed(1)} |`);
