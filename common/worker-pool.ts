/**
 * A fixed pool of worker threads running one worker module, with request/response messages.
 * Requests go to the least busy worker, or to a named one (a worker that holds state for the
 * request, such as a decoded image). Errors thrown in a worker come back as NetdefErrors with their
 * code; a worker that dies fails its pending requests with ERR_BACKEND and is not reused.
 *
 * The worker module answers with `serveRequests(handlers)`. Under TypeScript sources (tests, tsx)
 * the worker is started with tsx's loader; built code (dist/) runs the compiled .js directly.
 */
import { parentPort, Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ErrorCode, NetdefError, type ErrorCodeValue } from './errors.js';

interface Request {
  readonly id: number;
  readonly kind: string;
  readonly payload: unknown;
}

type Response =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly code: ErrorCodeValue; readonly message: string };

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  dead: Error | undefined;
}

export class WorkerPool {
  private readonly slots: Slot[];
  private nextId = 1;
  private closed = false;

  /** `module` is the worker's URL, usually `new URL('./x-worker.js', import.meta.url)` with the caller's extension. */
  constructor(module: URL, size: number, private readonly what: string) {
    if (!Number.isInteger(size) || size < 1) throw new NetdefError(ErrorCode.InvalidArgument, `${what}: the number of workers must be a positive integer, got ${size}`);
    this.slots = Array.from({ length: size }, () => this.start(module));
  }

  get size(): number {
    return this.slots.length;
  }

  private start(module: URL): Slot {
    const worker = module.pathname.endsWith('.ts') ? new Worker(tsBootstrap(module), { eval: true }) : new Worker(fileURLToPath(module));
    const slot: Slot = { worker, pending: new Map(), dead: undefined };
    worker.on('message', (r: Response) => {
      const p = slot.pending.get(r.id);
      if (!p) return;
      slot.pending.delete(r.id);
      if (r.ok) p.resolve(r.value);
      else p.reject(new NetdefError(r.code, r.message));
    });
    const die = (error: Error): void => {
      if (this.closed) return;
      slot.dead = new NetdefError(ErrorCode.Backend, `${this.what}: a worker thread stopped (${error.message})`, { cause: error });
      for (const p of slot.pending.values()) p.reject(slot.dead);
      slot.pending.clear();
    };
    worker.on('error', die);
    worker.on('exit', (code) => die(new Error(`exit code ${code}`)));
    worker.unref();
    return slot;
  }

  /** The index of the live worker with the fewest requests in flight. */
  leastBusy(): number {
    let best = -1;
    this.slots.forEach((s, i) => {
      if (!s.dead && (best < 0 || s.pending.size < this.slots[best]!.pending.size)) best = i;
    });
    if (best < 0) throw this.slots[0]!.dead ?? new NetdefError(ErrorCode.Backend, `${this.what}: no worker left`);
    return best;
  }

  /** Sends one request to worker `index` (default: the least busy); `transfer` moves buffers instead of copying them. */
  request<T>(kind: string, payload: unknown, options: { readonly worker?: number; readonly transfer?: readonly ArrayBuffer[] } = {}): Promise<T> {
    if (this.closed) return Promise.reject(new NetdefError(ErrorCode.Backend, `${this.what}: the worker pool is closed`));
    const index = options.worker ?? this.leastBusy();
    const slot = this.slots[index]!;
    if (slot.dead) return Promise.reject(slot.dead);
    const id = this.nextId++;
    slot.worker.ref();
    return new Promise<T>((resolve, reject) => {
      slot.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const request: Request = { id, kind, payload };
      slot.worker.postMessage(request, [...(options.transfer ?? [])]);
    }).finally(() => {
      if (slot.pending.size === 0 && !this.closed) slot.worker.unref();
    });
  }

  /** Stops the workers; requests still in flight fail with ERR_BACKEND (they never hang). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closed = new NetdefError(ErrorCode.Backend, `${this.what}: the worker pool was closed with the request in flight`);
    for (const s of this.slots) {
      for (const p of s.pending.values()) p.reject(closed);
      s.pending.clear();
      // An unreferenced worker would let the process exit before terminate() settles (an awaited promise left pending).
      s.worker.ref();
    }
    await Promise.allSettled(this.slots.map((s) => s.worker.terminate()));
  }
}

/**
 * A worker from TypeScript source (tests, tsx): registers tsx's loader in the worker, then imports
 * the module. (Node 20 applies neither a worker's `--import tsx` execArgv nor the hooks that `tsx` registers on import.)
 */
function tsBootstrap(module: URL): string {
  // tsx's `tsx/esm/api` export, as ESM (createRequire would resolve its CommonJS twin, which fails to register here).
  const api = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'esm', 'api', 'index.mjs')).href;
  return `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(module.href)}); });`;
}

/** A handler's answer: the value, and the buffers to move to the caller rather than copy. */
export interface Reply {
  readonly value: unknown;
  readonly transfer?: readonly ArrayBuffer[];
}

/** Inside a worker: answers requests by kind. A handler's NetdefError keeps its code; anything else is ERR_BACKEND. */
export function serveRequests(handlers: Record<string, (payload: never) => Promise<Reply> | Reply>): void {
  const port = parentPort;
  if (!port) throw new Error('serveRequests runs inside a worker thread');
  port.on('message', (r: Request) => {
    const handler = Object.hasOwn(handlers, r.kind) ? handlers[r.kind] : undefined;
    void (async () => {
      try {
        if (!handler) throw new NetdefError(ErrorCode.Backend, `worker: unknown request '${r.kind}'`);
        const reply = await handler(r.payload as never);
        port.postMessage({ id: r.id, ok: true, value: reply.value } satisfies Response, [...(reply.transfer ?? [])]);
      } catch (e) {
        const err = e instanceof NetdefError ? e : new NetdefError(ErrorCode.Backend, `worker: ${e instanceof Error ? e.message : String(e)}`);
        port.postMessage({ id: r.id, ok: false, code: err.code, message: err.message } satisfies Response);
      }
    })();
  });
}
