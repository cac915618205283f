/**
 * The CUDA engine's timing cache, on the GPU: a cold build writes the cache file and says in its
 * log which layout modes it built and where its time went; a warm build from that file times no
 * convolution, builds the one layout mode the cache names, restores the fused cuDNN plans from the
 * plan texts the cache holds instead of making them, and gives the same engine: the same
 * tactics, hence the same outputs bit for bit. A cache that does not parse is refused naming the
 * file and the line. Build times are printed, not asserted (scripts/bench/gpu.ts --build reports them).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, describe, it } from 'node:test';
import { toFloat32 } from '../../common/host-tensor.js';
import { parsePolicy } from '../../dsl/precision/policy.js';
import { Engine } from '../../engine/engine.js';
import { prepareModel } from '../../engine/prepare.js';
import { gpuData, letterboxed } from './support.js';

const MODEL = 'yolov8n';
const tmp = mkdtempSync(join(tmpdir(), 'netdef-timing-cache-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function build(timingCache: string, log: string[]): Promise<{ engine: Engine; ms: number }> {
  const prepared = await prepareModel({ weights: gpuData(MODEL, 'weights.safetensors'), policy: parsePolicy('fp16') });
  const t0 = performance.now();
  const engine = await Engine.build(prepared, { backend: 'cuda', batch: { min: 1, opt: 2, max: 2 }, timingCache, onLog: (line) => log.push(line) });
  return { engine, ms: performance.now() - t0 };
}

describe(`timing cache of the CUDA engine (${MODEL}, fp16)`, () => {
  it('a warm build times nothing, builds one layout mode, restores the fused plans and gives the same engine', async () => {
    const cache = join(tmp, 'yolov8n.cache');
    const coldLog: string[] = [];
    const cold = await build(cache, coldLog);
    await using coldEngine = cold.engine;
    assert.ok(existsSync(cache), 'the cold build wrote the cache');
    const text = readFileSync(cache, 'utf8');
    assert.match(text, /^netdef-cuda-timing-cache 4\ndevice\tsm_\d+ /);
    const planTexts = text.split('\n').filter((l) => l.startsWith('plan\t')).length;
    assert.ok(coldLog.some((l) => /channels-last.* tuned: forward [\d.]+ ms; .*\(\d+ convolutions timed/.test(l)), coldLog.join('\n'));
    assert.ok(coldLog.some((l) => l.startsWith('layout mode kept: ')), coldLog.join('\n'));

    const warmLog: string[] = [];
    const warm = await build(cache, warmLog);
    await using warmEngine = warm.engine;
    console.log(`cold build ${(cold.ms / 1000).toFixed(2)} s, warm ${(warm.ms / 1000).toFixed(2)} s\n  cold: ${coldLog.join('\n  cold: ')}\n  warm: ${warmLog.join('\n  warm: ')}`);
    assert.ok(warmLog.some((l) => /^layout mode .* from the timing cache$/.test(l)), warmLog.join('\n'));
    assert.ok(warmLog.some((l) => /\(0 convolutions timed, [1-9]\d* from the timing cache/.test(l)), warmLog.join('\n'));
    // The plan texts the cold build kept (cuDNN may serialize none: then there is nothing to
    // restore, and the warm build makes its plans as before). Each it kept is restored, not made.
    console.log(`plan texts in the cache: ${planTexts}`);
    const restored = warmLog.map((l) => /(\d+) fused plans \((\d+) restored from the timing cache\)/.exec(l)).find((m) => m);
    assert.ok(restored, warmLog.join('\n'));
    assert.equal(Number(restored[2]), planTexts, 'every plan the cache holds is restored');

    const coldLayers = coldEngine.layers().map((l) => `${l.name} ${l.kernel}`);
    const warmLayers = warmEngine.layers().map((l) => `${l.name} ${l.kernel}`);
    assert.deepEqual(warmLayers, coldLayers, 'the same kernels');
    const input = await letterboxed('bus.jpg');
    const a = toFloat32((await coldEngine.run({ images: input })).output0!);
    const b = toFloat32((await warmEngine.run({ images: input })).output0!);
    assert.deepEqual(b, a, 'the same outputs bit for bit');
  });

  it('a cache that does not parse is refused, naming the file and the line', async () => {
    const bad = join(tmp, 'bad.cache');
    writeFileSync(bad, 'netdef-cuda-timing-cache 4\ndevice\tsomewhere\nconv\tkey\tnot-a-number\n');
    await assert.rejects(build(bad, []), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'ERR_ENGINE_FORMAT');
      assert.match(e.message, new RegExp(`${bad}: timing cache line 3: `));
      return true;
    });
  });
});
