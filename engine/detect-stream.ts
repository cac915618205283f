/**
 * Batched, pipelined detection: images in, results out in input order, with every stage busy.
 *
 * Sources are pulled lazily, `batch` at a time, and at most `lookahead` batches are in flight, so an
 * endless source runs in bounded memory. For each batch, as soon as it is pulled: the workers decode
 * its images; its letterbox shape is chosen (Ultralytics' predictor: the minimal rectangle in rect
 * mode only when every image of the batch has the same size, else the square); the workers
 * letterbox; the tensors are stacked. Inference runs one batch after another on the engine for that
 * shape and batch size; NMS of batch k runs on the main thread while the engine runs batch k+1 and
 * the workers prepare k+2. A failing image is reported at its place; the others of its batch go on.
 *
 * With `host.device` (the cuda backend's default, engine/image-run.ts) the workers only decode: the
 * letterbox geometry is computed here, the decoded bytes go to the engine, which letterboxes them
 * on the GPU and, with a candidate query, gives back only the NMS candidates.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { ErrorCode, NetdefError } from '../common/errors.js';
import { hostTensor, type HostTensor } from '../common/host-tensor.js';
import { RGB_CHANNELS, type RgbImage } from '../vision/image.js';
import { type LetterboxGeometry, letterboxGeometry } from '../vision/letterbox.js';
import type { DecodedImage, PreparedInput, PreprocessPool } from '../vision/preprocess/pool.js';
import type { InputDType } from '../vision/tensor.js';
import type { Engine } from './engine.js';
import type { CandidateQuery, DeviceImage, ImageRun } from './image-run.js';
import { InputBuffers } from './input-buffers.js';

export type ImageInput = string | Uint8Array | RgbImage;

/** A source item that failed before it became an image (a video ending early): reported at its place. */
export class SourceFailure {
  constructor(readonly name: string, readonly error: NetdefError) {}
}

export type StreamInput = ImageInput | SourceFailure;

/** Milliseconds spent per stage for one image (batch stages divided by the batch's images). */
export interface StageTimes {
  readonly decode: number;
  /** The letterbox on a worker; with the GPU letterbox only the geometry and the bytes' handover (the GPU's work is in inference). */
  readonly letterbox: number;
  readonly inference: number;
  readonly nms: number;
  /** Building an engine for this image's batch shape (0 when one was ready); not part of the others. */
  readonly build: number;
}

/** One image of a batch as the engine saw it. */
export interface BatchImage {
  readonly path: string;
  readonly width: number;
  readonly height: number;
  readonly geometry: LetterboxGeometry;
}

/** What the pipeline needs from its detector. */
export interface StreamHost {
  readonly pool: PreprocessPool;
  /** The square [height, width] that images are letterboxed into. */
  readonly square: readonly [number, number];
  /** Rect mode (Ultralytics' auto letterbox) when the batch allows it. */
  readonly rect: boolean;
  readonly inputDType: InputDType;
  /**
   * Letterbox on the GPU (the engine's runImages): the workers only decode. With `candidates`,
   * the NMS candidates are selected there too; without, the raw outputs come back.
   */
  readonly device?: { readonly candidates?: CandidateQuery };
  engineFor(height: number, width: number, batch: number): Promise<Engine>;
}

/** What one batch gives: per image, its detections (or a failure); from raw outputs or GPU candidates. */
export type BatchPostprocess<R> = (result: ImageRun, engine: Engine, images: readonly BatchImage[]) => R[];

export interface StreamItem<R> {
  readonly image: string;
  /** The original image's size. */
  readonly width?: number;
  readonly height?: number;
  readonly result?: R;
  readonly error?: NetdefError;
  readonly times?: StageTimes;
  readonly inputShape?: readonly [number, number];
  readonly source?: StreamInput;
}

interface Slot {
  readonly source: StreamInput;
  readonly name: string;
  decoded?: DecodedImage;
  prepared?: PreparedInput;
  error?: NetdefError;
}

interface Prepared {
  readonly slots: Slot[];
  /** The live images' stacked input, or undefined when every image failed (or with the GPU letterbox). */
  readonly tensor?: HostTensor;
  /** With the GPU letterbox: the live images' decoded bytes and geometry. */
  readonly images?: readonly DeviceImage[];
  readonly shape?: readonly [number, number];
}

interface Inferred extends Prepared {
  readonly result?: ImageRun;
  readonly engine?: Engine;
  readonly buildMs: number;
  readonly inferMs: number;
  readonly error?: NetdefError;
}

