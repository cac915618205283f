/**
 * What the GPU benchmarks (gpu.ts, profile.ts) share: precision names into policies, the weights
 * every engine of a run uses (the given file, or the model's random weights written to a temporary
 * file, so that a calibration and the engines see the same weights), and the activation ranges
 * that int8 policies need (a calibration file, or a calibration run here on the GPU first).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { POLICY_PRESETS } from '../../dsl/precision/presets.js';
import { calibrate } from '../../engine/calibrate/calibrate.js';
import { type Calibration, readCalibration } from '../../engine/calibrate/calibration-file.js';
import { describeMethod } from '../../engine/calibrate/methods.js';
import { prepareGraph } from '../../engine/prepare.js';
import { metadataFromInfo } from '../../weights/metadata.js';
import { randomWeights } from '../../weights/random.js';
import { writeSafetensors } from '../../weights/safetensors-write.js';

/** The options both scripts take for int8: parseArgs entries. */
export const CALIBRATION_OPTIONS = {
  calib: { type: 'string' }, 'calib-data': { type: 'string' }, 'calib-images': { type: 'string', default: '16' },
} as const;

/** A precision name (fp32, fp16, int8, a preset such as int8-mixed) or a whole policy, as policy text. */
export function policyText(precision: string): string {
  return POLICY_PRESETS.get(precision) ?? (precision.includes(':') ? precision : `*:${precision}`);
}

export function isInt8(precision: string): boolean {
  return policyText(precision).includes('int8');
}

/** The weights file every engine of the run uses; random weights are written to a temporary file removed at exit. */
export async function benchWeights(model: string, weights?: string): Promise<string> {
  if (weights) return weights;
  const scratch = mkdtempSync(join(tmpdir(), 'netdef-bench-'));
  process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
  const { source } = await prepareGraph({ model });
  const store = randomWeights(source, 0);
  const path = join(scratch, `${model}-random.safetensors`);
  await writeSafetensors(path, store.tensors, metadataFromInfo(store.info));
  return path;
}

/** The activation ranges for int8 precisions: `calib` read, or calibrated on the first `calibImages` of `calibData` with the cuda backend. */
export async function benchCalibration(weights: string, o: { calib?: string; 'calib-data'?: string; 'calib-images'?: string }): Promise<Calibration> {
  if (o.calib) return readCalibration(o.calib);
  if (!o['calib-data']) throw new Error('int8 precisions need --calib FILE or --calib-data DIR');
  const t0 = performance.now();
  const c = await calibrate({ weights, data: o['calib-data'], images: Number(o['calib-images'] ?? 16), backend: 'cuda' });
  console.error(`calibrated ${weights} on ${c.images} images in ${((performance.now() - t0) / 1000).toFixed(1)} s (${describeMethod(c.method)})`);
  return c;
}
