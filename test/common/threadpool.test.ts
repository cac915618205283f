/**
 * libuv's threadpool size (common/threadpool.ts) and the netdef command sizing it before anything
 * runs (bin/netdef.cjs): decoding on W workers runs at most pool-size images at once.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LIBUV_DEFAULT_THREADS, threadpoolNote, threadpoolSize } from '../../common/threadpool.js';
import { REPO_ROOT } from '../data.js';

describe('threadpoolSize', () => {
  it("reads UV_THREADPOOL_SIZE as libuv does: the default when unset or not a positive integer, clamped to 1024", () => {
    expect(threadpoolSize({})).toBe(LIBUV_DEFAULT_THREADS);
    expect(threadpoolSize({ UV_THREADPOOL_SIZE: '16' })).toBe(16);
    expect(threadpoolSize({ UV_THREADPOOL_SIZE: '0' })).toBe(LIBUV_DEFAULT_THREADS);
    expect(threadpoolSize({ UV_THREADPOOL_SIZE: 'many' })).toBe(LIBUV_DEFAULT_THREADS);
    expect(threadpoolSize({ UV_THREADPOOL_SIZE: '5000' })).toBe(1024);
  });

  it('notes a pool smaller than the workers, naming both, and nothing otherwise', () => {
    const note = threadpoolNote(8, {});
    expect(note).toMatch(/at most 4 images at once/);
    expect(note).toMatch(/8 preprocessing workers/);
    expect(note).toMatch(/UV_THREADPOOL_SIZE=8/);
    expect(threadpoolNote(4, {})).toBeUndefined();
    expect(threadpoolNote(8, { UV_THREADPOOL_SIZE: '8' })).toBeUndefined();
    expect(threadpoolNote(12, { UV_THREADPOOL_SIZE: '8' })).toMatch(/at most 8 images/);
  });
});

describe('the netdef command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netdef-threadpool-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Preloaded before the command: reports, at exit, the UV_THREADPOOL_SIZE the process ran with.
  const probe = join(dir, 'probe.cjs');
  writeFileSync(probe, "process.on('exit', () => process.stderr.write(`threadpool=${process.env.UV_THREADPOOL_SIZE}\\n`));\n");

  function run(env: Record<string, string>): string {
    const base = { ...process.env };
    delete base['UV_THREADPOOL_SIZE'];
    const r = spawnSync(process.execPath, ['--require', probe, join(REPO_ROOT, 'bin', 'netdef.cjs'), '--version'], { env: { ...base, ...env }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return /threadpool=(\S+)/.exec(r.stderr)?.[1] ?? '';
  }

  it('sizes the pool to the cores (at least libuv\'s 4) before anything runs, unless it is set', () => {
    expect(run({})).toBe(String(Math.max(LIBUV_DEFAULT_THREADS, availableParallelism())));
    expect(run({ UV_THREADPOOL_SIZE: '3' })).toBe('3');
  });
});
