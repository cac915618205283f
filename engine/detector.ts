/**
 * The detection pipeline as a user calls it: images in, boxes out. Ultralytics' predict semantics:
 * decode (EXIF applied, RGB), letterbox to the minimal rectangle (multiples of 32; Ultralytics'
 * `auto`, its default for PyTorch models, so the default here for weights) or to the full square
 * (engine files, which have a fixed size, as Ultralytics does for exported models), run the engine,
 * NMS (conf 0.25, iou 0.7, max_det 300 by default; the engine's own selection when it was built with
 * NMS), boxes mapped back to the original image. Engines are built per input shape from one loaded
 * checkpoint and kept; the time spent building is reported apart from inference.
 */
import { performance } from 'node:perf_hooks';
import { ErrorCode, NetdefError, fail } from '../common/errors.js';
import type { PrecisionPolicy } from '../dsl/precision/policy.js';
import { decodeImage, type RgbImage } from '../vision/image.js';
import { letterbox } from '../vision/letterbox.js';
import type { NmsOptions } from '../vision/nms.js';
import { checkEngineNmsOptions, detectionsFromEngineNms } from '../vision/engine-nms.js';
import { type Detection, postprocess, predictDefaults } from '../vision/postprocess.js';
import type { Yolov8NmsOptions } from '../models/yolov8/nms.js';
import { imageToTensor } from '../vision/tensor.js';
import { loadWeights } from '../weights/load.js';
import type { WeightStore } from '../weights/store.js';
import { open } from 'node:fs/promises';
import { DEFAULT_BACKEND, selectBackend } from './backends/index.js';
import { Engine } from './engine.js';
import { isEngineFile } from './file-format.js';
import { prepareFromStore } from './prepare.js';

export const DEFAULT_IMGSZ = 640;

export interface DetectorOptions {
  readonly backend?: string;
  /** Input size: a square side or [height, width] (default 640). */
  readonly imgsz?: number | readonly [number, number];
  /**
   * Letterbox to the minimal rectangle (multiples of 32) instead of the full square. Default: true
   * for weights (Ultralytics' predict on a .pt model), false for engine files (fixed input size, as
   * Ultralytics does for exported models).
   */
  readonly rect?: boolean;
  readonly policy?: PrecisionPolicy;
  readonly threads?: number;
}

export type DetectOptions = NmsOptions;
export type ImageInput = string | Uint8Array | RgbImage;

/** Milliseconds spent per stage for one image. */
export interface StageTimes {
  readonly decode: number;
  readonly letterbox: number;
  readonly inference: number;
  readonly nms: number;
  /** Building an engine for this image's input shape (0 when one was ready); not part of the others. */
  readonly build: number;
}

export interface ImageResult {
  readonly image: string;
  readonly width: number;
  readonly height: number;
  readonly detections: Detection[];
  readonly times: StageTimes;
  /** [height, width] of the network input the image was letterboxed to. */
  readonly inputShape: readonly [number, number];
}

export interface ImageFailure {
  readonly image: string;
  readonly error: NetdefError;
}

function squareShape(imgsz: DetectorOptions['imgsz']): [number, number] {
  const [h, w] = typeof imgsz === 'number' || imgsz === undefined ? [imgsz ?? DEFAULT_IMGSZ, imgsz ?? DEFAULT_IMGSZ] : imgsz;
  if (![h, w].every((d) => Number.isInteger(d) && d! >= 32 && d! % 32 === 0)) fail(ErrorCode.InvalidArgument, `imgsz must be positive multiples of 32, got ${String(imgsz)}`);
  return [h!, w!];
}

async function startsLikeEngine(path: string): Promise<boolean> {
  const ENGINE_PROBE_BYTES = 8;
  const handle = await open(path, 'r').catch(() => null);
  if (!handle) return false;
  try {
    // A directory (EISDIR) or an unreadable file is not an engine; the weights loader names the problem.
    const probe = await handle.read(Buffer.alloc(ENGINE_PROBE_BYTES), 0, ENGINE_PROBE_BYTES, 0).catch(() => null);
    return probe !== null && isEngineFile(probe.buffer.subarray(0, probe.bytesRead));
  } finally {
    await handle.close();
  }
}

/** What a caller asked for that a saved engine cannot do (its backend, size and precision are fixed). */
function engineConflict(path: string, engine: Engine, options: DetectorOptions): string | undefined {
  const [h, w] = engine.metadata.imgsz;
  if (options.rect) return `${path} is an engine built for ${h}x${w}; rect mode needs weights (engines have a fixed input size)`;
  if (options.backend !== undefined && options.backend !== engine.backend) {
    return `${path} is a ${engine.backend} engine; it cannot run on backend '${options.backend}' (build one with netdef build --backend ${options.backend})`;
  }
  if (options.imgsz !== undefined) {
    const [ih, iw] = squareShape(options.imgsz);
    if (ih !== h || iw !== w) return `${path} is an engine built for ${h}x${w}; it cannot run at imgsz ${ih}x${iw}`;
  }
  if (options.threads !== undefined && engine.backend !== DEFAULT_BACKEND) return `${path} is a ${engine.backend} engine; threads set the ${DEFAULT_BACKEND} backend only`;
  if (options.policy !== undefined) return `${path} is an engine whose layer precisions are fixed at build time; a precision policy applies to netdef build`;
  return undefined;
}

export class Detector {
  private readonly engines = new Map<string, Promise<Engine>>();
  private disposed = false;

