/**
 * `netdef benchmark`: trtexec's summary for a netdef engine. Builds (or loads) the engine, runs
 * `--warmup` untimed iterations, then `--iterations` timed ones of `engine.run` on a seeded random
 * input (host latency: input copy, forward, output copy, wall clock), and prints min / mean /
 * median / p90 / p99 / max and the throughput; on GPU backends also the GPU compute time (the
 * captured forward timed with CUDA events, inputs already on the device) and, with
 * --dump-profile, the per-layer table from `engine.profile()`.
 */
import { performance } from 'node:perf_hooks';
import { ErrorCode, fail } from '../../common/errors.js';
import { fromFloat32 } from '../../common/host-tensor.js';
import { seededRandom } from '../../common/random.js';
import type { LayerInfo } from '../../engine/backend.js';
import { Engine } from '../../engine/engine.js';
import { prepareModel } from '../../engine/prepare.js';
import { modelOptions, positiveInt, str, type Values } from '../args.js';
import { exclusive, type CommandSpec } from '../command.js';
import { placement, type Placement } from '../device.js';
import { gpuBuildOptions } from '../gpu-build.js';
import { latencyStats, type LatencyStats } from '../latency.js';
import { formatTable } from '../table.js';

const DEFAULT_ITERATIONS = 200;
const DEFAULT_WARMUP = 20;
const INPUT_SEED = 1;
const CPU_BACKEND = 'onnxruntime';

async function engineFor(values: Values, batch: number, { backend, threads }: Placement): Promise<{ engine: Engine; buildSeconds: number }> {
  const file = str(values, 'engine');
  const started = performance.now();
  if (file) {
    for (const o of ['imgsz', 'half', 'int8', 'precision-policy', 'calib', 'timing-cache', 'tactic-search', 'fp32-math'] as const) {
      if (values[o] !== undefined) fail(ErrorCode.InvalidArgument, `--${o} is fixed in the engine file ${file}; it applies to netdef build`);
    }
    const engine = await Engine.load(file, threads === undefined ? {} : { threads });
    if (backend !== undefined && backend !== engine.backend) {
      await engine.dispose();
      fail(ErrorCode.InvalidArgument, `${file} is a ${engine.backend} engine; it cannot run on backend '${backend}'`);
    }
    return { engine, buildSeconds: (performance.now() - started) / 1000 };
  }
  const gpu = gpuBuildOptions(values, backend);
  const prepared = await prepareModel(await modelOptions({ ...values, batch: undefined }));
  const engine = await Engine.build(prepared, {
    ...(backend ? { backend } : {}), ...(threads !== undefined ? { threads } : {}), batch: { min: 1, opt: batch, max: batch }, ...gpu,
    onLog: (line) => process.stderr.write(`build: ${line}\n`),
  });
  return { engine, buildSeconds: (performance.now() - started) / 1000 };
}

function randomInput(engine: Engine, batch: number): ReturnType<typeof fromFloat32> {
  const spec = engine.metadata.inputs[0]!;
  const shape = spec.shape.map((d, i) => (i === 0 ? batch : Number(d)));
  const random = seededRandom(INPUT_SEED);
  const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random());
  return fromFloat32(values, shape, spec.dtype === 'float16' ? 'float16' : 'float32');
}

function statsLine(s: LatencyStats): string {
  const f = (ms: number): string => `${ms.toFixed(3)} ms`;
  return `min ${f(s.min)}, mean ${f(s.mean)}, median ${f(s.median)}, p90 ${f(s.p90)}, p99 ${f(s.p99)}, max ${f(s.max)}`;
}

function profileTable(layers: readonly LayerInfo[]): string {
  const total = layers.reduce((a, l) => a + l.timeMs, 0);
  const rows = layers.map((l) => [l.name, l.kind, l.dtype, l.kernel, l.timeMs.toFixed(4), total > 0 ? `${((100 * l.timeMs) / total).toFixed(1)}%` : '-']);
  return `${formatTable(['layer', 'kind', 'dtype', 'kernel', 'ms', 'share'], rows)}\nsum of layers ${total.toFixed(3)} ms`;
}

