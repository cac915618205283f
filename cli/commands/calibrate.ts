/**
 * `netdef calibrate --weights yolov8n.pt --data DIR -o yolov8n.calib.json`: activation ranges for
 * int8 policies, from the first --images images of a folder (engine/calibrate).
 */
import { performance } from 'node:perf_hooks';
import { calibrate, DEFAULT_CALIBRATION_IMAGES, DEFAULT_METHOD } from '../../engine/calibrate/calibrate.js';
import { writeCalibration, writeTrtCalibrationCache } from '../../engine/calibrate/calibration-file.js';
import { describeMethod, parseCalibrationMethod } from '../../engine/calibrate/methods.js';
import { positiveInt, required, str, type Values } from '../args.js';
import type { CommandSpec } from '../command.js';
import { placement } from '../device.js';
import { Progress } from '../progress.js';

/** The TensorRT version the cache's header names (TensorRT 10.3, JetPack 6's; NV_TENSORRT_VERSION). */
const TRT_CACHE_VERSION = 100300;

async function calibrateRun(values: Values): Promise<number> {
  const out = required(values, 'output', 'the calibration file to write');
  const weights = required(values, 'weights', 'the .pt or .safetensors file');
  const data = required(values, 'data', 'a folder of calibration images');
  const methodText = str(values, 'method');
  const method = methodText === undefined ? DEFAULT_METHOD : parseCalibrationMethod(methodText);
  const images = positiveInt(values, 'images') ?? DEFAULT_CALIBRATION_IMAGES;
  const imgsz = positiveInt(values, 'imgsz');
  const workers = positiveInt(values, 'workers');
  const trtCache = str(values, 'trt-cache');
  const { backend, threads } = placement(values);
  const quiet = values.quiet === true;
  if (methodText === undefined && !quiet) {
    process.stderr.write(`note: method ${describeMethod(DEFAULT_METHOD)}, netdef's default (measured on coco128, docs/int8.md); TensorRT's EntropyCalibrator2 is --method entropy\n`);
  }
  const started = performance.now();
  let progress: Progress | undefined;
  let pass = 0;
  const calibration = await calibrate({
    weights, data, images, method, ...(imgsz ? { imgsz } : {}), ...(workers ? { workers } : {}), ...(backend ? { backend } : {}),
    ...(threads !== undefined ? { threads } : {}),
    onProgress: (done, total, p) => {
      if (p !== pass) {
        progress?.end();
        pass = p;
        progress = Progress.forTerminal(total, p === 1 ? 'images (ranges)' : 'images (histograms)', quiet);
      }
      progress!.update(done);
    },
    onSkip: (path, error) => {
      progress?.end();
      process.stderr.write(`warning: skipped ${path}: ${error.message}\n`);
    },
  });
  progress?.end();
  await writeCalibration(out, calibration);
  if (trtCache) await writeTrtCalibrationCache(trtCache, calibration, TRT_CACHE_VERSION);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`wrote ${out}: ${calibration.amax.size} tensors of ${calibration.model}, ${describeMethod(method)} over ${calibration.images} images at `
    + `${calibration.imgsz.join('x')}, in ${seconds} s${trtCache ? `; TensorRT cache ${trtCache}` : ''}\n`);
  return 0;
}

export const calibrateCommand: CommandSpec = {
  name: 'calibrate',
  summary: 'Activation ranges for int8 layers from calibration images (percentile 99.999 by default; entropy as TensorRT\'s EntropyCalibrator2; minmax).',
  positionals: '',
  options: ['weights', 'data', 'images', 'method', 'imgsz', 'backend', 'device', 'threads', 'workers', 'trt-cache', 'quiet', 'output'],
  required: { weights: 'the .pt or .safetensors file', data: 'a folder of calibration images', output: 'the calibration file to write' },
  run: calibrateRun,
};
