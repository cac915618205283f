/**
 * Runs the fuzz harness from the command line (docs/limits.md):
 *   npm run fuzz -- --cases 100000 --seed 7 [--only pickle] [--case 1234] [--timeout-ms 2000] [--json]
 * Exits 1 when any case ends in an untyped error or takes longer than the bound; a crash or a hang
 * ends the process itself. Prints the count per parser.
 */
import { parseArgs } from 'node:util';
import { type FuzzTarget, formatReport, runFuzz } from './harness.js';
import { engineTarget } from './targets/engine.js';
import { cocoTarget, labelsTarget, policyTarget } from './targets/text.js';
import { pickleTarget, safetensorsTarget, zipTarget } from './targets/weights.js';

const DEFAULT_CASES = 10_000;
const DEFAULT_SEED = 1;
/** A case must end in this many ms (the bound for every hostile input). */
const DEFAULT_CASE_TIMEOUT_MS = 2000;

export function allTargets(): FuzzTarget[] {
  return [pickleTarget(), zipTarget(), safetensorsTarget(), engineTarget(), cocoTarget(), labelsTarget(), policyTarget()];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cases: { type: 'string' }, seed: { type: 'string' }, only: { type: 'string' }, case: { type: 'string' },
      'timeout-ms': { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' },
    },
  });
  const targets = allTargets().filter((t) => !values.only || values.only.split(',').includes(t.name));
  if (targets.length === 0) throw new Error(`--only: no target named ${values.only} (${allTargets().map((t) => t.name).join(', ')})`);
  let last = 0;
  const report = await runFuzz(targets, {
    seed: Number(values.seed ?? DEFAULT_SEED),
    cases: Number(values.cases ?? DEFAULT_CASES),
    caseTimeoutMs: Number(values['timeout-ms'] ?? DEFAULT_CASE_TIMEOUT_MS),
    ...(values.case !== undefined ? { only: Number(values.case) } : {}),
    onProgress: (done, total) => {
      const now = performance.now();
      if (!values.quiet && !values.json && now - last > 5000) {
        last = now;
        process.stderr.write(`fuzz: ${done}/${total}\n`);
      }
    },
  });
  console.log(values.json ? JSON.stringify(report) : formatReport(report));
  process.exitCode = report.failures.length > 0 ? 1 : 0;
}

await main();
