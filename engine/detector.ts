/**
 * The detection pipeline as a user calls it: images in, boxes out. Ultralytics' predict semantics:
 * decode (EXIF applied, RGB), letterbox to the minimal rectangle (multiples of 32; Ultralytics'
 * `auto`, its default for PyTorch models, so the default here for weights) or to the full square
 * (engine files, which have a fixed size, as Ultralytics does for exported models), run the engine,
 * NMS (conf 0.25, iou 0.7, max_det 300 by default; the engine's own selection when it was built with
 * NMS), boxes mapped back to the original image. Engines are built per input shape from one loaded
 * checkpoint and kept; the time spent building is reported apart from inference.
 */
import { ErrorCode, NetdefError, fail } from '../common/errors.js';
import type { PrecisionPolicy } from '../dsl/precision/policy.js';
import type { Fp32Math } from './backend.js';
import type { Calibration } from './calibrate/calibration-file.js';
import { DEFAULT_MAX_NMS, type NmsOptions } from '../vision/nms.js';
import { checkEngineNmsOptions, detectionsFromEngineNms } from '../vision/engine-nms.js';
import { type Detection, type ImageShapes, postprocess, postprocessCandidates, predictDefaults } from '../vision/postprocess.js';
import type { Yolov8NmsOptions } from '../models/yolov8/nms.js';
import type { ImageInputDType } from '../models/yolov8/input.js';
import { PreprocessPool } from '../vision/preprocess/pool.js';
import { threadpoolNote } from '../common/threadpool.js';
import type { InputDType } from '../vision/tensor.js';
import { loadWeights } from '../weights/load.js';
import type { WeightStore } from '../weights/store.js';
import { open } from 'node:fs/promises';
import { DEFAULT_BACKEND, selectBackend } from './backends/index.js';
import { Engine } from './engine.js';
import { isEngineFile } from './file-format.js';
import { prepareFromStore } from './prepare.js';
import type { CandidateQuery, ImageRun } from './image-run.js';
import { type BatchImage, detectStream, type ImageInput, type StageTimes, type StreamHost, type StreamInput } from './detect-stream.js';

export { SourceFailure, type ImageInput, type StageTimes, type StreamInput } from './detect-stream.js';

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
  /**
   * Images per engine call (default 1). Engines built from weights take 1 to `batch` images; a
   * loaded engine file must accept it. A batch of images of different sizes is letterboxed to the
   * square, as Ultralytics' predictor does; rect mode applies to batches of one size.
   */
  readonly batch?: number;
  /** Worker threads that decode and letterbox (default: the cores less one, at most 8). */
  readonly workers?: number;
  /**
   * The image input of engines built from weights (models/yolov8/input.ts): uint8 (scaled in the
   * graph; the default where verified, see UINT8_INPUT_BACKENDS) or float32.
   */
  readonly input?: ImageInputDType;
  /**
   * Where the letterbox and NMS's confidence pre-filter run. 'gpu' (the default on the cuda
   * backend): the workers only decode, the engine letterboxes on the GPU (bit for bit as the host
   * does) and sends back only NMS candidates (best class above conf, at most maxNms per image;
   * with `multiLabel` the whole output comes back and the host collects them). 'cpu': the workers
   * letterbox and NMS reads the whole output (every other backend; 'gpu' there is refused).
   */
  readonly processing?: Processing;
  /** Activation ranges for int8 layers of the policy (a calibration file's content: engine/calibrate). */
  readonly calibration?: Calibration;
  /**
   * GPU backends: a timing cache file shared by every engine this Detector builds (one per input
   * shape in rect mode), so later builds and later runs time nothing they timed before
   * (BuildOptions.timingCache). Builds running at once each write it whole: the last one's wins.
   */
  readonly timingCache?: string;
  /** GPU backends: float32 layers exact or on TF32 tensor cores (BuildOptions.fp32Math). */
  readonly fp32Math?: Fp32Math;
}

export type Processing = 'gpu' | 'cpu';

