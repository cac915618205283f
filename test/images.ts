import sharp from 'sharp';
import { fromFloat32, type HostTensor } from '../common/host-tensor.js';
import { seededRandom } from '../common/random.js';

/** Fills the letterbox border, as Ultralytics does. */
const PAD_GREY = 114;

export interface Letterboxed {
  readonly tensor: HostTensor;
  readonly scale: number;
  readonly padX: number;
  readonly padY: number;
}

/**
 * A fixed letterbox for tests that compare two models on the same tensor (not Ultralytics'
 * exact preprocessing, which the vision module implements): fit inside size x size keeping the
 * aspect ratio, centre, pad grey, RGB, CHW, /255, float32, batch 1.
 */
export async function letterbox(path: string, size = 640): Promise<Letterboxed> {
  const meta = await sharp(path).metadata();
  const scale = Math.min(size / meta.width!, size / meta.height!);
  const w = Math.round(meta.width! * scale);
  const h = Math.round(meta.height! * scale);
  const padX = Math.floor((size - w) / 2);
  const padY = Math.floor((size - h) / 2);
  const rgb = await sharp(path).removeAlpha().resize(w, h, { kernel: 'linear' })
    .extend({ top: padY, bottom: size - h - padY, left: padX, right: size - w - padX, background: { r: PAD_GREY, g: PAD_GREY, b: PAD_GREY } })
    .raw().toBuffer();
  const plane = size * size;
  const chw = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) chw[c * plane + i] = rgb[i * 3 + c]! / 255;
  return { tensor: fromFloat32(chw, [1, 3, size, size]), scale, padX, padY };
}

/** Uniform random values in [0, 1) from a seed, as a [1, 3, size, size] float32 tensor. */
export function randomImage(seed: number, size = 640): HostTensor {
  const next = seededRandom(seed);
  const values = Float32Array.from({ length: 3 * size * size }, next);
  return fromFloat32(values, [1, 3, size, size]);
}

/** Stacks batch-1 tensors into one batch. */
export function stack(tensors: readonly HostTensor[]): HostTensor {
  const [, ...rest] = tensors[0]!.shape;
  const data = new Uint8Array(tensors.reduce((a, t) => a + t.data.byteLength, 0));
  let offset = 0;
  for (const t of tensors) { data.set(t.data, offset); offset += t.data.byteLength; }
  return { dtype: tensors[0]!.dtype, shape: [tensors.length, ...rest], data };
}
