/**
 * GPU benchmark of netdef's CUDA engine (run on the GPU machine; not a test). For each model, batch
 * and precision: build time, median latency of the captured forward (CUDA events over graph
 * replays, inputs already on the GPU, as the PyTorch peer's CUDA-graph number is taken), the same
 * with the host copies run() adds, images/s, and the device memory the engine holds. Prints JSON
 * lines; scripts/bench/gpu-report.py turns them and the PyTorch peer's lines into the table of
 * docs/benchmarks.md.
 *
 *   node --import tsx scripts/bench/gpu.ts --model yolov8n --weights .gpu/yolov8n/weights.safetensors --batch 1,32 --precision fp16,fp32
 *   node --import tsx scripts/bench/gpu.ts --model yolov8x --batch 1,32 --precision fp16,fp32     # random weights
 *
 * Precisions: fp32, fp16, int8 (every layer) and int8-mixed (the preset); `--policy P` (repeatable)
 * adds whole precision policies, e.g. `--precision fp16 --policy '*:fp16,/model.22/:fp32'`. The int8 ones need
 * activation ranges: `--calib FILE`, or `--calib-data DIR` to calibrate here first on the first
 * `--calib-images` images (default 16) with the cuda backend (default method). Without --weights
 * the random weights are written to a temporary safetensors file first, so that the calibration
 * and the engines see the same weights (speed only: random weights detect nothing).
 *
 * Build time: `--search heuristic|exhaustive` (the engine's tactic search, default heuristic) and
 * `--warm`: each engine is built again from the timing cache its first (cold) build wrote to a
 * fresh file, and the warm build's time and forward are reported beside the cold one's. The build
 * logs (layout modes, where the time went) go to stderr. `--fp32-math tf32` lets float32
 * convolutions use TF32 tensor cores (default fma: exact float32).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import type { Fp32Math, TacticSearch } from '../../engine/backend.js';
import { parsePolicy } from '../../dsl/precision/policy.js';
import { Engine } from '../../engine/engine.js';
import { prepareModel } from '../../engine/prepare.js';
import { benchCalibration, benchWeights, CALIBRATION_OPTIONS, isInt8, policyText } from './bench-model.js';

const { values } = parseArgs({ options: {
  model: { type: 'string', default: 'yolov8n' }, weights: { type: 'string' }, batch: { type: 'string', default: '1,32' },
  precision: { type: 'string', default: 'fp16,fp32' }, iterations: { type: 'string', default: '200' },
  policy: { type: 'string', multiple: true }, search: { type: 'string', default: 'heuristic' }, warm: { type: 'boolean', default: false },
  'fp32-math': { type: 'string', default: 'fma' },
  ...CALIBRATION_OPTIONS,
} });
const search = values.search as TacticSearch;
const fp32Math = values['fp32-math'] as Fp32Math;
const cacheDir = mkdtempSync(join(tmpdir(), 'netdef-bench-cache-'));
process.on('exit', () => rmSync(cacheDir, { recursive: true, force: true }));
const batches = values.batch!.split(',').map(Number);
const iterations = Number(values.iterations);
// Each --policy (a whole precision policy, e.g. '*:fp16,/model.22/:fp32') runs after the precisions, labelled by its text.
const precisions = [...(values.precision ? values.precision.split(',').filter((p) => p !== '') : []), ...(values.policy ?? [])];
const weights = await benchWeights(values.model!, values.weights);
const ranges = precisions.some(isInt8) ? await benchCalibration(weights, values) : undefined;

// One engine per batch size (opt = max = batch), as a deployment builds for its batch: the engine
// picks its layout and kernels by timing at the opt batch.
for (const precision of precisions) {
  const prepared = await prepareModel({
    model: values.model!, weights, policy: parsePolicy(policyText(precision)), ...(isInt8(precision) && ranges ? { calibration: ranges } : {}),
  });
  for (const batch of batches) {
    const label = `${values.model} ${precision} batch ${batch}`;
    const timingCache = join(cacheDir, `${values.model}-${precision.replace(/[^\w.-]+/g, '_')}-${batch}.cache`);
    const build = async (what: string): Promise<{ engine: Engine; seconds: number }> => {
      const t0 = performance.now();
      const engine = await Engine.build(prepared, {
        backend: 'cuda', batch: { min: 1, opt: batch, max: batch }, search, fp32Math, ...(values.warm ? { timingCache } : {}),
        onLog: (line) => process.stderr.write(`${label} ${what}: ${line}\n`),
      });
      return { engine, seconds: (performance.now() - t0) / 1000 };
    };
    const { engine, seconds } = await build('cold');
    const gpuMs = await engine.timeForward(batch, { iterations, withCopies: false });
    const withCopiesMs = await engine.timeForward(batch, { iterations, withCopies: true });
    const memory = engine.deviceMemoryBytes();
    await engine.dispose();
    let warm = {};
    if (values.warm) {
      const again = await build('warm');
      warm = { warm_build_s: +again.seconds.toFixed(2), warm_median_ms: +(await again.engine.timeForward(batch, { iterations, withCopies: false })).toFixed(4) };
      await again.engine.dispose();
    }
    console.log(JSON.stringify({
      peer: 'netdef', scale: values.model!.replace('yolov8', ''), dtype: precision, batch, mode: 'cuda_graph',
      median_ms: +gpuMs.toFixed(4), median_ms_with_copies: +withCopiesMs.toFixed(4), images_per_s: +((batch * 1000) / gpuMs).toFixed(1),
      engine_mem_mb: +(memory / 2 ** 20).toFixed(1), build_s: +seconds.toFixed(2), search, fp32_math: fp32Math, ...warm,
    }));
  }
}