async function benchmark(values: Values): Promise<number> {
  const iterations = positiveInt(values, 'iterations') ?? DEFAULT_ITERATIONS;
  const warmup = Number(str(values, 'warmup') ?? DEFAULT_WARMUP);
  if (!Number.isSafeInteger(warmup) || warmup < 0) fail(ErrorCode.InvalidArgument, `--warmup must be 0 or more iterations, got '${str(values, 'warmup')}'`);
  const batch = positiveInt(values, 'batch') ?? 1;
  const profile = values['dump-profile'] === true;
  exclusive(values, 'engine', 'weights', 'an engine file holds its weights');
  exclusive(values, 'engine', 'model', 'an engine file holds its model');
  const place = placement(values);
  if (profile && (place.backend ?? CPU_BACKEND) === CPU_BACKEND && !str(values, 'engine')) {
    fail(ErrorCode.InvalidArgument, `--dump-profile needs a GPU backend (--backend cuda or tensorrt, or --device N); the ${CPU_BACKEND} backend has no per-layer timing`);
  }
  const { engine, buildSeconds } = await engineFor(values, batch, place);
  try {
    if (profile && engine.backend === CPU_BACKEND) fail(ErrorCode.InvalidArgument, `--dump-profile: the ${CPU_BACKEND} backend has no per-layer timing`);
    return await measure(engine, values, { batch, iterations, warmup, profile, buildSeconds });
  } finally {
    await engine.dispose();
  }
}

interface Plan {
  readonly batch: number;
  readonly iterations: number;
  readonly warmup: number;
  readonly profile: boolean;
  readonly buildSeconds: number;
}

async function measure(engine: Engine, values: Values, { batch, iterations, warmup, profile, buildSeconds }: Plan): Promise<number> {
  const input = { [engine.metadata.inputs[0]!.name]: randomInput(engine, batch) };
  for (let i = 0; i < warmup; i++) await engine.run(input);
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await engine.run(input);
    times.push(performance.now() - t0);
  }
  const host = latencyStats(times);
  const gpuMs = engine.backend === CPU_BACKEND ? undefined : await engine.timeForward(batch, { iterations });
  const layers = profile ? await engine.profile(batch, iterations) : undefined;
  const throughput = (batch * 1000) / host.median;
  const [h, w] = engine.metadata.imgsz;
  if (values.json === true) {
    process.stdout.write(`${JSON.stringify({
      model: engine.metadata.model, backend: engine.backend, batch, imgsz: [h, w], iterations, warmup, build_s: buildSeconds,
      host_latency_ms: host, images_per_s: throughput, ...(gpuMs !== undefined ? { gpu_compute_ms: gpuMs } : {}), ...(layers ? { layers } : {}),
    })}\n`);
    return 0;
  }
  const lines = [
    `${engine.metadata.model} on ${engine.backend}, batch ${batch}, input ${batch}x3x${h}x${w} ${engine.metadata.inputs[0]!.dtype}; engine ready in ${buildSeconds.toFixed(2)} s`,
    `Host latency (engine.run: copies in, forward, copies out; ${iterations} iterations after ${warmup} warm-up): ${statsLine(host)}`,
    `Throughput: ${(1000 / host.median).toFixed(1)} qps, ${throughput.toFixed(1)} images/s (median)`,
    gpuMs !== undefined
      ? `GPU compute time (captured forward, CUDA events, inputs on the device; median of ${iterations}): ${gpuMs.toFixed(3)} ms; host overhead ${(host.median - gpuMs).toFixed(3)} ms`
      : `GPU compute time: none (the ${engine.backend} backend runs on the CPU)`,
    ...(layers ? ['', profileTable(layers)] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

export const benchmarkCommand: CommandSpec = {
  name: 'benchmark',
  summary: 'Time an engine as trtexec does: latency percentiles, throughput, GPU compute against host time, per-layer profile.',
  positionals: '',
  options: [
    'weights', 'engine', 'model', 'backend', 'device', 'threads', 'imgsz', 'batch', 'half', 'int8', 'precision-policy', 'calib',
    'timing-cache', 'tactic-search', 'fp32-math', 'iterations', 'warmup', 'dump-profile', 'json',
  ],
  run: benchmark,
};
