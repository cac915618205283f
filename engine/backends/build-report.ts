/**
 * What GPU backends share around a build: the float32 math setting, the timing cache file (read
 * before, written atomically after, errors naming the file) and the build log handed to the caller.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { writeAtomically } from '../../common/atomic-file.js';
import { ErrorCode, fail } from '../../common/errors.js';
import { readFileWithin } from '../../common/limits.js';
import type { BuildOptions, Fp32Math } from '../backend.js';

/** fp32Math as the native flag (true: TF32 allowed); anything but 'fma' or 'tf32' is refused. */
export function checkFp32Math(value: Fp32Math | undefined): boolean {
  if (value !== undefined && value !== 'fma' && value !== 'tf32') fail(ErrorCode.InvalidArgument, `fp32Math must be fma or tf32, got '${String(value)}'`);
  return value === 'tf32';
}


/** The cache file's bytes, or undefined when there is no such file yet (the build then starts a cache there). */
export async function readTimingCache(path: string | undefined): Promise<Uint8Array | undefined> {
  if (path === undefined || !existsSync(path)) return undefined;
  return new Uint8Array(await readFileWithin(path, 'timing cache', 'timingCacheBytes', ErrorCode.EngineFormat));
}

/** After a build: the log passed on, and the cache written over `options.timingCache` when set and the build returned one. */
export async function reportBuild(options: BuildOptions, what: string, built: { readonly timingCache?: Uint8Array; readonly buildLog?: readonly string[] }): Promise<void> {
  for (const line of built.buildLog ?? []) options.onLog?.(line);
  const path = options.timingCache;
  if (path !== undefined && built.timingCache && built.timingCache.byteLength > 0) {
    await writeAtomically(path, what, (tmp) => writeFile(tmp, built.timingCache!));
  }
}
