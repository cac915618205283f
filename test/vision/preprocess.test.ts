/**
 * Preprocessing as Ultralytics 8.0.232 does it: decoding (orientation, alpha, grey, bad inputs),
 * OpenCV INTER_LINEAR resizing and LetterBox bit for bit against cv2 4.6 through the fixture in
 * test/fixtures/letterbox/ (made by scripts/fixtures/, which explains how), Python's rounding,
 * validation shapes and the input tensor.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { halfToFloat } from '../../common/dtype.js';
import { ErrorCode } from '../../common/errors.js';
import { toFloat32 } from '../../common/host-tensor.js';
import { type FixtureCase, type FixtureImage, digest, fixtureImages, syntheticImage } from '../../scripts/fixtures/letterbox-cases.js';
import { type RgbImage, decodeImage, rgbImage } from '../../vision/image.js';
import { letterbox, letterboxGeometry, padConstant } from '../../vision/letterbox.js';
import { resizeLinear, resizeLinearU8, roundHalfEven } from '../../vision/resize-linear.js';
import { imageToTensor, imagesToTensor } from '../../vision/tensor.js';
import { rectBatches, valLetterbox, valLoadSize } from '../../vision/val-shapes.js';
import { REPO_ROOT, dataPath } from '../data.js';

interface FixtureEntry { readonly sha256: string; readonly bands: readonly string[]; readonly samples: string }
type ExpectedCase = FixtureCase & FixtureEntry & { width: number; height: number; geometry: Record<string, number> };
interface Fixture {
  readonly decode: readonly { image: string; sha256: string; imread: { equal: boolean } }[];
  readonly cases: readonly ExpectedCase[];
}

const fixture = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'letterbox', 'letterbox.json'), 'utf8')) as Fixture;
const images = new Map(fixtureImages().map((im) => [im.name, im]));
const decoded = new Map<string, Promise<RgbImage>>();
const tmp = mkdtempSync(join(tmpdir(), 'netdef-preprocess-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function load(name: string): Promise<RgbImage> {
  const spec: FixtureImage | undefined = images.get(name);
  if (!spec) throw new Error(`fixture image ${name} is not among the fixture's inputs`);
  if (!decoded.has(name)) decoded.set(name, spec.kind === 'file' ? decodeImage(spec.path) : Promise.resolve(syntheticImage(spec)));
  return decoded.get(name)!;
}

function runCase(c: ExpectedCase, image: RgbImage): { out: RgbImage; geometry: Record<string, number> } {
  if (c.op === 'resize') return { out: resizeLinear(image, c.width, c.height), geometry: {} };
  if (c.op === 'letterbox') {
    const { image: out, geometry } = letterbox(image, { shape: c.shape, auto: c.auto, scaleup: c.scaleup });
    return { out, geometry: { ...geometry } };
  }
  const { image: out, geometry } = valLetterbox(image, c.imgsz);
  return { out, geometry: { ...geometry, loadedWidth: geometry.sourceWidth, loadedHeight: geometry.sourceHeight } };
}

/** Where a digest differs from the fixture: differing bands and sampled pixels. */
function describeMismatch(c: ExpectedCase, out: RgbImage): string {
  const got = digest(out);
  const bands = got.bands.flatMap((b, i) => (b === c.bands[i] ? [] : [i]));
  const samples = [];
  for (let k = 0; k < got.samples.length; k += 6) {
    if (got.samples.slice(k, k + 6) !== c.samples.slice(k, k + 6)) samples.push(`#${k / 6}: ${got.samples.slice(k, k + 6)} != ${c.samples.slice(k, k + 6)}`);
  }
  return `${c.id}: bands differing ${JSON.stringify(bands)}; samples ${samples.slice(0, 8).join(', ')}`;
}

describe('letterbox and resize against cv2 4.6 (fixture)', () => {
  it('covers bus, zidane, 20 coco128 images in square, rect and val modes, and synthetic resizes', () => {
    const ids = new Set(fixture.cases.map((c) => c.id));
    for (const name of ['bus.jpg', 'zidane.jpg']) for (const m of ['square640', 'rect640', 'val640']) expect(ids.has(`${name}/${m}`)).toBe(true);
    expect(fixture.decode.length).toBe(22);
    expect(fixture.cases.filter((c) => c.op === 'resize').length).toBeGreaterThanOrEqual(10);
  });

  it('decodes every fixture image to the pixels the fixture was made from', async () => {
    for (const d of fixture.decode) {
      const image = await load(d.image);
      expect(digest(image).sha256, `${d.image}: decoded pixels changed (sharp/libvips upgrade?)`).toBe(d.sha256);
    }
  });

  it.each(fixture.cases.map((c) => [c.id, c] as const))('%s is bit-exact', async (_id, c) => {
    const { out, geometry } = runCase(c, await load(c.image));
    expect([out.width, out.height]).toEqual([c.width, c.height]);
    for (const [key, value] of Object.entries(c.geometry)) expect(geometry[key], `${c.id}: ${key}`).toBe(value);
    const sha = digest(out).sha256;
    if (sha !== c.sha256) expect.fail(describeMismatch(c, out));
  });
});

