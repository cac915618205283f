/**
 * The fuzz harness: targets (one per parser) make a mutated input from a real seed file and run
 * the parser on it. Every case must end in success or a NetdefError (a typed error with a code);
 * anything else (a TypeError, a RangeError, a stack overflow) is an untyped failure, and a case
 * that takes longer than the time bound is a timeout. Crashes and hangs end the process, which the
 * caller (test/fuzz/fuzz.test.ts, or a person running `npm run fuzz`) sees as a failed run.
 *
 * Cases are reproducible one by one: case i of seed s uses its own generator seeded from (s, i),
 * so `npm run fuzz -- --seed s --only <target> --case i` replays it.
 */
import { NetdefError } from '../../common/errors.js';
import { seededRandom } from '../../common/random.js';
import { Rng } from './mutate.js';

export interface FuzzTarget {
  readonly name: string;
  /** Share of the cases this target gets (relative weight). */
  readonly weight: number;
  /** Loads and prepares the seeds (once per run). */
  setup(): Promise<void>;
  /** One case: mutates a seed and runs the parser; returns a short description of the mutation. */
  run(rng: Rng): Promise<string>;
}

export type Outcome = 'accepted' | 'typed' | 'untyped' | 'timeout';

export interface Failure {
  readonly target: string;
  readonly index: number;
  readonly outcome: Outcome;
  readonly mutation: string;
  readonly error: string;
  readonly ms: number;
}

export interface TargetStats {
  cases: number;
  accepted: number;
  typed: number;
  slowestMs: number;
  totalMs: number;
  readonly codes: Record<string, number>;
}

export interface FuzzReport {
  readonly seed: number;
  readonly cases: number;
  readonly seconds: number;
  readonly targets: Record<string, TargetStats>;
  readonly failures: Failure[];
}

export interface FuzzOptions {
  readonly seed: number;
  readonly cases: number;
  /** Bound on one case (ms): slower is a timeout. */
  readonly caseTimeoutMs: number;
  /** Run only case `only` (replay). */
  readonly only?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

/** A generator for case `index` of run `seed`, independent of every other case. */
export function caseRng(seed: number, index: number): Rng {
  const mixed = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  return new Rng(seededRandom(mixed >>> 0));
}

/** Which target case `index` belongs to: targets share the cases by weight, interleaved. */
function targetOf(targets: readonly FuzzTarget[], seed: number, index: number): FuzzTarget {
  const total = targets.reduce((s, t) => s + t.weight, 0);
  let x = caseRng(seed ^ 0x5bd1e995, index).float() * total;
  for (const t of targets) {
    x -= t.weight;
    if (x < 0) return t;
  }
  return targets[targets.length - 1]!;
}

export async function runFuzz(targets: readonly FuzzTarget[], options: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  for (const t of targets) await t.setup();
  const stats: Record<string, TargetStats> = {};
  for (const t of targets) stats[t.name] = { cases: 0, accepted: 0, typed: 0, slowestMs: 0, totalMs: 0, codes: {} };
  const failures: Failure[] = [];
  const indices = options.only !== undefined ? [options.only] : Array.from({ length: options.cases }, (_, i) => i);
  for (const [n, index] of indices.entries()) {
    const target = targetOf(targets, options.seed, index);
    const s = stats[target.name]!;
    const t0 = performance.now();
    let mutation = '?';
    let outcome: Outcome = 'accepted';
    let error = '';
    try {
      mutation = await target.run(caseRng(options.seed, index));
    } catch (e) {
      mutation = (e as { fuzzMutation?: string }).fuzzMutation ?? mutation;
      if (e instanceof NetdefError) {
        outcome = 'typed';
        s.codes[e.code] = (s.codes[e.code] ?? 0) + 1;
      } else {
        outcome = 'untyped';
        error = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
      }
    }
    const ms = performance.now() - t0;
    s.cases++;
    s.slowestMs = Math.max(s.slowestMs, ms);
    s.totalMs += ms;
    if (outcome === 'accepted') s.accepted++;
    if (outcome === 'typed') s.typed++;
    if (ms > options.caseTimeoutMs && outcome !== 'untyped') outcome = 'timeout';
    if (outcome === 'untyped' || outcome === 'timeout') failures.push({ target: target.name, index, outcome, mutation, error: error.slice(0, 2000), ms });
    options.onProgress?.(n + 1, indices.length);
  }
  return { seed: options.seed, cases: indices.length, seconds: (performance.now() - started) / 1000, targets: stats, failures };
}

/** Attaches the mutation's description to whatever `f` throws, so a failure says what input it was. */
export async function describing<T>(mutation: string, f: () => T | Promise<T>): Promise<string> {
  try {
    await f();
  } catch (e) {
    if (typeof e === 'object' && e !== null) Object.defineProperty(e, 'fuzzMutation', { value: mutation });
    throw e;
  }
  return mutation;
}

export function formatReport(r: FuzzReport): string {
  const lines = [`fuzz: ${r.cases} cases, seed ${r.seed}, ${r.seconds.toFixed(1)} s; ${r.failures.length} failures`];
  for (const [name, s] of Object.entries(r.targets)) {
    const codes = Object.entries(s.codes).map(([c, n]) => `${c} ${n}`).join(', ');
    lines.push(`  ${name.padEnd(12)} ${String(s.cases).padStart(6)} cases: ${s.accepted} accepted, ${s.typed} typed errors (${codes}); ${(s.totalMs / 1000).toFixed(1)} s, slowest ${s.slowestMs.toFixed(0)} ms`);
  }
  for (const f of r.failures) lines.push(`  FAIL ${f.outcome} ${f.target} case ${f.index} (${f.ms.toFixed(0)} ms): ${f.mutation}\n    ${f.error.split('\n').slice(0, 6).join('\n    ')}`);
  return lines.join('\n');
}