interface Job {
  readonly inferred: Promise<Inferred>;
}

function nameOf(source: StreamInput, index: number): string {
  if (typeof source === 'string') return source;
  if (source instanceof SourceFailure) return source.name;
  if (source instanceof Uint8Array) return `<buffer ${index}>`;
  return source.path;
}

/** A per-image error worth reporting at its place; anything else (a backend failure) stops the run. */
function perImage(e: unknown): NetdefError {
  if (e instanceof NetdefError && e.code !== ErrorCode.Backend) return e;
  throw e;
}

/**
 * One [N, 3, H, W] tensor from the workers' per-image tensors: a single image's own bytes, else a
 * buffer from `buffers` (recycled) or a new one.
 */
export function stackInputs(inputs: readonly PreparedInput[], shape: readonly [number, number], dtype: InputDType, buffers?: InputBuffers): HostTensor {
  const dims = [inputs.length, RGB_CHANNELS, shape[0], shape[1]];
  if (inputs.length === 1) return hostTensor(dtype, dims, inputs[0]!.data);
  const perImageBytes = inputs[0]!.data.byteLength;
  const bytes = buffers ? buffers.take(perImageBytes * inputs.length) : new Uint8Array(perImageBytes * inputs.length);
  inputs.forEach((p, i) => bytes.set(p.data, i * perImageBytes));
  return hostTensor(dtype, dims, bytes);
}

async function prepare(host: StreamHost, slots: Slot[], buffers: InputBuffers): Promise<Prepared> {
  await Promise.all(slots.map(async (slot, i) => {
    if (slot.source instanceof SourceFailure) {
      slot.error = slot.source.error;
      return;
    }
    const source = slot.source;
    try {
      slot.decoded = await host.pool.decode(source, typeof source === 'string' ? undefined : nameOf(source, i), host.device !== undefined);
    } catch (e) {
      slot.error = perImage(e);
    }
  }));
  const live = slots.filter((s) => s.decoded);
  if (live.length === 0) return { slots };
  const first = live[0]!.decoded!;
  const sameSize = live.every((s) => s.decoded!.width === first.width && s.decoded!.height === first.height);
  const auto = host.rect && sameSize;
  if (host.device) return prepareForDevice(host, slots, live, auto);
  await Promise.all(live.map(async (slot) => {
    try {
      slot.prepared = await host.pool.letterbox(slot.decoded!, host.square, auto, host.inputDType);
    } catch (e) {
      slot.error = perImage(e);
    }
  }));
  const ready = slots.filter((s) => s.prepared);
  if (ready.length === 0) return { slots };
  const g = ready[0]!.prepared!.geometry;
  const shape = [g.height, g.width] as const;
  return { slots, shape, tensor: stackInputs(ready.map((s) => s.prepared!), shape, host.inputDType, buffers) };
}

/** The GPU letterbox's preparation: the decoded bytes came with the decode; the geometry is computed here. */
function prepareForDevice(host: StreamHost, slots: Slot[], live: Slot[], auto: boolean): Prepared {
  for (const slot of live) {
    const d = slot.decoded!;
    try {
      const started = performance.now();
      const geometry = letterboxGeometry(d.width, d.height, { shape: host.square, auto });
      if (geometry.newUnpadWidth < 1 || geometry.newUnpadHeight < 1) {
        // as the host letterbox (resize-linear.ts) refuses it: this image fails, not its batch
        throw new NetdefError(ErrorCode.InvalidArgument, `letterbox: ${d.path} (${d.width}x${d.height}) resizes to ${geometry.newUnpadWidth}x${geometry.newUnpadHeight} at ${host.square[1]}x${host.square[0]}`);
      }
      slot.prepared = { data: d.data!, geometry, loaded: { width: d.width, height: d.height }, ms: performance.now() - started };
    } catch (e) {
      slot.error = perImage(e);
    }
  }
  const ready = slots.filter((s) => s.prepared);
  if (ready.length === 0) return { slots };
  const g = ready[0]!.prepared!.geometry;
  const images = ready.map((s) => ({ data: s.prepared!.data, width: s.decoded!.width, height: s.decoded!.height, geometry: s.prepared!.geometry }));
  return { slots, shape: [g.height, g.width] as const, images };
}