describe('rounding and geometry', () => {
  it('rounds half to even, as Python round() and cvRound do', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 0.49999999999999994, 3.4, 3.6].map(roundHalfEven)).toEqual([0, 2, 2, 0, -2, 0, 3, 4]);
  });

  it('matches Ultralytics where round() meets a tie or the pads split unevenly (values from Python)', () => {
    const g = (w: number, h: number, shape: number, auto: boolean, scaleup = true) => {
      const r = letterboxGeometry(w, h, { shape, auto, scaleup });
      return [r.newUnpadWidth, r.newUnpadHeight, r.padLeft, r.padRight, r.padTop, r.padBottom, r.width, r.height];
    };
    expect(g(1025, 2048, 1024, false)).toEqual([512, 1024, 256, 256, 0, 0, 1024, 1024]); // 512.5 -> 512
    expect(g(1027, 2048, 1024, false)).toEqual([514, 1024, 255, 255, 0, 0, 1024, 1024]); // 513.5 -> 514
    expect(g(2048, 1025, 1024, true)).toEqual([1024, 512, 0, 0, 0, 0, 1024, 512]);
    expect(g(1280, 720, 640, true)).toEqual([640, 360, 0, 0, 12, 12, 640, 384]);
    expect(g(810, 1080, 640, true)).toEqual([480, 640, 0, 0, 0, 0, 480, 640]);
    expect(g(100, 75, 640, false, false)).toEqual([100, 75, 270, 270, 282, 283, 640, 640]);
    expect(g(1000, 999, 640, true)).toEqual([640, 639, 0, 0, 0, 1, 640, 640]);
  });

  it('takes [height, width] shapes and rejects bad ones', () => {
    const r = letterboxGeometry(600, 375, { shape: [640, 480] });
    expect([r.width, r.height, r.newUnpadWidth, r.newUnpadHeight, r.padTop]).toEqual([480, 640, 480, 300, 170]);
    expect(() => letterboxGeometry(600, 375, { shape: 0 })).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
    expect(() => letterboxGeometry(600, 375, { shape: 640, stride: 0 })).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
    expect(() => resizeLinearU8(new Uint8Array(5), 2, 1, 3, 4, 4)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
  });

  it('pads with 114 around an unchanged copy', () => {
    const image = rgbImage(1, 1, Uint8Array.of(1, 2, 3));
    const out = padConstant(image, 1, 0, 0, 1);
    expect([out.width, out.height]).toEqual([2, 2]);
    expect([...out.data]).toEqual([114, 114, 114, 114, 114, 114, 1, 2, 3, 114, 114, 114]);
  });

  it('computes validation load sizes (ceil) and rect batch shapes as Ultralytics does', () => {
    expect(valLoadSize(810, 1080, 640)).toEqual({ width: 480, height: 640 });
    expect(valLoadSize(333, 777, 640)).toEqual({ width: 275, height: 640 });
    expect(valLoadSize(100, 75, 640)).toEqual({ width: 640, height: 480 });
    expect(valLoadSize(1001, 999, 640)).toEqual({ width: 640, height: 639 });
    const rb = rectBatches([[480, 640], [640, 480], [427, 640], [640, 640]], 2, 640);
    expect(rb.order).toEqual([2, 0, 3, 1]);
    expect(rb.batchShapes).toEqual([[512, 672], [672, 672]]);
    expect(rb.batchOf).toEqual([0, 0, 1, 1]);
  });
});

