/**
 * Model input tensors from letterboxed RGB images, as Ultralytics' predictor.preprocess makes them:
 * HWC uint8 -> CHW, RGB order, `x.float() / 255` (float32) or `x.half() / 255` (float16: the
 * division runs in float32 and the quotient is rounded to half, as PyTorch computes half ops), and
 * several images of one size stacked into [B, 3, H, W]. `uint8` keeps the bytes (CHW) for a network
 * that scales them itself (models/yolov8/input.ts).
 *
 * Values come from a 256-entry table, so the result is exactly what PyTorch computes.
 * Tested in test/vision/preprocess.test.ts (layout, values, fp16, mismatched sizes).
 */
import { BYTES_PER_ELEMENT, floatToHalf } from '../common/dtype.js';
import { ErrorCode, fail } from '../common/errors.js';
import { type HostTensor, hostTensor } from '../common/host-tensor.js';
import { RGB_CHANNELS, type RgbImage } from './image.js';

export type InputDType = 'float32' | 'float16' | 'uint8';

/** byte -> float32(byte / 255). */
const FLOAT32_TABLE = Float32Array.from({ length: 256 }, (_, i) => Math.fround(i / 255));
/** byte -> float16 bits of float32(byte / 255). */
const FLOAT16_TABLE = Uint16Array.from(FLOAT32_TABLE, (v) => floatToHalf(v));
/** byte -> byte. */
const UINT8_TABLE = Uint8Array.from({ length: 256 }, (_, i) => i);

/** Writes one image as CHW planes into `out` at element offset `offset`, through `table`. */
type Table = Float32Array | Uint16Array | Uint8Array;

function writeChw(image: RgbImage, table: Table, out: Table, offset: number): void {
  const plane = image.width * image.height;
  const src = image.data;
  for (let c = 0; c < RGB_CHANNELS; c++) {
    const base = offset + c * plane;
    for (let i = 0, s = c; i < plane; i++, s += RGB_CHANNELS) out[base + i] = table[src[s]!]!;
  }
}

/**
 * Stacks images of equal size into one [B, 3, H, W] tensor, scaled to [0, 1] (or as bytes). Throws
 * ERR_INVALID_ARGUMENT (naming the image) for an empty list or an image of another size.
 */
export function imagesToTensor(images: readonly RgbImage[], dtype: InputDType = 'float32'): HostTensor {
  const first = images[0];
  if (first === undefined) fail(ErrorCode.InvalidArgument, 'imagesToTensor: no images');
  images.forEach((im, i) => {
    if (im.width !== first.width || im.height !== first.height) {
      fail(ErrorCode.InvalidArgument,
        `imagesToTensor: image ${i} (${im.path}) is ${im.width}x${im.height}, image 0 (${first.path}) is ${first.width}x${first.height}; a batch needs one size`);
    }
  });
  const perImage = RGB_CHANNELS * first.width * first.height;
  const count = perImage * images.length;
  const bytes = new Uint8Array(count * BYTES_PER_ELEMENT[dtype]);
  const out = dtype === 'float32' ? new Float32Array(bytes.buffer) : dtype === 'float16' ? new Uint16Array(bytes.buffer) : bytes;
  const table = dtype === 'float32' ? FLOAT32_TABLE : dtype === 'float16' ? FLOAT16_TABLE : UINT8_TABLE;
  images.forEach((im, b) => writeChw(im, table, out, b * perImage));
  return hostTensor(dtype, [images.length, RGB_CHANNELS, first.height, first.width], bytes);
}

/** One image as a [1, 3, H, W] tensor. */
export function imageToTensor(image: RgbImage, dtype: InputDType = 'float32'): HostTensor {
  return imagesToTensor([image], dtype);
}