  private constructor(readonly store: WeightStore | null, private readonly options: DetectorOptions, readonly names: readonly string[]) {}

  /**
   * Loads a checkpoint (.pt or .safetensors; engines are built per input size on first use) or a
   * saved engine file (fixed input size, so square mode only), and checks the backend can run here.
   */
  static async load(weightsOrEngine: string, options: DetectorOptions = {}): Promise<Detector> {
    squareShape(options.imgsz);
    if (await startsLikeEngine(weightsOrEngine)) {
      const engine = await Engine.load(weightsOrEngine, options.threads === undefined ? {} : { threads: options.threads });
      const [h, w] = engine.metadata.imgsz;
      const conflict = engineConflict(weightsOrEngine, engine, options);
      if (conflict) {
        await engine.dispose();
        fail(ErrorCode.InvalidArgument, conflict);
      }
      const detector = new Detector(null, { ...options, imgsz: [h, w], backend: engine.backend, rect: false }, engine.metadata.names);
      detector.engines.set(`${h}x${w}`, Promise.resolve(engine));
      return detector;
    }
    selectBackend(options.backend ?? DEFAULT_BACKEND);
    const store = await loadWeights(weightsOrEngine);
    const nc = store.info.nc ?? store.info.names?.length ?? 0;
    const names = store.info.names ?? Array.from({ length: nc }, (_, i) => String(i));
    return new Detector(store, options, names);
  }

  /** Whether images are letterboxed to the minimal rectangle (see DetectorOptions.rect). */
  get rect(): boolean {
    return this.options.rect ?? this.store !== null;
  }

  /** The engine's own NMS settings when it was built with NMS (detect then takes its selected rows). */
  async engineNms(): Promise<Yolov8NmsOptions | undefined> {
    if (this.store) return undefined;
    const [engine] = [...this.engines.values()];
    return (await engine!).metadata.nms;
  }

  /** Detections for each image, in order. Images are processed one after another. */
  async detect(images: ImageInput | readonly ImageInput[], options: DetectOptions = {}): Promise<ImageResult[]> {
    const list = Array.isArray(images) ? (images as readonly ImageInput[]) : [images as ImageInput];
    const out: ImageResult[] = [];
    for (const image of list) out.push(await this.detectOne(image, options));
    return out;
  }

  /** One result per image, as each is done; a failing image yields its error and the rest go on. */
  async *detectEach(images: Iterable<string> | AsyncIterable<string>, options: DetectOptions = {}): AsyncGenerator<ImageResult | ImageFailure> {
    for await (const image of images) {
      try {
        yield await this.detectOne(image, options);
      } catch (e) {
        if (!(e instanceof NetdefError) || e.code === ErrorCode.Backend) throw e;
        yield { image, error: e };
      }
    }
  }

  async detectOne(input: ImageInput, options: DetectOptions = {}): Promise<ImageResult> {
    if (this.disposed) fail(ErrorCode.Backend, 'this detector has been disposed');
    const t0 = performance.now();
    const image = typeof input === 'string' || input instanceof Uint8Array ? await decodeImage(input) : input;
    const t1 = performance.now();
    const boxed = letterbox(image, { shape: squareShape(this.options.imgsz), auto: this.rect });
    const tensor = imageToTensor(boxed.image);
    const t2 = performance.now();
    const engine = await this.engineFor(boxed.image.height, boxed.image.width);
    const tBuilt = performance.now();
    const outputs = await engine.run({ images: tensor });
    const t3 = performance.now();
    const shapes = { input: [boxed.image.height, boxed.image.width] as const, original: [image.height, image.width] as const };
    const inEngine = engine.metadata.nms;
    if (inEngine) checkEngineNmsOptions(inEngine, options);
    const [detections] = inEngine
      ? detectionsFromEngineNms(outputs, inEngine, shapes, { maxDet: predictDefaults.maxDet!, ...options }, this.names)
      : postprocess(outputs['output0']!, shapes, { ...predictDefaults, ...options }, this.names);
    const t4 = performance.now();
    return {
      image: image.path, width: image.width, height: image.height, detections: detections!, inputShape: shapes.input,
      times: { decode: t1 - t0, letterbox: t2 - t1, build: tBuilt - t2, inference: t3 - tBuilt, nms: t4 - t3 },
    };
  }

  /** The engine for one input size, built on first use (from weights) or the loaded engine. */
  engineFor(height: number, width: number, batch = 1): Promise<Engine> {
    const key = `${height}x${width}`;
    let engine = this.engines.get(key);
    if (!engine) {
      if (!this.store) {
        const [h, w] = squareShape(this.options.imgsz);
        return Promise.reject(new NetdefError(ErrorCode.InvalidArgument, `this engine was built for ${h}x${w} inputs, not ${height}x${width}`));
      }
      const prepared = prepareFromStore(this.store, { imgsz: [height, width], ...(this.options.policy ? { policy: this.options.policy } : {}) });
      engine = Engine.build(prepared, {
        backend: this.options.backend ?? DEFAULT_BACKEND, batch: { min: 1, opt: batch, max: Math.max(batch, 1) },
        ...(this.options.threads === undefined ? {} : { threads: this.options.threads }),
      });
      this.engines.set(key, engine);
      engine.catch(() => this.engines.delete(key));
    }
    return engine;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const engines = [...this.engines.values()];
    this.engines.clear();
    await Promise.allSettled(engines.map(async (e) => (await e).dispose()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  /** For `using`: starts releasing the engines (runs in flight finish first). */
  [Symbol.dispose](): void {
    void this.dispose();
  }
}
