/**
 * Prepares what GPU tests and benchmarks need on the GPU machine, which has neither ONNX Runtime for
 * Node nor the shared data, into .gpu/ (ignored; the device tool carries it):
 *   .gpu/<model>/weights.safetensors          yolov8n, yolov8s (netdef convert of the official .pt)
 *   .gpu/<model>/<image>.ref.json             the CPU backend's fp32 output0 on the letterboxed image,
 *                                             sampled: the 128 anchors with the highest class score and
 *                                             128 seeded random anchors, all 4 + nc rows of each
 *   .gpu/<model>/calib.json                   an int8 calibration on the CPU backend: the first 64
 *                                             coco128 images, the default method (docs/int8.md)
 *   .gpu/images/, .gpu/coco128/, .gpu/coco.names
 * Inputs are not stored: the GPU test letterboxes the same JPEGs with the same code.
 *
 *   npx tsx scripts/gpu-fixtures.ts
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toFloat32 } from '../common/host-tensor.js';
import { onnxruntimeBackend } from '../engine/backends/onnxruntime.js';
import { calibrate } from '../engine/calibrate/calibrate.js';
import { writeCalibration } from '../engine/calibrate/calibration-file.js';
import { prepareModel } from '../engine/prepare.js';
import { dataPath, REPO_ROOT } from '../test/data.js';
import { decodeImage } from '../vision/image.js';
import { letterbox } from '../vision/letterbox.js';
import { imageToTensor } from '../vision/tensor.js';
import { convertPtToSafetensors } from '../weights/convert.js';

const OUT = join(REPO_ROOT, '.gpu');
const IMAGES = ['bus.jpg', 'zidane.jpg'];
const TOP_ANCHORS = 128;
const RANDOM_ANCHORS = 128;
/** As the accuracy measurements of docs/int8.md: the first 64 images of coco128. */
const CALIBRATION_IMAGES = 64;

function sampleAnchors(out: Float32Array, rows: number, anchors: number, seed: number): number[] {
  const best = Array.from({ length: anchors }, (_, k) => {
    let m = -Infinity;
    for (let r = 4; r < rows; r++) m = Math.max(m, out[r * anchors + k]!);
    return [m, k] as const;
  }).sort((a, b) => b[0] - a[0]).slice(0, TOP_ANCHORS).map(([, k]) => k);
  const chosen = new Set(best);
  let a = seed;
  while (chosen.size < TOP_ANCHORS + RANDOM_ANCHORS) {
    a = (a * 1103515245 + 12345) % 2147483648;
    chosen.add(a % anchors);
  }
  return [...chosen].sort((x, y) => x - y);
}

for (const model of ['yolov8n', 'yolov8s']) {
  const dir = join(OUT, model);
  mkdirSync(dir, { recursive: true });
  const weights = join(dir, 'weights.safetensors');
  await convertPtToSafetensors(dataPath('weights', `${model}.pt`), weights);
  const prepared = await prepareModel({ weights });
  const runner = await onnxruntimeBackend.build(prepared.graph, prepared.params);
  for (const [i, image] of IMAGES.entries()) {
    const input = imageToTensor(letterbox(await decodeImage(dataPath('images', image)), { shape: 640 }).image);
    const out = (await runner.run({ images: input })).output0!;
    const [, rows, anchors] = out.shape as [number, number, number];
    const values = toFloat32(out);
    const picked = sampleAnchors(values, rows, anchors, i + 1);
    const ref = { model, image, rows, anchors, letterbox: 640, picked, values: picked.map((k) => Array.from({ length: rows }, (_, r) => values[r * anchors + k]!)) };
    writeFileSync(join(dir, `${image}.ref.json`), JSON.stringify(ref));
  }
  await runner.dispose();
  const calibration = await calibrate({ weights, data: dataPath('coco128', 'images'), images: CALIBRATION_IMAGES, backend: 'onnxruntime' });
  await writeCalibration(join(dir, 'calib.json'), calibration);
}
cpSync(dataPath('coco128'), join(OUT, 'coco128'), { recursive: true });
mkdirSync(join(OUT, 'images'), { recursive: true });
for (const image of IMAGES) cpSync(dataPath('images', image), join(OUT, 'images', image));
cpSync(dataPath('coco.names'), join(OUT, 'coco.names'));
writeFileSync(join(OUT, 'PROVENANCE.md'), 'Copied from shared/data (and computed from it) by scripts/gpu-fixtures.ts for GPU runs; never committed.\n');
console.log(`wrote ${OUT}`);
