#!/usr/bin/env node
// The netdef command: runs the compiled CLI (dist/). In a source checkout where dist/ has not been
// built yet (`npm ci` runs no build scripts, see .npmrc), it is built first with the checkout's tsc.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  const tsconfig = fileURLToPath(new URL('../tsconfig.json', import.meta.url));
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  if (!existsSync(tsconfig) || !existsSync(tsc)) {
    process.stderr.write('netdef: dist/ is missing and cannot be built here; run `npm run build` in the netdef checkout\n');
    process.exit(2);
  }
  process.stderr.write('netdef: building dist/ from the sources (first run in this checkout)\n');
  const built = spawnSync(process.execPath, [tsc, '-p', tsconfig], { stdio: 'inherit' });
  if (built.status !== 0) {
    process.stderr.write('netdef: building dist/ failed (see above)\n');
    process.exit(2);
  }
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
