/**
 * End-to-end detection throughput (not a test): the Detector over a folder of images (coco128),
 * everything a user's run does except drawing and writing pictures: decode, letterbox, inference,
 * NMS, boxes mapped back. Per batch size: one warm-up pass (which builds the engine, reported
 * apart), then timed passes; the median images/s and the per-image stage times of the median pass.
 * Square letterbox (one engine per batch size; the peer letterboxes to the square too).
 *
 *   node --import tsx scripts/bench/detect-e2e.ts --weights yolov8n.pt --data coco128/images \
 *     --backend cuda --precision fp16 --batch 1,32 --workers 8 --repeats 5 [--input uint8|float32] [--processing gpu|cpu]
 *
 * `--processing` (default: the Detector's, gpu on cuda) chooses where letterbox and NMS's
 * confidence pre-filter run; with gpu the `letterbox` stage is the handover of decoded bytes and
 * the GPU letterbox is inside `inference`.
 *
 * `--stages` (GPU processing) also times the stages alone, to say where the end-to-end time goes:
 * decoding only (all images at once on the workers, bytes handed back), and the engine only
 * (runImages with the candidate query on images decoded beforehand, batch after batch), with the
 * part of each runImages call spent on the JS thread (checking and packing the images).
 *
 * Prints one JSON line per batch size. The peer is scripts/bench/torch_pipeline.py, run in the
 * same call on the same machine.
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parsePolicy } from '../../dsl/precision/policy.js';
import { Detector, type StageTimes } from '../../engine/detector.js';
import type { DeviceImage } from '../../engine/image-run.js';
import { imagesInFolder } from '../../vision/files.js';
import { letterboxGeometry } from '../../vision/letterbox.js';
import { DEFAULT_MAX_NMS } from '../../vision/nms.js';
import { predictDefaults } from '../../vision/postprocess.js';
import type { DecodedImage } from '../../vision/preprocess/pool.js';

const { values } = parseArgs({ options: {
  weights: { type: 'string' }, data: { type: 'string' }, backend: { type: 'string', default: 'cuda' },
  precision: { type: 'string', default: 'fp16' }, batch: { type: 'string', default: '1,32' },
  workers: { type: 'string' }, repeats: { type: 'string', default: '5' }, imgsz: { type: 'string', default: '640' },
  input: { type: 'string' }, processing: { type: 'string' }, stages: { type: 'boolean', default: false },
} });
if (!values.weights || !values.data) throw new Error('--weights and --data are required');
const images = await imagesInFolder(values.data);
const repeats = Number(values.repeats);
const imgsz = Number(values.imgsz);

const round = (x: number): number => Math.round(x * 1000) / 1000;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Pass {
  readonly seconds: number;
  readonly perImage: StageTimes;
  readonly detections: number;
}

async function pass(detector: Detector): Promise<Pass> {
  const sum = { decode: 0, letterbox: 0, inference: 0, nms: 0, build: 0 };
  let detections = 0;
  const t0 = performance.now();
  for await (const r of detector.detectEach(images)) {
    if ('error' in r) throw r.error;
    for (const k of Object.keys(sum) as (keyof StageTimes)[]) sum[k] += r.times[k];
    detections += r.detections.length;
  }
  const seconds = (performance.now() - t0) / 1000;
  const n = images.length;
  return { seconds, detections, perImage: { decode: sum.decode / n, letterbox: sum.letterbox / n, inference: sum.inference / n, nms: sum.nms / n, build: sum.build } };
}

for (const batch of values.batch!.split(',').map(Number)) {
  const workers = values.workers ? Number(values.workers) : undefined;
  await using detector = await Detector.load(values.weights, {
    backend: values.backend!, imgsz, rect: false, batch, policy: parsePolicy(values.precision!),
    ...(workers !== undefined ? { workers } : {}), ...(values.input ? { input: values.input as 'uint8' | 'float32' } : {}),
    ...(values.processing ? { processing: values.processing as 'gpu' | 'cpu' } : {}),
  });
  const warm = await pass(detector);
  const passes: Pass[] = [];
  for (let i = 0; i < repeats; i++) passes.push(await pass(detector));
  const rates = passes.map((p) => images.length / p.seconds);
  const mid = passes[rates.indexOf(median(rates))]!;
  process.stdout.write(`${JSON.stringify({
    peer: 'netdef', backend: values.backend, precision: values.precision, input: values.input ?? 'default', processing: detector.processing, batch, workers: workers ?? `default (${availableParallelism()} cores)`,
    images: images.length, images_per_s: round(median(rates)), all_rates: rates.map(round), build_s: round(warm.perImage.build / 1000),
    ms_per_image: Object.fromEntries(Object.entries(mid.perImage).filter(([k]) => k !== 'build').map(([k, v]) => [k, round(v)])),
    detections: mid.detections,
    ...(values.stages && detector.processing === 'gpu' ? { stages_alone: await stagesAlone(detector, batch) } : {}),
  })}\n`);
}

/** Decoding alone and the engine alone (GPU processing), in images/s; medians over the repeats. */
async function stagesAlone(detector: Detector, batch: number): Promise<Record<string, number>> {
  const pool = detector.preprocessing;
  const decodeRates: number[] = [];
  let decoded: DecodedImage[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    decoded = await Promise.all(images.map((path) => pool.decode(path, undefined, true)));
    decodeRates.push(images.length / ((performance.now() - t0) / 1000));
  }
  const deviceImages: DeviceImage[] = decoded.map((d) => ({ data: d.data!, width: d.width, height: d.height, geometry: letterboxGeometry(d.width, d.height, { shape: [imgsz, imgsz], auto: false }) }));
  const engine = await detector.engineFor(imgsz, imgsz, batch);
  const query = { conf: predictDefaults.conf!, maxNms: DEFAULT_MAX_NMS };
  const engineRates: number[] = [];
  const packMs: number[] = [];
  for (let i = 0; i < repeats + 1; i++) {
    let sync = 0;
    const t0 = performance.now();
    for (let k = 0; k < deviceImages.length; k += batch) {
      const s0 = performance.now();
      const run = engine.runImages(deviceImages.slice(k, k + batch), query);
      sync += performance.now() - s0;
      await run;
    }
    if (i === 0) continue; // warm-up
    engineRates.push(deviceImages.length / ((performance.now() - t0) / 1000));
    packMs.push(sync / deviceImages.length);
  }
  return { decode_images_per_s: round(median(decodeRates)), engine_images_per_s: round(median(engineRates)), js_thread_ms_per_image: round(median(packMs)) };
}
