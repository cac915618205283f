/** common/worker-pool.ts: answers in order of requests, typed errors through, a dead worker fails its requests. */
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerPool } from '../../common/worker-pool.js';

const pool = new WorkerPool(new URL('./pool-worker.ts', import.meta.url), 2, 'test pool');
afterAll(() => pool.close());

describe('WorkerPool', () => {
  it('answers each request, on the least busy worker or a named one', async () => {
    const answers = await Promise.all([1, 2, 3, 4].map((value) => pool.request<number>('echo', { value })));
    expect(answers).toEqual([2, 4, 6, 8]);
    expect(await pool.request<number>('echo', { value: 5 }, { worker: 1 })).toBe(10);
    const bytes = await pool.request<Uint8Array>('bytes', { n: 16 });
    expect([...bytes]).toEqual(Array(16).fill(7));
  });

  it('keeps a NetdefError\'s code; anything else is ERR_BACKEND; an unknown request too', async () => {
    await expect(pool.request('refuse', {})).rejects.toMatchObject({ code: 'ERR_IMAGE_DECODE', message: 'not an image' });
    await expect(pool.request('crash', {})).rejects.toMatchObject({ code: 'ERR_BACKEND', message: expect.stringContaining('oops') });
    await expect(pool.request('nothing', {})).rejects.toMatchObject({ code: 'ERR_BACKEND', message: expect.stringContaining("unknown request 'nothing'") });
  });

  it('fails the requests of a worker that stops, and goes on with the others', async () => {
    const own = new WorkerPool(new URL('./pool-worker.ts', import.meta.url), 2, 'dying pool');
    await expect(own.request('exit', {}, { worker: 0 })).rejects.toMatchObject({ code: 'ERR_BACKEND', message: expect.stringContaining('a worker thread stopped') });
    await expect(own.request('echo', { value: 1 }, { worker: 0 })).rejects.toMatchObject({ code: 'ERR_BACKEND' });
    expect(await own.request<number>('echo', { value: 21 })).toBe(42);
    await own.close();
    await expect(own.request('echo', { value: 1 })).rejects.toMatchObject({ message: expect.stringContaining('closed') });
  });

  it('fails requests still in flight when closed, instead of leaving them pending', async () => {
    const own = new WorkerPool(new URL('./pool-worker.ts', import.meta.url), 1, 'closing pool');
    await own.request('echo', { value: 1 });
    const inFlight = own.request('busy', { ms: 300 });
    await own.close();
    await expect(inFlight).rejects.toMatchObject({ code: 'ERR_BACKEND', message: expect.stringContaining('closed with the request in flight') });
  });

  it('refuses a pool of no workers', () => {
    expect(() => new WorkerPool(new URL('./pool-worker.ts', import.meta.url), 0, 'empty')).toThrow(/positive integer/);
  });
});