async function infer(host: StreamHost, prepared: Prepared, batch: number, buffers: InputBuffers): Promise<Inferred> {
  const { tensor, images, shape } = prepared;
  if ((!tensor && !images) || !shape) return { ...prepared, buildMs: 0, inferMs: 0 };
  const t0 = performance.now();
  const stacked = prepared.slots.filter((s) => s.prepared).length > 1;
  try {
    const engine = await host.engineFor(shape[0], shape[1], batch);
    const t1 = performance.now();
    const result: ImageRun = images ? await engine.runImages(images, host.device?.candidates) : { outputs: await engine.run({ images: tensor! }) };
    return { ...prepared, engine, result, buildMs: t1 - t0, inferMs: performance.now() - t1 };
  } catch (e) {
    return { ...prepared, error: perImage(e), buildMs: 0, inferMs: performance.now() - t0 };
  } finally {
    // The engine has read the batch (backends copy it or hold it only during the call): reuse it.
    if (stacked && tensor) buffers.give(tensor.data);
  }
}

async function* batches(sources: Iterable<StreamInput> | AsyncIterable<StreamInput>, batch: number): AsyncGenerator<Slot[]> {
  let slots: Slot[] = [];
  let index = 0;
  try {
    for await (const source of sources) {
      slots.push({ source, name: nameOf(source, index++) });
      if (slots.length === batch) {
        yield slots;
        slots = [];
      }
    }
  } catch (e) {
    // The source threw: the images it gave before are not lost.
    if (slots.length > 0) yield slots;
    throw e;
  }
  if (slots.length > 0) yield slots;
}

/**
 * Results in input order. `lookahead` bounds the batches being prepared or run at once (memory:
 * about lookahead × batch decoded images and tensors).
 */
export async function* detectStream<R>(
  host: StreamHost, sources: Iterable<StreamInput> | AsyncIterable<StreamInput>, batch: number, lookahead: number, post: BatchPostprocess<R>,
): AsyncGenerator<StreamItem<R>> {
  const queue: Job[] = [];
  const pending = batches(sources, batch);
  const buffers = new InputBuffers();
  let chain: Promise<unknown> = Promise.resolve();
  let exhausted = false;
  // A source that throws ends the input; the images pulled before it are still finished and given.
  let sourceError: unknown;
  const fill = async (): Promise<void> => {
    while (!exhausted && queue.length < lookahead) {
      let next: IteratorResult<Slot[]>;
      try {
        next = await pending.next();
      } catch (e) {
        sourceError = e;
        exhausted = true;
        break;
      }
      if (next.done) {
        exhausted = true;
        break;
      }
      const prepared = prepare(host, next.value, buffers);
      // Inference is one batch at a time, in order; preparation of later batches runs meanwhile.
      const inferred = chain.then(() => prepared).then((p) => infer(host, p, batch, buffers));
      chain = inferred.catch(() => undefined);
      inferred.catch(() => undefined); // awaited below; this only keeps an abandoned run from being "unhandled"
      queue.push({ inferred });
    }
  };
  try {
    for (;;) {
      await fill();
      const job = queue.shift();
      if (!job) {
        if (sourceError !== undefined) throw sourceError;
        return;
      }
      const done = await job.inferred;
      await fill();
      // Let the next batch's inference start before this batch's NMS takes the main thread.
      await nextMacrotask();
      yield* finish(done, post);
    }
  } finally {
    await pending.return(undefined);
  }
}

function* finish<R>(done: Inferred, post: BatchPostprocess<R>): Generator<StreamItem<R>> {
  const live = done.slots.filter((s) => s.prepared && !s.error);
  let results: R[] = [];
  let nmsMs = 0;
  let error = done.error;
  if (!error && done.result && done.engine) {
    const t0 = performance.now();
    try {
      results = post(done.result, done.engine, live.map((s) => ({ path: s.decoded!.path, width: s.decoded!.width, height: s.decoded!.height, geometry: s.prepared!.geometry })));
    } catch (e) {
      error = perImage(e);
    }
    nmsMs = performance.now() - t0;
  }
  const n = Math.max(live.length, 1);
  let k = 0;
  let first = true;
  for (const slot of done.slots) {
    const failure = slot.error ?? (slot.prepared ? error : undefined);
    if (failure) {
      yield { image: slot.name, error: failure, source: slot.source };
      continue;
    }
    const times: StageTimes = {
      decode: slot.decoded!.ms, letterbox: slot.prepared!.ms, inference: done.inferMs / n, nms: nmsMs / n, build: first ? done.buildMs : 0,
    };
    first = false;
    yield { image: slot.decoded!.path, width: slot.decoded!.width, height: slot.decoded!.height, result: results[k++]!, times, inputShape: done.shape!, source: slot.source };
  }
}
