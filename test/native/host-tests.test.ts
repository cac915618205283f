/**
 * The CUDA engine's host-only tests (scripts/native-host-tests.sh: build passes, blob format,
 * timing cache, residual fusion), compiled with g++ under ASan and UBSan and run here: pure host
 * code, so they need no GPU. Each test binary prints PASS/FAIL lines and a count; any FAIL, a
 * sanitizer report or a compile error fails this test with the script's output.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../data.js';

const SCRIPT_TIMEOUT_MS = 600_000;

it('native host tests pass (g++, ASan + UBSan)', { timeout: SCRIPT_TIMEOUT_MS }, () => {
  const out = mkdtempSync(join(tmpdir(), 'netdef-host-tests-'));
  try {
    const res = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'native-host-tests.sh')], {
      cwd: REPO_ROOT, encoding: 'utf8', timeout: SCRIPT_TIMEOUT_MS, env: { ...process.env, NETDEF_HOST_TESTS_DIR: out },
    });
    const output = `${res.stdout}\n${res.stderr}`;
    expect(res.status, output).toBe(0);
    expect(output).not.toMatch(/^FAIL/m);
    const counts = [...output.matchAll(/^(\d+) passed, (\d+) failed$/gm)];
    expect(counts.length, output).toBe(4);
    for (const [, passed, failed] of counts) {
      expect(Number(failed)).toBe(0);
      expect(Number(passed)).toBeGreaterThan(0);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
