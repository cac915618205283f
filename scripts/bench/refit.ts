/**
 * Refit against rebuild on the CUDA engine (GPU machine; not a test). For each model: the build
 * time of an engine from its weights (tactics timed, as `netdef build` does), then refits with
 * perturbed weights of the same model (test/engine/perturb.ts), each split into its parts:
 *   read    the safetensors file (loadWeights)
 *   prepare checking and folding the weights into the typed graph's parameters (prepareFromStore)
 *   upload  the native refit (conversion to each layer's dtype, filter reorder, one copy to the GPU)
 * and a rebuild from the same perturbed weights for comparison. Medians of --repeats refits. Prints
 * JSON lines.
 *
 *   node --import tsx scripts/bench/refit.ts --models yolov8n,yolov8s --precision fp16 --repeats 5
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parsePolicy } from '../../dsl/precision/policy.js';
import { Engine } from '../../engine/engine.js';
import { prepareFromStore } from '../../engine/prepare.js';
import { writePerturbed } from '../../test/engine/perturb.js';
import { loadWeights } from '../../weights/load.js';

const { values } = parseArgs({ options: {
  models: { type: 'string', default: 'yolov8n,yolov8s' }, precision: { type: 'string', default: 'fp16' },
  batch: { type: 'string', default: '1' }, repeats: { type: 'string', default: '5' }, data: { type: 'string', default: '.gpu' },
} });
const repeats = Number(values.repeats);
const batch = Number(values.batch);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const since = (t0: number): number => performance.now() - t0;
const tmp = mkdtempSync(join(tmpdir(), 'netdef-refit-bench-'));

try {
  for (const model of values.models!.split(',')) {
    const weights = join(values.data!, model, 'weights.safetensors');
    const policy = parsePolicy(values.precision === 'fp16' ? '*:fp16,/model.22/:fp32' : `*:${values.precision}`);
    const options = { policy, batch: { min: 1, opt: batch, max: batch } };
    const perturbed = join(tmp, `${model}.safetensors`);
    await writePerturbed(weights, perturbed, 3);

    let t0 = performance.now();
    const engine = await Engine.build(prepareFromStore(await loadWeights(weights), { policy }), { backend: 'cuda', batch: options.batch });
    const buildMs = since(t0);

    const read: number[] = [], prepare: number[] = [], total: number[] = [];
    for (let i = 0; i < repeats; i++) {
      t0 = performance.now();
      const store = await loadWeights(perturbed);
      read.push(since(t0));
      t0 = performance.now();
      prepareFromStore(store, { model, policy });
      prepare.push(since(t0));
      t0 = performance.now();
      await engine.refit(store);  // prepares again, then the native refit
      total.push(since(t0));
    }
    const upload = total.map((t, i) => t - prepare[i]!);

    t0 = performance.now();
    const rebuilt = await Engine.build(prepareFromStore(await loadWeights(perturbed), { policy }), { backend: 'cuda', batch: options.batch });
    const rebuildMs = since(t0);
    await rebuilt.dispose();
    await engine.dispose();
    const refitMs = median(read) + median(total);
    console.log(JSON.stringify({
      model, precision: values.precision, batch, build_ms: +buildMs.toFixed(0), rebuild_ms: +rebuildMs.toFixed(0),
      refit_ms: +refitMs.toFixed(1), read_ms: +median(read).toFixed(1), prepare_ms: +median(prepare).toFixed(1), upload_ms: +median(upload).toFixed(1),
      speedup: +(rebuildMs / refitMs).toFixed(1), repeats,
    }));
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
