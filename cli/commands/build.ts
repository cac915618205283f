/** `netdef build --weights FILE --backend cuda|tensorrt -o model.engine`: a saved engine, with progress while it tunes. */
import { performance } from 'node:perf_hooks';
import { ErrorCode, fail } from '../../common/errors.js';
import type { TensorrtOptions } from '../../engine/backend.js';
import { Engine } from '../../engine/engine.js';
import { prepareModel } from '../../engine/prepare.js';
import type { Yolov8NmsOptions } from '../../models/yolov8/nms.js';
import { predictDefaults } from '../../vision/postprocess.js';
import { batch as batchArg, calibrationOf, imgsz, policy, positiveInt, required, str, unitInterval, type Values } from '../args.js';
import type { CommandSpec } from '../command.js';
import { placement } from '../device.js';
import { gpuBuildOptions } from '../gpu-build.js';
import { Progress } from '../progress.js';

/** NMS in the engine (--nms): Ultralytics predict's thresholds unless given; --max-det bounds each class. */
function nmsOptions(values: Values): Yolov8NmsOptions | undefined {
  if (values['nms'] !== true) {
    if (['conf', 'iou', 'max-det'].some((k) => values[k] !== undefined)) fail(ErrorCode.InvalidArgument, '--conf, --iou and --max-det set the in-engine NMS of `build`: add --nms');
    return undefined;
  }
  return {
    scoreThreshold: unitInterval(values, 'conf') ?? predictDefaults.conf!, iouThreshold: unitInterval(values, 'iou') ?? predictDefaults.iou!,
    maxPerClass: positiveInt(values, 'max-det') ?? predictDefaults.maxDet!,
  };
}

const TRT_WEIGHTS = ['refittable', 'fixed', 'identical', 'stripped'] as const;
const MIB = 2 ** 20;

/** The TensorRT-only flags, refused with another backend rather than ignored. */
function tensorrtOptions(values: Values, backend: string | undefined): TensorrtOptions | undefined {
  const workspace = str(values, 'workspace');
  const weights = str(values, 'trt-weights');
  if (workspace === undefined && weights === undefined) return undefined;
  if (backend !== 'tensorrt') fail(ErrorCode.InvalidArgument, '--workspace and --trt-weights are TensorRT builder settings: use them with --backend tensorrt');
  const mib = workspace === undefined ? undefined : Number(workspace);
  if (mib !== undefined && !(Number.isInteger(mib) && mib > 0)) fail(ErrorCode.InvalidArgument, `--workspace takes a whole number of MiB, got '${workspace}'`);
  if (weights !== undefined && !(TRT_WEIGHTS as readonly string[]).includes(weights)) {
    fail(ErrorCode.InvalidArgument, `--trt-weights must be one of ${TRT_WEIGHTS.join(', ')}, got '${weights}'`);
  }
  return {
    ...(mib !== undefined ? { workspaceBytes: mib * MIB } : {}),
    ...(weights !== undefined ? { weights: weights as (typeof TRT_WEIGHTS)[number] } : {}),
  };
}

function batchRange(values: Values): { min: number; opt: number; max: number } | undefined {
  const v = str(values, 'batch');
  if (v === undefined) return undefined;
  const parts = v.split(':').map(Number);
  if (parts.length === 1) {
    const n = batchArg(values) as number;
    return { min: 1, opt: n, max: n };
  }
  const [min, opt, max] = parts;
  if (parts.length !== 3 || ![min, opt, max].every((n) => Number.isInteger(n) && n! >= 1)) fail(ErrorCode.InvalidArgument, `--batch must be N or MIN:OPT:MAX, got '${v}'`);
  return { min: min!, opt: opt!, max: max! };
}

async function build(values: Values): Promise<number> {
  const out = required(values, 'output', 'the engine file to write');
  const weights = required(values, 'weights', 'the .pt or .safetensors file');
  const { backend } = placement(values);
  const size = imgsz(values);
  const prec = policy(values);
  const calibration = await calibrationOf(values);
  const batch = batchRange(values);
  const tensorrt = tensorrtOptions(values, backend);
  const gpu = gpuBuildOptions(values, backend);
  const nms = nmsOptions(values);
  const started = performance.now();
  const prepared = await prepareModel({
    weights, ...(size ? { imgsz: size } : {}), ...(prec ? { policy: prec } : {}), ...(nms ? { nms } : {}), ...(calibration ? { calibration } : {}),
  });
  for (const note of prepared.notes) process.stderr.write(`note: ${note}\n`);
  let progress: Progress | undefined;
  const log: string[] = [];
  const engine = await Engine.build(prepared, {
    ...(backend ? { backend } : {}), ...(batch ? { batch } : {}), ...(tensorrt ? { tensorrt } : {}), ...gpu,
    onProgress: (done, total) => {
      progress ??= Progress.forTerminal(total, 'layers tuned', false);
      progress.update(done);
    },
    onLog: (line) => log.push(line),
  });
  progress?.end();
  for (const line of log) process.stderr.write(`build: ${line}\n`);
  try {
    await engine.save(out);
  } finally {
    await engine.dispose();
  }
  process.stderr.write(`wrote ${out}: ${engine.metadata.model} on ${engine.backend}, batch ${engine.metadata.batch.min}..${engine.metadata.batch.max}, `
    + `built in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return 0;
}

export const buildCommand: CommandSpec = {
  name: 'build',
  summary: 'Build an engine from weights and save it (kernels tuned per layer on GPU backends), as trtexec --saveEngine.',
  positionals: '',
  options: [
    'weights', 'backend', 'device', 'imgsz', 'batch', 'half', 'int8', 'precision-policy', 'calib', 'nms', 'conf', 'iou', 'max-det',
    'workspace', 'timing-cache', 'tactic-search', 'fp32-math', 'trt-weights', 'output',
  ],
  required: { weights: 'the .pt or .safetensors file', output: 'the engine file to write' },
  run: build,
};
