/**
 * Decode and letterbox on worker threads (vision/preprocess/worker.ts), so that images are prepared
 * in parallel and while the engine runs. An image is decoded first (its size decides the letterbox
 * shape, which for a batch depends on all of its images), then letterboxed by the worker that holds it.
 */
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkerPool } from '../../common/worker-pool.js';
import type { RgbImage } from '../image.js';
import type { LetterboxGeometry } from '../letterbox.js';
import type { InputDType } from '../tensor.js';
import type { DecodeReply, LetterboxReply } from './protocol.js';

/** At most this many workers by default: beyond it the engine, not the decoding, is the limit. */
const MAX_DEFAULT_WORKERS = 8;

/** The default number of preprocessing workers: the cores less one for the main thread, at least 1. */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(MAX_DEFAULT_WORKERS, availableParallelism() - 1));
}

/** A decoded image waiting in a worker for its letterbox shape. */
export interface DecodedImage {
  readonly worker: number;
  readonly key: number;
  readonly width: number;
  readonly height: number;
  readonly path: string;
  /** Milliseconds spent decoding. */
  readonly ms: number;
  /** The RGB bytes (HWC), when decoded with `handOver` (then no worker keeps the image). */
  readonly data?: Uint8Array;
}

export interface PreparedInput {
  readonly data: Uint8Array;
  readonly geometry: LetterboxGeometry;
  /** The letterbox's source size (after validation's load-resize). */
  readonly loaded: { readonly width: number; readonly height: number };
  readonly ms: number;
}

const WORKER_MODULE = new URL(`./worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

export class PreprocessPool {
  private readonly pool: WorkerPool;
  private nextKey = 1;

  constructor(workers = defaultWorkers()) {
    this.pool = new WorkerPool(WORKER_MODULE, workers, 'preprocessing');
  }

  get workers(): number {
    return this.pool.size;
  }

  /**
   * Decodes on a worker, which keeps the image for `letterbox`; with `handOver` the RGB bytes come
   * back with the reply instead (for a letterbox on the GPU).
   */
  async decode(source: string | Uint8Array | RgbImage, name?: string, handOver = false): Promise<DecodedImage> {
    const key = this.nextKey++;
    const worker = this.pool.leastBusy();
    const raw = typeof source === 'string' || source instanceof Uint8Array ? source : { width: source.width, height: source.height, data: source.data, path: source.path };
    const request = { key, source: raw, ...(name === undefined ? {} : { name }), ...(handOver ? { handOver } : {}) };
    const reply = await this.pool.request<DecodeReply>('decode', request, { worker });
    return { worker, key, ...reply };
  }

  /** The image's input tensor ([1, 3, H, W] bytes); the worker forgets the image. */
  letterbox(image: DecodedImage, shape: readonly [number, number], auto: boolean, dtype: InputDType, valImgsz?: number): Promise<PreparedInput> {
    return this.pool.request<LetterboxReply>('letterbox', { key: image.key, shape, auto, dtype, ...(valImgsz === undefined ? {} : { valImgsz }) }, { worker: image.worker });
  }

  /** Forgets a decoded image that will not be letterboxed (its batch failed). */
  async drop(image: DecodedImage): Promise<void> {
    await this.pool.request('drop', { key: image.key }, { worker: image.worker });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
