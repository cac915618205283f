/**
 * On the GPU machine (not a test: it needs a GPU and the cuda backend): detections with the GPU
 * letterbox and candidate pre-filter (`processing: 'gpu'`) against the CPU letterbox and host NMS
 * over the whole output (`processing: 'cpu'`), the same engine file (built once per batch size),
 * same images, batch 1 and 32, square letterbox. Prints one JSON line per setting: whether every image has the same detections (count,
 * classes, and the largest box and score differences), and rough images/s of each mode.
 *
 *   node --import tsx scripts/gpu-processing-check.ts --weights yolov8n.safetensors --images DIR [--precision fp16]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parsePolicy } from '../dsl/precision/policy.js';
import { Detector, type ImageResult } from '../engine/detector.js';
import { Engine } from '../engine/engine.js';
import { prepareModel } from '../engine/prepare.js';
import { imagesInFolder } from '../vision/files.js';

const { values } = parseArgs({ options: {
  weights: { type: 'string' }, images: { type: 'string' }, precision: { type: 'string', default: 'fp16' }, workers: { type: 'string', default: '8' },
} });
if (!values.weights || !values.images) throw new Error('--weights and --images are required');
const images = await imagesInFolder(values.images);
const workers = Number(values.workers);

async function run(file: string, processing: 'gpu' | 'cpu', batch: number): Promise<{ results: ImageResult[]; perS: number }> {
  await using d = await Detector.load(file, { batch, processing, workers });
  await d.detect(images); // warm-up: CUDA graphs captured, workers started
  const t0 = performance.now();
  const results = await d.detect(images);
  return { results, perS: images.length / ((performance.now() - t0) / 1000) };
}

for (const batch of [1, 32]) {
  const file = `/tmp/netdef-check-b${batch}.engine`;
  const engine = await Engine.build(await prepareModel({ weights: values.weights, policy: parsePolicy(values.precision!) }), { backend: 'cuda', batch: { min: 1, opt: batch, max: batch } });
  await engine.save(file);
  await engine.dispose();
  const gpu = await run(file, 'gpu', batch);
  const cpu = await run(file, 'cpu', batch);
  let same = true, box = 0, score = 0, detections = 0;
  gpu.results.forEach((g, i) => {
    const c = cpu.results[i]!;
    if (g.detections.length !== c.detections.length) same = false;
    g.detections.forEach((d, k) => {
      const e = c.detections[k];
      if (!e || e.classId !== d.classId) { same = false; return; }
      score = Math.max(score, Math.abs(d.score - e.score));
      box = Math.max(box, ...d.box.map((v, j) => Math.abs(v - e.box[j]!)));
    });
    detections += g.detections.length;
  });
  console.log(JSON.stringify({
    batch, images: images.length, detections, sameCountsAndClasses: same, maxBoxDiffPx: box, maxScoreDiff: score,
    gpuImagesPerS: Math.round(gpu.perS), cpuImagesPerS: Math.round(cpu.perS),
  }));
}
