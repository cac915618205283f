/**
 * Images letterboxed on the device (the `cuda` backend: native/src/cuda/image_io.h): the engine
 * takes decoded RGB images and the letterbox geometry computed on the host (vision/letterbox.ts
 * letterboxGeometry), resizes, pads, scales and casts them on the GPU bit for bit as the host
 * letterbox does, runs, and gives back either the raw outputs or, with a candidate query, only the
 * NMS candidates of output0 selected on the GPU (confidence pre-filter, best class, at most maxNms
 * per image by score; native/src/cuda/ops/candidates.cuh). Everything is checked here, before
 * native code sees it.
 */
import { ErrorCode, fail } from '../common/errors.js';
import type { HostTensor } from '../common/host-tensor.js';
import { RGB_CHANNELS } from '../vision/image.js';
import type { CandidateBatch } from '../vision/device-candidates.js';
import type { LetterboxGeometry } from '../vision/letterbox.js';

export type { CandidateBatch } from '../vision/device-candidates.js';

/** A decoded image (RGB, HWC, 8-bit) and where the letterbox puts it in the engine's input. */
export interface DeviceImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly geometry: LetterboxGeometry;
}

/** The candidate pre-filter: best class strictly above conf, at most maxNms per image, classes filtered. */
export interface CandidateQuery {
  readonly conf: number;
  readonly maxNms: number;
  readonly classes?: readonly number[];
}

export type ImageRun = { readonly outputs: Record<string, HostTensor> } | { readonly candidates: CandidateBatch };

/** The most pixels per side an image may have (the addon's limit). */
const MAX_SIDE = 65536;

function positiveInteger(v: number, max: number): boolean {
  return Number.isInteger(v) && v >= 1 && v <= max;
}

/** Checks images against the engine's input [height, width] (ERR_INVALID_ARGUMENT naming the image and field). */
export function checkDeviceImages(images: readonly DeviceImage[], input: readonly [number, number]): void {
  if (images.length === 0) fail(ErrorCode.InvalidArgument, 'runImages: no images');
  const [height, width] = input;
  images.forEach((im, i) => {
    const where = `runImages: image ${i}`;
    if (!(im.data instanceof Uint8Array)) fail(ErrorCode.InvalidArgument, `${where}: data must be a Uint8Array of RGB bytes`);
    if (!positiveInteger(im.width, MAX_SIDE) || !positiveInteger(im.height, MAX_SIDE)) {
      fail(ErrorCode.InvalidArgument, `${where}: width and height must be integers in [1, ${MAX_SIDE}], got ${im.width}x${im.height}`);
    }
    const want = im.width * im.height * RGB_CHANNELS;
    if (im.data.byteLength !== want) fail(ErrorCode.InvalidArgument, `${where}: data has ${im.data.byteLength} bytes; ${im.width}x${im.height} RGB needs ${want}`);
    const g = im.geometry;
    if (g.sourceWidth !== im.width || g.sourceHeight !== im.height) {
      fail(ErrorCode.InvalidArgument, `${where}: the geometry is for a ${g.sourceWidth}x${g.sourceHeight} image, the image is ${im.width}x${im.height}`);
    }
    if (g.width !== width || g.height !== height) {
      fail(ErrorCode.InvalidArgument, `${where}: letterboxed to ${g.width}x${g.height}, the engine's input is ${width}x${height}`);
    }
    const fields = [g.newUnpadWidth, g.newUnpadHeight, g.padLeft, g.padTop, g.padRight, g.padBottom];
    if (!fields.every((v) => Number.isInteger(v) && v >= 0) || g.newUnpadWidth < 1 || g.newUnpadHeight < 1 ||
      g.padLeft + g.newUnpadWidth + g.padRight !== width || g.padTop + g.newUnpadHeight + g.padBottom !== height) {
      fail(ErrorCode.InvalidArgument, `${where}: the geometry (resized ${g.newUnpadWidth}x${g.newUnpadHeight}, padding ${g.padLeft},${g.padTop},${g.padRight},${g.padBottom}) does not fill the ${width}x${height} input`);
    }
  });
}

export function checkCandidateQuery(q: CandidateQuery): void {
  if (!(typeof q.conf === 'number' && q.conf >= 0 && q.conf <= 1)) fail(ErrorCode.InvalidArgument, `runImages: conf must be in [0, 1], got ${String(q.conf)}`);
  if (!(Number.isInteger(q.maxNms) && q.maxNms >= 0 && q.maxNms <= 2 ** 31 - 1)) fail(ErrorCode.InvalidArgument, `runImages: maxNms must be a non-negative integer, got ${String(q.maxNms)}`);
  if (q.classes !== undefined && !(Array.isArray(q.classes) && q.classes.every((c) => Number.isInteger(c) && Math.abs(c) <= 2 ** 31 - 1))) {
    fail(ErrorCode.InvalidArgument, 'runImages: classes must be an array of integer class ids');
  }
}
