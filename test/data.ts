import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The shared data folder (weights, ONNX export, images, coco128): $NETDEF_DATA if set, otherwise
 * the nearest `shared/data` beside the repository or one of its ancestors. Tests need it; a missing
 * folder is an error, never a silent skip.
 */
function findDataDir(): string {
  const fromEnv = process.env.NETDEF_DATA;
  if (fromEnv) return resolve(fromEnv);
  let dir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  for (;;) {
    const candidate = join(dir, 'shared', 'data');
    if (existsSync(join(candidate, 'PROVENANCE.md'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('shared/data not found beside the repository or its ancestors; set NETDEF_DATA');
    dir = parent;
  }
}

export const DATA_DIR = findDataDir();
export const dataPath = (...parts: string[]): string => join(DATA_DIR, ...parts);
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