describe('decoding', () => {
  it('applies EXIF orientation (6: rotate 90 degrees clockwise)', async () => {
    const raw = new Uint8Array(40 * 20 * 3);
    for (let i = 0; i < 40 * 20; i++) raw.set((i % 40) < 20 ? [250, 0, 0] : [0, 0, 250], i * 3);
    const path = join(tmp, 'rotated.jpg');
    await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(path);
    const image = await decodeImage(path);
    expect([image.width, image.height]).toEqual([20, 40]);
    const at = (x: number, y: number) => [...image.data.subarray((y * 20 + x) * 3, (y * 20 + x) * 3 + 3)];
    expect(at(10, 5)[0]).toBeGreaterThan(200); // the left (red) half is now on top
    expect(at(10, 34)[2]).toBeGreaterThan(200); // the right (blue) half at the bottom
  });

  it('drops alpha without compositing, and expands grey to three channels', async () => {
    const rgba = Uint8Array.of(10, 20, 30, 0, 40, 50, 60, 128, 70, 80, 90, 255);
    const png = await sharp(rgba, { raw: { width: 3, height: 1, channels: 4 } }).png().toBuffer();
    const image = await decodeImage(png, { name: 'alpha.png' });
    expect([...image.data]).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(image.path).toBe('alpha.png');
    const grey = await sharp(Uint8Array.of(7, 200), { raw: { width: 2, height: 1, channels: 1 } }).png().toBuffer();
    expect([...(await decodeImage(grey)).data]).toEqual([7, 7, 7, 200, 200, 200]);
  });

  it('rejects a file that is not an image, naming it', async () => {
    const path = join(tmp, 'not-an-image.jpg');
    writeFileSync(path, 'hello, not pixels');
    await expect(decodeImage(path)).rejects.toMatchObject({ code: ErrorCode.ImageDecode, message: expect.stringContaining(path) });
    await expect(decodeImage(new TextEncoder().encode('nope'), { name: 'upload-1' }))
      .rejects.toMatchObject({ code: ErrorCode.ImageDecode, message: expect.stringContaining('upload-1') });
  });

  it('rejects a truncated JPEG, naming it', async () => {
    const bytes = readFileSync(dataPath('images', 'bus.jpg'));
    const path = join(tmp, 'truncated.jpg');
    writeFileSync(path, bytes.subarray(0, bytes.length >> 1));
    await expect(decodeImage(path)).rejects.toMatchObject({ code: ErrorCode.ImageDecode, message: expect.stringContaining(path) });
  });

  it('rejects a missing file or a folder as ERR_FILE_NOT_FOUND, naming it', async () => {
    const path = join(tmp, 'missing.jpg');
    await expect(decodeImage(path)).rejects.toMatchObject({ code: ErrorCode.FileNotFound, message: expect.stringContaining(path) });
    await expect(decodeImage(tmp)).rejects.toMatchObject({ code: ErrorCode.FileNotFound, message: expect.stringContaining(tmp) });
  });
});

describe('input tensor', () => {
  const a = rgbImage(2, 1, Uint8Array.of(0, 1, 2, 255, 128, 51), 'a');
  const b = rgbImage(2, 1, Uint8Array.of(3, 4, 5, 6, 7, 8), 'b');

  it('lays out RGB as CHW planes scaled by 1/255 in float32', () => {
    const t = imageToTensor(a);
    expect(t.shape).toEqual([1, 3, 1, 2]);
    expect([...toFloat32(t)]).toEqual([0, 255, 1, 128, 2, 51].map((v) => Math.fround(v / 255)));
  });

  it('keeps the bytes, in CHW planes, for a uint8 input', () => {
    const t = imagesToTensor([a, b], 'uint8');
    expect(t.shape).toEqual([2, 3, 1, 2]);
    expect(t.dtype).toBe('uint8');
    expect([...t.data]).toEqual([0, 255, 1, 128, 2, 51, 3, 6, 4, 7, 5, 8]);
  });

  it('stacks a batch, and makes float16 as PyTorch (x.half() / 255) does', () => {
    const t = imagesToTensor([a, b], 'float16');
    expect(t.shape).toEqual([2, 3, 1, 2]);
    const half = new Uint16Array(t.data.buffer, t.data.byteOffset, 12);
    const bytes = [0, 255, 1, 128, 2, 51, 3, 6, 4, 7, 5, 8];
    bytes.forEach((v, i) => {
      const h = halfToFloat(half[i]!);
      expect(Math.abs(h - v / 255), `element ${i}`).toBeLessThanOrEqual(2 ** -11 * (v / 255)); // within half an fp16 ulp
    });
    expect(halfToFloat(half[1]!)).toBe(1);
  });

  it('refuses an empty batch or images of different sizes, naming them', () => {
    expect(() => imagesToTensor([])).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
    const c = rgbImage(1, 2, new Uint8Array(6), 'c.jpg');
    expect(() => imagesToTensor([a, c])).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument, message: expect.stringContaining('c.jpg') }));
  });
});
