/**
 * libuv's threadpool, on which sharp (libvips) decodes: one pool per process, shared by every worker
 * thread, sized once from UV_THREADPOOL_SIZE at its first use (4 when unset). Decoding on W worker
 * threads runs at most this many images at once, so a pool smaller than W caps decoding. The
 * netdef command (bin/netdef.cjs) sizes it before anything runs; a program using the library sets
 * UV_THREADPOOL_SIZE in its environment.
 */

/** libuv's pool size when UV_THREADPOOL_SIZE is unset. */
export const LIBUV_DEFAULT_THREADS = 4;
/** libuv's largest pool. */
const LIBUV_MAX_THREADS = 1024;

/** The pool size libuv takes from this environment (its own rule: a positive integer, clamped; else the default). */
export function threadpoolSize(env: NodeJS.ProcessEnv = process.env): number {
  const asked = Number.parseInt(env['UV_THREADPOOL_SIZE'] ?? '', 10);
  if (!Number.isFinite(asked) || asked < 1) return LIBUV_DEFAULT_THREADS;
  return Math.min(asked, LIBUV_MAX_THREADS);
}

/** A note when `workers` decoding threads would wait for a smaller threadpool, else undefined. */
export function threadpoolNote(workers: number, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const size = threadpoolSize(env);
  if (workers <= size) return undefined;
  return `decoding runs at most ${size} images at once: libuv's threadpool (UV_THREADPOOL_SIZE, ${env['UV_THREADPOOL_SIZE'] === undefined ? 'unset: 4' : size}) is smaller than the ${workers} preprocessing workers; start node with UV_THREADPOOL_SIZE=${workers} or more (the netdef command does this itself)`;
}
