/**
 * The preprocessing worker thread: decodes images (sharp) and letterboxes them into the network's
 * input layout (vision/letterbox.ts, OpenCV-exact), or hands the decoded bytes over with the decode's
 * reply for a letterbox on the GPU (`handOver`). A decoded image stays here, under its key, until
 * the main thread has chosen its letterbox shape (which can depend on the other images of its
 * batch), so pixels cross threads once, as the finished tensor.
 */
import sharp from 'sharp';
import { ErrorCode, fail } from '../../common/errors.js';
import { serveRequests } from '../../common/worker-pool.js';
import { decodeImage, rgbImage, type RgbImage } from '../image.js';
import { letterbox } from '../letterbox.js';
import { imageToTensor } from '../tensor.js';
import { valLoadResize } from '../val-shapes.js';
import type { DecodeRequest, DecodeReply, LetterboxReply, LetterboxRequest } from './protocol.js';

// Parallelism comes from the worker threads; one libvips thread each keeps the cores unoversubscribed.
sharp.concurrency(1);

const images = new Map<number, RgbImage>();

/** Bytes that can be transferred to the main thread: a view into a larger buffer is copied out first. */
function transferable(data: Uint8Array): Uint8Array {
  const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
  return whole ? data : data.slice();
}

function take(key: number): RgbImage {
  const image = images.get(key);
  if (!image) fail(ErrorCode.Backend, `preprocess worker: no decoded image under key ${key}`);
  images.delete(key);
  return image;
}

serveRequests({
  decode: async (r: DecodeRequest) => {
    const started = performance.now();
    const s = r.source;
    const image = typeof s === 'string' || s instanceof Uint8Array ? await decodeImage(s, r.name === undefined ? {} : { name: r.name }) : rgbImage(s.width, s.height, s.data, s.path);
    const reply = { width: image.width, height: image.height, path: image.path };
    if (r.handOver) {
      const data = transferable(image.data);
      return { value: { ...reply, data, ms: performance.now() - started } satisfies DecodeReply, transfer: [data.buffer as ArrayBuffer] };
    }
    images.set(r.key, image);
    return { value: { ...reply, ms: performance.now() - started } satisfies DecodeReply };
  },
  letterbox: (r: LetterboxRequest) => {
    const started = performance.now();
    const image = take(r.key);
    const loaded = r.valImgsz === undefined ? image : valLoadResize(image, r.valImgsz);
    const boxed = letterbox(loaded, { shape: r.shape, auto: r.auto, ...(r.valImgsz === undefined ? {} : { scaleup: false }) });
    const tensor = imageToTensor(boxed.image, r.dtype);
    const data = tensor.data;
    const value: LetterboxReply = { data, geometry: boxed.geometry, loaded: { width: loaded.width, height: loaded.height }, ms: performance.now() - started };
    return { value, transfer: [data.buffer as ArrayBuffer] };
  },
  drop: (r: { key: number }) => {
    images.delete(r.key);
    return { value: null };
  },
});
