/**
 * Every defect of issue 13 as a regression (scripts/fuzz/regressions.ts), run in one child process
 * with a 256 MiB heap: each case must give the typed error it names (or pass, where the input is
 * legitimate) within 2 s. A case that needs more memory kills the child and fails here.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../data.js';
import type { RegressionResult } from '../../scripts/fuzz/regressions.js';

const HEAP_MB = 256;
/** The bound on each hostile input. */
const CASE_MS = 2000;
const RUN_TIMEOUT_MS = 120_000;

describe('issue 13 regressions (256 MiB heap, 2 s each)', () => {
  const child = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MB}`, '--import', 'tsx', 'scripts/fuzz/regressions.ts'], {
    cwd: REPO_ROOT, encoding: 'utf8', timeout: RUN_TIMEOUT_MS, maxBuffer: 16 << 20,
  });
  const results = child.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as RegressionResult);

  it('runs to the end without crashing or running out of memory', () => {
    expect(child.signal, child.stderr.slice(-2000)).toBeNull();
    expect(child.status, child.stderr.slice(-2000)).toBe(0);
    expect(results.length).toBeGreaterThan(30);
  });

  for (const r of results) {
    it(r.name, () => {
      expect({ outcome: r.outcome, message: r.message }).toMatchObject({ outcome: r.expect });
      expect(r.ms).toBeLessThan(CASE_MS);
      expect(r.message.length).toBeLessThan(1000);
    });
  }
});
