/** netdef's version, from the package.json above this module (works from sources and from dist/). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'netdef' && pkg.version) return pkg.version;
    }
    if (dirname(dir) === dir) throw new Error("netdef's package.json not found");
  }
}

export const NETDEF_VERSION = findVersion();
