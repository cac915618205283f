/**
 * Accuracy on a dataset, prepared as Ultralytics 8.0.232's `val` prepares it and scored with
 * COCOeval's semantics (vision/eval). Per image: decode, resize the long side to imgsz
 * (`load_image`, INTER_LINEAR, ceil), letterbox without upscaling, to the full square (what val
 * does for exported models: rect off, batch 1) or, with `rect`, to the shape of the image's rect
 * batch (what val does for PyTorch models: images sorted by aspect ratio, batches of 16, shapes
 * padded by half a stride). NMS with val's defaults (conf 0.001, iou 0.7, multi-label, 300 per
 * image); boxes mapped back with the dataset's ratio_pad (load ratio, letterbox padding).
 */
import { performance } from 'node:perf_hooks';
import { ErrorCode, NetdefError } from '../common/errors.js';
import type { NmsOptions } from '../vision/nms.js';
import { type Detection, type ImageShapes, postprocess, valDefaults } from '../vision/postprocess.js';
import type { DecodedImage } from '../vision/preprocess/pool.js';
import { rectBatches } from '../vision/val-shapes.js';
import type { HostTensor } from '../common/host-tensor.js';
import { stackInputs } from './detect-stream.js';
import { InputBuffers } from './input-buffers.js';
import { evaluateCoco, type CocoEvalResult, type CocoDetection, loadEvalDataset, toCocoDetections, type EvalDataset, type EvalImage } from '../vision/eval/index.js';
import { Detector, DEFAULT_IMGSZ, type DetectorOptions } from './detector.js';

/** Ultralytics' default validation batch size (rect batches are cut at this size). */
export const VAL_BATCH = 16;

export interface EvaluateOptions extends Omit<DetectorOptions, 'imgsz'> {
  readonly imgsz?: number;
  /** 'coco' (annotations JSON) or 'yolo' (labels/); default: COCO when the folder has annotations. */
  readonly format?: 'coco' | 'yolo';
  readonly annotations?: string;
  /** The split of a split folder or data.yaml (default val, or the only one). */
  readonly split?: string;
  readonly batch?: number;
  readonly nms?: NmsOptions;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface EvaluationReport extends CocoEvalResult {
  readonly dataset: string;
  readonly format: 'coco' | 'yolo';
  readonly images: number;
  readonly detections: number;
  readonly mode: 'square' | 'rect';
  readonly imgsz: number;
  /** The split evaluated (split folders and data.yaml files). */
  readonly split?: string;
  /** Milliseconds per image, averaged: decode, preprocess (load-resize + letterbox + tensor), inference, postprocess; build in total. */
  readonly times: EvalTimes;
  /** Notes from building the engines (a calibration used at another input size). */
  readonly notes: readonly string[];
}

export interface EvalTimes {
  readonly decode: number;
  readonly preprocess: number;
  readonly inference: number;
  readonly postprocess: number;
  /** Engine builds, in total (not per image). */
  readonly build: number;
}

class TimeSums {
  decode = 0;
  preprocess = 0;
  inference = 0;
  postprocess = 0;
  build = 0;