/** Backends that letterbox and pre-filter on the GPU (engine/image-run.ts). */
const GPU_PROCESSING_BACKENDS: ReadonlySet<string> = new Set(['cuda']);

export type DetectOptions = NmsOptions;

/** Batches prepared or running at once, at least: one in the engine, one being letterboxed, one decoding. */
const MIN_LOOKAHEAD_BATCHES = 3;
/** Images in flight per preprocessing worker, at least, so small batches still keep every worker busy. */
const IMAGES_IN_FLIGHT_PER_WORKER = 2;

/**
 * How many batches detectStream keeps in flight: three, or more when batches are small, so that
 * about two images per worker are being decoded (with three batches of one image, three of eight
 * workers would decode). Memory stays bounded: about max(3 × batch, 2 × workers) images.
 */
export function lookaheadBatches(batch: number, workers: number): number {
  return Math.max(MIN_LOOKAHEAD_BATCHES, Math.ceil((IMAGES_IN_FLIGHT_PER_WORKER * workers) / batch));
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
  if (options.processing === 'gpu' && !GPU_PROCESSING_BACKENDS.has(engine.backend)) return `${path} is a ${engine.backend} engine; processing 'gpu' needs a cuda engine`;
  if (options.threads !== undefined && engine.backend !== DEFAULT_BACKEND) return `${path} is a ${engine.backend} engine; threads set the ${DEFAULT_BACKEND} backend only`;
  if (options.policy !== undefined) return `${path} is an engine whose layer precisions are fixed at build time; a precision policy applies to netdef build`;
  if (options.calibration !== undefined) return `${path} is an engine whose int8 scales are fixed at build time; a calibration applies to netdef build`;
  if (options.timingCache !== undefined || options.fp32Math !== undefined) {
    return `${path} is an engine already built: a timing cache and fp32Math apply to building one (netdef build)`;
  }
  if (options.input !== undefined && options.input !== engine.metadata.inputs[0]?.dtype) return `${path} is an engine whose image input is ${String(engine.metadata.inputs[0]?.dtype)}, fixed at build time; it cannot take ${options.input}`;
  const { min, max } = engine.metadata.batch;
  if (options.batch !== undefined && (options.batch > max || options.batch < min)) {
    return `${path} is an engine for batches of ${min} to ${max} images; it cannot run batch ${options.batch} (netdef build --batch ${options.batch})`;
  }
  return undefined;
}

const INPUT_DTYPES: readonly InputDType[] = ['float32', 'float16', 'uint8'];

/**
 * Backends whose engines the Detector builds with a uint8 image input: those where it is checked
 * to give the float32 input's output to the bit (onnxruntime: test/engine/image-input.test.ts).
 * The CUDA engine has the kernel (a uint8 cast, tested in scripts/native-tests.sh) but the whole
 * path has not run on a GPU yet; TensorRT never runs here.
 */
const UINT8_INPUT_BACKENDS: ReadonlySet<string> = new Set(['onnxruntime']);

function inputDTypeOf(path: string, dtype: string | undefined): InputDType {
  const found = INPUT_DTYPES.find((d) => d === dtype);
  if (!found) fail(ErrorCode.InvalidArgument, `${path}: the engine's image input is ${String(dtype)}; detection feeds ${INPUT_DTYPES.join(', ')}`);
  return found;
}

/** The processing a detector on `backend` uses: the one asked for (refused where it cannot run), else the backend's default. */
export function resolveProcessing(processing: Processing | undefined, backend: string): Processing {
  if (processing === undefined) return GPU_PROCESSING_BACKENDS.has(backend) ? 'gpu' : 'cpu';
  if (processing !== 'gpu' && processing !== 'cpu') fail(ErrorCode.InvalidArgument, `processing must be 'gpu' or 'cpu', got ${String(processing)}`);
  if (processing === 'gpu' && !GPU_PROCESSING_BACKENDS.has(backend)) {
    fail(ErrorCode.InvalidArgument, `processing 'gpu' (letterbox and NMS pre-filter on the GPU) needs the cuda backend; backend '${backend}' letterboxes on the CPU`);
  }
  return processing;
}

