#!/usr/bin/env node
// The netdef command: runs the compiled CLI (dist/). In a source checkout where dist/ has not been
// built yet (`npm ci` runs no build scripts, see .npmrc), it is built first with the checkout's tsc.
//
// CommonJS on purpose: it runs before anything touches libuv's threadpool, so it can still size it.
// sharp decodes on that pool, shared by all preprocessing workers and 4 threads by default, which
// would cap decoding at 4 images at once (common/threadpool.ts). Unless UV_THREADPOOL_SIZE is set,
// it gets one thread per core (at least libuv's 4). An ES module entry is too late: loading it
// already starts the pool.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { availableParallelism } = require('node:os');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

const LIBUV_DEFAULT_THREADS = 4;
if (process.env.UV_THREADPOOL_SIZE === undefined) {
  process.env.UV_THREADPOOL_SIZE = String(Math.max(LIBUV_DEFAULT_THREADS, availableParallelism()));
}

const root = join(__dirname, '..');
const entry = join(root, 'dist', 'cli', 'main.js');
if (!existsSync(entry)) {
  const tsconfig = join(root, 'tsconfig.json');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
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
import(pathToFileURL(entry).href)
  .then(async ({ main }) => {
    process.exitCode = await main(process.argv.slice(2));
  })
  .catch((e) => {
    process.stderr.write(`netdef: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
