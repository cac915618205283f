/** A worker for test/common/worker-pool.test.ts: echoes, fails with a code, exits, or stays busy. */
import { ErrorCode, NetdefError } from '../../common/errors.js';
import { serveRequests } from '../../common/worker-pool.js';

serveRequests({
  echo: (x: { value: number }) => ({ value: x.value * 2 }),
  bytes: (x: { n: number }) => {
    const data = new Uint8Array(x.n).fill(7);
    return { value: data, transfer: [data.buffer as ArrayBuffer] };
  },
  refuse: () => {
    throw new NetdefError(ErrorCode.ImageDecode, 'not an image');
  },
  crash: () => {
    throw new TypeError('oops');
  },
  exit: () => process.exit(3),
  busy: (x: { ms: number }) => {
    const until = Date.now() + x.ms;
    while (Date.now() < until) { /* holds the worker, as a long decode does */ }
    return { value: x.ms };
  },
});