export class Detector {
  private readonly engines = new Map<string, Promise<Engine>>();
  private preprocess: PreprocessPool | undefined;
  /**
   * What the engine's input takes: engines built here take the letterboxed bytes on backends where
   * that path is verified (uint8, scaled in the graph: models/yolov8/input.ts; a quarter of
   * float32's bytes to copy and upload), float32 elsewhere; a loaded engine file says what it takes.
   */
  private inputDType: InputDType;
  private disposed = false;
  /** Where letterbox and the candidate pre-filter run (DetectorOptions.processing). */
  readonly processing: Processing;
  /** Notes from preparing engines (a calibration used at another input size), each once. */
  readonly notes = new Set<string>();

  private constructor(readonly store: WeightStore | null, private readonly options: DetectorOptions, readonly names: readonly string[]) {
    this.inputDType = options.input ?? (UINT8_INPUT_BACKENDS.has(options.backend ?? DEFAULT_BACKEND) ? 'uint8' : 'float32');
    if (options.batch !== undefined && !(Number.isInteger(options.batch) && options.batch >= 1)) fail(ErrorCode.InvalidArgument, `batch must be a positive integer, got ${String(options.batch)}`);
    if (options.workers !== undefined && !(Number.isInteger(options.workers) && options.workers >= 1)) fail(ErrorCode.InvalidArgument, `workers must be a positive integer, got ${String(options.workers)}`);
    this.processing = resolveProcessing(options.processing, options.backend ?? DEFAULT_BACKEND);
  }

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
      detector.inputDType = inputDTypeOf(weightsOrEngine, engine.metadata.inputs[0]?.dtype);
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

  /** What the engine's image input takes (the workers write it). */
  get inputType(): InputDType {
    return this.inputDType;
  }

  /** Images per engine call. */
  get batch(): number {
    return this.options.batch ?? 1;
  }

  /** The engine's own NMS settings when it was built with NMS (detect then takes its selected rows). */
  async engineNms(): Promise<Yolov8NmsOptions | undefined> {
    if (this.store) return undefined;
    const [engine] = [...this.engines.values()];
    return (await engine!).metadata.nms;
  }

  /** Detections for each image, in order; rejects with the first image that fails. */
  async detect(images: ImageInput | readonly ImageInput[], options: DetectOptions = {}): Promise<ImageResult[]> {
    const list = Array.isArray(images) ? (images as readonly ImageInput[]) : [images as ImageInput];
    const out: ImageResult[] = [];
    for await (const r of this.detectEach(list, options)) {
      if ('error' in r) throw r.error;
      out.push(r);
    }
    return out;
  }

  /**
   * One result per image, in input order, as each batch is done (engine/detect-stream.ts: decoding
   * and letterboxing on worker threads, batches of `batch` images, NMS overlapping the next
   * batch's inference). A failing image yields its error and the rest go on; an endless source
   * runs in bounded memory.
   */
  async *detectEach(images: Iterable<StreamInput> | AsyncIterable<StreamInput>, options: DetectOptions = {}): AsyncGenerator<ImageResult | ImageFailure> {
    if (this.disposed) fail(ErrorCode.Backend, 'this detector has been disposed');
    const nms = { ...predictDefaults, ...options };
    const host: StreamHost = {
      pool: this.pool(), square: squareShape(this.options.imgsz), rect: this.rect, inputDType: this.inputDType,
      ...(this.processing === 'gpu' ? { device: this.deviceQuery(nms) } : {}),
      engineFor: (h, w, b) => this.engineFor(h, w, b),
    };
    const post = (result: ImageRun, engine: Engine, batch: readonly BatchImage[]): Detection[][] => {
      const shapes: ImageShapes[] = batch.map((im) => ({ input: [im.geometry.height, im.geometry.width], original: [im.height, im.width] }));
      if ('candidates' in result) return postprocessCandidates(result.candidates, this.names.length, shapes, nms, this.names);
      const outputs = result.outputs;
      const inEngine = engine.metadata.nms;
      if (!inEngine) return postprocess(outputs['output0']!, shapes, nms, this.names);
      checkEngineNmsOptions(inEngine, options);
      return detectionsFromEngineNms(outputs, inEngine, shapes, { maxDet: predictDefaults.maxDet!, ...options }, this.names);
    };
    for await (const item of detectStream(host, images, this.batch, lookaheadBatches(this.batch, host.pool.workers), post)) {
      if (item.error) {
        yield { image: item.image, error: item.error };
        continue;
      }
      yield { image: item.image, width: item.width!, height: item.height!, detections: item.result!, times: item.times!, inputShape: item.inputShape! };
    }
  }

