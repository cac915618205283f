/**
 * Ground truth from YOLO-format labels: one `<stem>.txt` per image, found by Ultralytics'
 * img2label_paths (data-layout.ts). Image ids are the
 * file stems where all of them are distinct integers (COCO's 000000000009.jpg -> 9, as Ultralytics'
 * COCO json export does), 1..N in file name order otherwise. Boxes are denormalised with each image's
 * size; an annotation's area is its box area in pixels, iscrowd is 0, and ids run from 1. Images
 * without a label file have no objects; label files without an image are not read. Tested in
 * test/vision/eval-dataset.test.ts.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'node:path';
import { ErrorCode, NetdefError } from '../../common/errors.js';
import type { CocoAnnotation, CocoGroundTruth } from './coco-types.js';
import type { EvalImage } from './dataset.js';
import { labelToBox, parseYoloLabels } from './yolo-labels.js';

export type ImageSizeFn = (path: string) => Promise<{ readonly width: number; readonly height: number }>;

/** Image headers read at once when sizes come from sharp. */
const SIZE_CONCURRENCY = 16;

async function sharpSize(path: string): Promise<{ width: number; height: number }> {
  const { default: sharp } = await import('sharp');
  try {
    const meta = await sharp(path).metadata();
    return { width: meta.autoOrient.width, height: meta.autoOrient.height };
  } catch (e) {
    throw new NetdefError(ErrorCode.Dataset, `cannot read the size of image ${path}: ${(e as Error).message}`, { cause: e });
  }
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function imageIds(stems: readonly string[]): number[] {
  const numeric = stems.map((s) => (/^\d+$/.test(s) ? Number(s) : NaN));
  const usable = numeric.every((n) => Number.isSafeInteger(n)) && new Set(numeric).size === numeric.length;
  return usable ? numeric : stems.map((_, i) => i + 1);
}

/** The label file's text, or '' when the image has none (no objects). */
async function readLabels(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new NetdefError(ErrorCode.FileNotFound, `cannot read label file ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** Ground truth for `files` (image paths, sorted), each image's labels at `labelOf(path)`. */
export async function loadYoloGroundTruth(files: readonly string[], labelOf: (image: string) => string, names: readonly string[], imageSize: ImageSizeFn = sharpSize): Promise<{ images: EvalImage[]; groundTruth: CocoGroundTruth }> {
  const stems = files.map((f) => parse(f).name);
  const ids = imageIds(stems);
  const sizes = await mapLimit(files, SIZE_CONCURRENCY, (f) => imageSize(f));
  const images = files.map((f, i) => ({ id: ids[i]!, path: f, width: sizes[i]!.width, height: sizes[i]!.height }));
  const annotations: CocoAnnotation[] = [];
  for (const image of images) {
    const file = labelOf(image.path);
    for (const label of parseYoloLabels(await readLabels(file), file, names.length)) {
      const bbox = labelToBox(label, image.width, image.height);
      annotations.push({ id: annotations.length + 1, image_id: image.id, category_id: label.classIndex, bbox, area: bbox[2] * bbox[3], iscrowd: 0 });
    }
  }
  images.sort((a, b) => a.id - b.id);
  const groundTruth = {
    images: images.map(({ id, width, height }) => ({ id, width, height })),
    annotations,
    categories: names.map((name, id) => ({ id, name })),
  };
  return { images, groundTruth };
}
