import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../data.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const BIN = join(REPO_ROOT, 'bin', 'netdef.cjs');

/** Runs the built `netdef` command in the repository (npm test builds dist/ first). */
export function netdef(...args: string[]): Promise<CliResult> {
  return netdefIn(REPO_ROOT, ...args);
}

/** Runs the built `netdef` command with `cwd` as its working directory. */
export function netdefIn(cwd: string, ...args: string[]): Promise<CliResult> {
  return netdefWith({ cwd }, ...args);
}

/** Runs the built `netdef` command with a working directory and extra environment variables. */
export function netdefWith(options: { readonly cwd?: string; readonly env?: Record<string, string> }, ...args: string[]): Promise<CliResult> {
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? REPO_ROOT, env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