  /**
   * What the GPU path asks the engine for: candidates selected on the device, unless multi-label
   * NMS (several classes per anchor) needs the whole output.
   */
  private deviceQuery(nms: DetectOptions): { readonly candidates?: CandidateQuery } {
    if (nms.multiLabel === true && this.names.length > 1) return {};
    return { candidates: { conf: nms.conf ?? 0.25, maxNms: nms.maxNms ?? DEFAULT_MAX_NMS, ...(nms.classes ? { classes: nms.classes } : {}) } };
  }

  /** One image's detections (see detect). */
  async detectOne(input: ImageInput, options: DetectOptions = {}): Promise<ImageResult> {
    const [r] = await this.detect([input], options);
    return r!;
  }

  /** The worker threads that decode and letterbox (shared with evaluation), started on first use. */
  get preprocessing(): PreprocessPool {
    return this.pool();
  }

  private pool(): PreprocessPool {
    if (!this.preprocess) {
      this.preprocess = new PreprocessPool(this.options.workers);
      const note = threadpoolNote(this.preprocess.workers);
      if (note) this.notes.add(note);
    }
    return this.preprocess;
  }


  /**
   * The engine for one input size: built on first use from weights (for 1 to `batch` images; one
   * engine per input shape and batch size, kept), or the loaded engine file.
   */
  engineFor(height: number, width: number, batch = this.batch): Promise<Engine> {
    if (!this.store) {
      const [h, w] = squareShape(this.options.imgsz);
      const loaded = this.engines.get(`${h}x${w}`);
      if (h !== height || w !== width || !loaded) return Promise.reject(new NetdefError(ErrorCode.InvalidArgument, `this engine was built for ${h}x${w} inputs, not ${height}x${width}`));
      return loaded;
    }
    const key = `${height}x${width}/${batch}`;
    let engine = this.engines.get(key);
    if (!engine) {
      const input = this.inputDType === 'uint8' ? 'uint8' : 'float32';
      const prepared = prepareFromStore(this.store, {
        imgsz: [height, width], input, ...(this.options.policy ? { policy: this.options.policy } : {}),
        ...(this.options.calibration ? { calibration: this.options.calibration } : {}),
      });
      for (const note of prepared.notes) this.notes.add(note);
      engine = Engine.build(prepared, {
        backend: this.options.backend ?? DEFAULT_BACKEND, batch: { min: 1, opt: batch, max: batch },
        ...(this.options.threads === undefined ? {} : { threads: this.options.threads }),
        ...(this.options.timingCache === undefined ? {} : { timingCache: this.options.timingCache }),
        ...(this.options.fp32Math === undefined ? {} : { fp32Math: this.options.fp32Math }),
      });
      this.engines.set(key, engine);
      engine.catch(() => this.engines.delete(key));
    }
    return engine;
  }

  /** The engines built or loaded so far, by input shape and batch (`HxW/batch`; a loaded file: `HxW`). */
  get engineKeys(): string[] {
    return [...this.engines.keys()];
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const engines = [...this.engines.values()];
    this.engines.clear();
    await this.preprocess?.close();
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
