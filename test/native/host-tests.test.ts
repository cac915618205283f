/**
 * The CUDA engine's host-only tests (scripts/native-host-tests.sh: build passes, blob format,
 * timing cache, residual fusion, the direct convolution's Cast folding, SPPF's views), compiled
 * with g++ under ASan and UBSan and run here: pure host code, so they need no GPU. Each test binary
 * prints PASS/FAIL lines and a count, and every binary the script runs must print one; any FAIL, a
 * sanitizer report or a compile error fails this test with the script's output.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../data.js';

const SCRIPT_TIMEOUT_MS = 600_000;
const SCRIPT = join(REPO_ROOT, 'scripts', 'native-host-tests.sh');

// The binaries the script runs: its `for t in a b c; do` line.
function binaries(): string[] {
  const m = /^for t in ([\w ]+); do$/m.exec(readFileSync(SCRIPT, 'utf8'));
  if (!m) throw new Error(`${SCRIPT}: no "for t in ...; do" line naming the test binaries`);
  return m[1]!.trim().split(/\s+/);
}

it('native host tests pass (g++, ASan + UBSan)', { timeout: SCRIPT_TIMEOUT_MS }, () => {
  const out = mkdtempSync(join(tmpdir(), 'netdef-host-tests-'));
  try {
    const res = spawnSync('bash', [SCRIPT], {
      cwd: REPO_ROOT, encoding: 'utf8', timeout: SCRIPT_TIMEOUT_MS, env: { ...process.env, NETDEF_HOST_TESTS_DIR: out },
    });
    const output = `${res.stdout}\n${res.stderr}`;
    expect(res.status, output).toBe(0);
    expect(output).not.toMatch(/^FAIL/m);
    const counts = [...output.matchAll(/^(\d+) passed, (\d+) failed$/gm)];
    const names = binaries();
    expect(names.length).toBeGreaterThanOrEqual(6);
    expect(counts.length, output).toBe(names.length);
    for (const [, passed, failed] of counts) {
      expect(Number(failed)).toBe(0);
      expect(Number(passed)).toBeGreaterThan(0);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