  perImage(images: number): EvalTimes {
    const n = Math.max(images, 1);
    return { decode: this.decode / n, preprocess: this.preprocess / n, inference: this.inference / n, postprocess: this.postprocess / n, build: this.build };
  }
}

interface Job {
  readonly images: readonly EvalImage[];
  /** [height, width] every image of the job is letterboxed to. */
  readonly shape: readonly [number, number];
}

function jobs(dataset: EvalDataset, imgsz: number, rect: boolean, batch: number): Job[] {
  if (!rect) return dataset.images.map((image) => ({ images: [image], shape: [imgsz, imgsz] as const }));
  const plan = rectBatches(dataset.images.map((i) => [i.height, i.width] as const), batch, imgsz);
  return plan.batchShapes.map((shape, b) => ({
    images: plan.order.filter((_, k) => plan.batchOf[k] === b).map((i) => dataset.images[i]!),
    shape,
  }));
}

interface PreparedJob {
  readonly job: Job;
  readonly tensor: HostTensor;
  readonly shapes: ImageShapes[];
}

/** Decodes and letterboxes a job's images on the preprocessing workers (validation's load-resize first). */
async function prepareJob(detector: Detector, job: Job, imgsz: number, times: TimeSums, buffers: InputBuffers): Promise<PreparedJob> {
  const pool = detector.preprocessing;
  const decoded = await Promise.allSettled(job.images.map((i) => pool.decode(i.path)));
  const failed = decoded.find((d) => d.status === 'rejected');
  if (failed) {
    await Promise.all(decoded.map((d) => (d.status === 'fulfilled' ? pool.drop(d.value) : undefined)));
    throw failed.reason;
  }
  const images = decoded.map((d) => (d as PromiseFulfilledResult<DecodedImage>).value);
  const prepared = await Promise.all(images.map((d) => pool.letterbox(d, job.shape, false, detector.inputType, imgsz)));
  images.forEach((d, k) => {
    times.decode += d.ms;
    times.preprocess += prepared[k]!.ms;
  });
  const shapes = images.map((image, k): ImageShapes => {
    const { loaded, geometry } = prepared[k]!;
    return {
      input: job.shape,
      original: [image.height, image.width] as const,
      ratioPad: { ratio: [loaded.height / image.height, loaded.width / image.width] as const, pad: [geometry.padLeft, geometry.padTop] as const },
    };
  });
  return { job, shapes, tensor: stackInputs(prepared, job.shape, detector.inputType, buffers) };
}

async function runJob(detector: Detector, prepared: PreparedJob, maxBatch: number, nms: NmsOptions, times: TimeSums, buffers: InputBuffers): Promise<Detection[][]> {
  const { job } = prepared;
  const t2 = performance.now();
  const engine = await detector.engineFor(job.shape[0], job.shape[1], maxBatch);
  const t3 = performance.now();
  const { output0 } = await engine.run({ images: prepared.tensor });
  if (job.images.length > 1) buffers.give(prepared.tensor.data);
  const t4 = performance.now();
  times.build += t3 - t2;
  times.inference += t4 - t3;
  const detections = postprocess(output0!, prepared.shapes, nms, detector.names);
  times.postprocess += performance.now() - t4;
  return detections;
}

export async function evaluate(weights: string, data: string, options: EvaluateOptions = {}): Promise<EvaluationReport> {
  const imgsz = options.imgsz ?? DEFAULT_IMGSZ;
  await using detector = await Detector.load(weights, { ...options, imgsz });
  const rect = detector.rect;
  const dataset = await loadEvalDataset(data, {
    ...(options.format ? { format: options.format } : {}), ...(options.annotations ? { annotations: options.annotations } : {}),
    ...(options.split !== undefined ? { split: options.split } : {}), names: detector.names,
  });
  const times = new TimeSums();
  const results: CocoDetection[] = [];
  let done = 0;
  const batch = options.batch ?? VAL_BATCH;
  const plan = jobs(dataset, imgsz, rect, batch);
  const buffers = new InputBuffers();
  // The workers prepare job k+1 while the engine runs job k.
  const prepare = (k: number): Promise<PreparedJob> | undefined => {
    const job = plan[k];
    if (!job) return undefined;
    const p = prepareJob(detector, job, imgsz, times, buffers);
    p.catch(() => undefined); // awaited in turn; this only keeps an abandoned one from being "unhandled"
    return p;
  };
  let next = prepare(0);
  for (let k = 0; k < plan.length; k++) {
    const job = plan[k]!;
    let perImage: Detection[][];
    try {
      const prepared = await next!;
      next = prepare(k + 1);
      perImage = await runJob(detector, prepared, rect ? batch : 1, { ...valDefaults, ...options.nms }, times, buffers);
    } catch (e) {
      if (e instanceof NetdefError) throw e;
      throw new NetdefError(ErrorCode.Backend, `evaluation failed on ${job.images.map((i) => i.path).join(', ')}: ${(e as Error).message}`, { cause: e });
    }
    job.images.forEach((image, k) => {
      results.push(...toCocoDetections(image.id, perImage[k]!.map((d) => ({ box: d.box, score: d.score, classIndex: d.classId })), (c) => dataset.categoryIdOfClass(c)));
    });
    done += job.images.length;
    options.onProgress?.(done, dataset.images.length);
  }
  const scores = evaluateCoco(dataset.groundTruth, results);
  return {
    ...scores, dataset: data, format: dataset.format, images: dataset.images.length, detections: results.length, mode: rect ? 'rect' : 'square', imgsz,
    ...(dataset.split ? { split: dataset.split } : {}), times: times.perImage(dataset.images.length), notes: [...detector.notes],
  };
}
