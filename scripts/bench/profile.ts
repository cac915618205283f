/**
 * Per-layer profile of a CUDA engine (GPU machine; not a test): builds the model for one batch size
 * and precision, profiles each layer (device time of the layer replayed alone in a CUDA graph), and
 * prints the time per layer kind and the slowest layers, next to the whole forward's median.
 *
 *   node --import tsx scripts/bench/profile.ts --weights .gpu/yolov8n/weights.safetensors --batch 1 --precision fp16
 *   node --import tsx scripts/bench/profile.ts --weights ... --precision int8-mixed --calib-data coco128/images   # see bench-model.ts
 *   node --import tsx scripts/bench/profile.ts --weights ... --precision '*:fp16,/model.22/:fp32' --fp32-math tf32
 *
 * `--precision` takes a precision, a preset or a whole policy; `--fp32-math tf32` lets its float32
 * convolutions use TF32 tensor cores (default fma), as gpu.ts does.
 */
import { parseArgs } from 'node:util';
import type { Fp32Math } from '../../engine/backend.js';
import { parsePolicy } from '../../dsl/precision/policy.js';
import { Engine } from '../../engine/engine.js';
import { prepareModel } from '../../engine/prepare.js';
import { benchCalibration, benchWeights, CALIBRATION_OPTIONS, isInt8, policyText } from './bench-model.js';

const { values } = parseArgs({ options: {
  model: { type: 'string', default: 'yolov8n' }, weights: { type: 'string' }, batch: { type: 'string', default: '1' },
  precision: { type: 'string', default: 'fp16' }, top: { type: 'string', default: '12' }, 'fp32-math': { type: 'string', default: 'fma' }, ...CALIBRATION_OPTIONS,
} });
const batch = Number(values.batch);
const weights = await benchWeights(values.model!, values.weights);
const prepared = await prepareModel({
  model: values.model!, weights, policy: parsePolicy(policyText(values.precision!)),
  ...(isInt8(values.precision!) ? { calibration: await benchCalibration(weights, values) } : {}),
});
await using engine = await Engine.build(prepared, { backend: 'cuda', batch: { min: 1, opt: batch, max: batch }, fp32Math: values['fp32-math'] as Fp32Math });
const forward = await engine.timeForward(batch, { iterations: 200 });
const layers = await engine.profile(batch, 50);
const byKind = new Map<string, { ms: number; n: number }>();
for (const l of layers) {
  const kind = l.kernel.startsWith('view') ? 'view (no kernel)' : l.kind;
  const e = byKind.get(kind) ?? { ms: 0, n: 0 };
  byKind.set(kind, { ms: e.ms + l.timeMs, n: e.n + 1 });
}
const sum = layers.reduce((a, l) => a + l.timeMs, 0);
console.log(`${values.model} ${values.precision} batch ${batch}: forward median ${forward.toFixed(3)} ms (CUDA graph), sum of per-layer times ${sum.toFixed(3)} ms`);
console.log('| layer kind | layers | ms | share |\n|---|---:|---:|---:|');
for (const [kind, e] of [...byKind].sort((a, b) => b[1].ms - a[1].ms)) console.log(`| ${kind} | ${e.n} | ${e.ms.toFixed(3)} | ${((100 * e.ms) / sum).toFixed(1)}% |`);
console.log('\n| slowest layers | kernel | ms |\n|---|---|---:|');
for (const l of [...layers].sort((a, b) => b.timeMs - a.timeMs).slice(0, Number(values.top))) console.log(`| ${l.name} | ${l.kernel} | ${l.timeMs.toFixed(4)} |`);
