/**
 * Calibration: runs the fp32 graph on calibration images, preprocessed as engines see them (the
 * square letterbox of detection, on the preprocessing workers), and records the range of every
 * tensor an int8 policy may quantize (probes.ts), by the chosen method (methods.ts). The first
 * `images` files of the folder, sorted by name, are used; files that cannot be decoded are named
 * and skipped, and the rest used.
 *
 * Backend: the ONNX Runtime (CPU) reference by default. The CUDA engine can run the probe graph
 * (intermediate tensors as extra outputs) where there is a GPU: `backend: 'cuda'`.
 */
import { ErrorCode, NetdefError } from '../../common/errors.js';
import { float32View, hostTensor } from '../../common/host-tensor.js';
import { weightsDigest } from '../../weights/digest.js';
import { loadWeights } from '../../weights/load.js';
import { imagesInFolder } from '../../vision/files.js';
import { PreprocessPool, type PreparedInput, defaultWorkers } from '../../vision/preprocess/pool.js';
import { selectBackend } from '../backends/index.js';
import { prepareFromStore } from '../prepare.js';
import type { Calibration } from './calibration-file.js';
import { RangeCollector } from './collector.js';
import type { CalibrationMethod } from './methods.js';
import { calibrationTensors, graphDigest, PROBE_PREFIX, withProbes } from './probes.js';

/** Images calibrated on by default (TensorRT's guidance: about 500 are enough for ImageNet-like data). */
export const DEFAULT_CALIBRATION_IMAGES = 512;
/**
 * The default method: percentile 99.999. Measured on coco128 (docs/int8.md) it keeps all-int8
 * within 0.010 of fp32 for yolov8n and yolov8s, and int8-mixed within 0.005 for yolov8s (0.0071 for
 * yolov8n, where 99.99 keeps 0.0021); entropy (TensorRT's EntropyCalibrator2, `--method entropy`)
 * loses 0.03 to 0.05 under int8-mixed and clips the input image all-int8. A bare `percentile`
 * means 99.99.
 */
export const DEFAULT_METHOD: CalibrationMethod = { name: 'percentile', percentile: 99.999 };
const DEFAULT_SIZE = 640;
const INPUT = 'images';
/** Images prepared ahead of the engine, per worker (bounds memory: a 640² float32 input is 4.9 MB). */
const LOOKAHEAD_PER_WORKER = 2;

export interface CalibrateOptions {
  /** Weights (.pt or .safetensors). */
  readonly weights: string;
  /** A folder of calibration images. */
  readonly data: string;
  /** How many images (the first, by file name); default 512. */
  readonly images?: number;
  readonly method?: CalibrationMethod;
  /** Square input size (default 640), as the engines that will use the calibration. */
  readonly imgsz?: number;
  readonly backend?: string;
  readonly threads?: number;
  readonly workers?: number;
  /** Called after each image of each pass (pass 1: ranges; pass 2: histograms, for entropy and percentile). */
  readonly onProgress?: (done: number, total: number, pass: 1 | 2) => void;
  /** Called for each image that cannot be used (it is skipped). */
  readonly onSkip?: (path: string, error: Error) => void;
}

function checkCount(images: number): number {
  if (!Number.isInteger(images) || images < 1) throw new NetdefError(ErrorCode.InvalidArgument, `--images must be a positive integer, found ${images}`);
  return images;
}

export async function calibrate(options: CalibrateOptions): Promise<Calibration> {
  const [one] = await calibrateMethods(options, [options.method ?? DEFAULT_METHOD]);
  return one!;
}

/** One calibration per method from the same passes over the images (for comparing methods). */
export async function calibrateMethods(options: Omit<CalibrateOptions, 'method'>, methods: readonly CalibrationMethod[]): Promise<Calibration[]> {
  const count = checkCount(options.images ?? DEFAULT_CALIBRATION_IMAGES);
  const size = options.imgsz ?? DEFAULT_SIZE;
  const files = (await imagesInFolder(options.data)).slice(0, count);
  const store = await loadWeights(options.weights);
  const prepared = prepareFromStore(store, { imgsz: [size, size], batch: 1 });
  const tensors = calibrationTensors(prepared.graph);
  const backend = selectBackend(options.backend);
  const runner = await backend.build(withProbes(prepared.graph, tensors), prepared.params, options.threads === undefined ? {} : { threads: options.threads });
  const pool = new PreprocessPool(options.workers ?? defaultWorkers());
  const collector = new RangeCollector();
  const skipped = new Map<string, Error>();
  let used = 0;
  const prepare = (path: string): Promise<PreparedInput | Error> =>
    pool.decode(path).then((img) => pool.letterbox(img, [size, size], false, 'float32')).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
  const pass = async (n: 1 | 2): Promise<void> => {
    const usable = files.filter((f) => !skipped.has(f));
    // Decoding runs ahead on the workers while the engine runs, a bounded number of images ahead.
    const ahead = pool.workers * LOOKAHEAD_PER_WORKER;
    const pending: (Promise<PreparedInput | Error> | undefined)[] = usable.slice(0, ahead).map(prepare);
    for (const [i, path] of usable.entries()) {
      const input = await pending[i]!;
      pending[i] = undefined;
      if (i + ahead < usable.length) pending[i + ahead] = prepare(usable[i + ahead]!);
      if (input instanceof Error) {
        skipped.set(path, input);
        options.onSkip?.(path, input);
      } else {
        const out = await runner.run({ [INPUT]: hostTensor('float32', [1, 3, size, size], input.data) });
        for (const t of tensors) {
          const values = float32View(out[`${PROBE_PREFIX}${t}`]!);
          if (n === 1) collector.observeMax(t, values);
          else collector.observeHistogram(t, values);
        }
        if (n === 1) used++;
      }
      options.onProgress?.(i + 1, usable.length, n);
    }
  };
  try {
    await pass(1);
    if (used === 0) {
      const listed = [...skipped].slice(0, 5).map(([p, e]) => `${p}: ${e.message}`).join('; ');
      throw new NetdefError(ErrorCode.Calibration, `no usable calibration image in ${options.data} (${skipped.size} could not be read: ${listed})`, { details: { skipped: [...skipped.keys()] } });
    }
    if (methods.some((m) => RangeCollector.needsHistograms(m))) await pass(2);
  } finally {
    await Promise.all([pool.close(), runner.dispose()]);
  }
  const common = {
    source: options.data, images: used, imgsz: [size, size] as const, model: prepared.graph.name,
    graphDigest: graphDigest(prepared.graph), weightsDigest: weightsDigest(prepared.params),
  };
  return methods.map((method) => ({ ...common, method, amax: collector.ranges(method) }));
}
