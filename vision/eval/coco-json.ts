/**
 * Reads a COCO instances JSON (`instances_val2017.json` and the like) into the ground truth
 * evaluateCoco takes, plus each image's file name. Checks that it is COCO: `images` (id, file_name,
 * width, height), `annotations` (id, image_id, category_id, bbox, area, iscrowd) and `categories`
 * (id, name), with references that resolve. Errors are NetdefError(ERR_DATASET) naming the file
 * and the entry (`annotations[12].bbox`). Tested in test/vision/eval-dataset.test.ts.
 */
import { readFile } from 'node:fs/promises';
import { ErrorCode, fail, NetdefError } from '../../common/errors.js';
import { checkGroundTruth } from './coco-check.js';
import type { CocoAnnotation, CocoCategory, CocoGroundTruth } from './coco-types.js';

export interface CocoJsonImage {
  readonly id: number;
  readonly file_name: string;
  readonly width: number;
  readonly height: number;
}

export interface CocoJson {
  readonly groundTruth: CocoGroundTruth;
  readonly images: readonly CocoJsonImage[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPositive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

function arrayOfObjects(json: Record<string, unknown>, key: string, file: string): Record<string, unknown>[] {
  const value = json[key];
  if (!Array.isArray(value)) fail(ErrorCode.Dataset, `${file}: not a COCO annotations file (no '${key}' array)`);
  const bad = value.findIndex((v) => !isObject(v));
  if (bad >= 0) fail(ErrorCode.Dataset, `${file}: ${key}[${bad}] is not an object`);
  return value as Record<string, unknown>[];
}

function checkImages(images: Record<string, unknown>[], file: string): CocoJsonImage[] {
  images.forEach((im, i) => {
    if (typeof im.file_name !== 'string' || im.file_name.length === 0) fail(ErrorCode.Dataset, `${file}: images[${i}].file_name must be a non-empty string`);
    if (!isPositive(im.width) || !isPositive(im.height)) fail(ErrorCode.Dataset, `${file}: images[${i}] must have a positive width and height`);
  });
  return images as unknown as CocoJsonImage[];
}

/** Checks a parsed JSON value; `file` names it in errors. */
export function parseCocoJson(json: unknown, file: string): CocoJson {
  if (!isObject(json)) fail(ErrorCode.Dataset, `${file}: not a COCO annotations file (not a JSON object)`);
  const images = checkImages(arrayOfObjects(json, 'images', file), file);
  const annotations = arrayOfObjects(json, 'annotations', file) as unknown as CocoAnnotation[];
  const categories = arrayOfObjects(json, 'categories', file) as unknown as CocoCategory[];
  categories.forEach((c, i) => {
    if (typeof c.name !== 'string') fail(ErrorCode.Dataset, `${file}: categories[${i}].name must be a string`);
  });
  const groundTruth: CocoGroundTruth = { images, annotations, categories };
  try {
    checkGroundTruth(groundTruth);
  } catch (e) {
    if (e instanceof NetdefError) fail(ErrorCode.Dataset, `${file}: ${e.message}`);
    throw e;
  }
  return { groundTruth: slim(groundTruth), images };
}

/** Only the fields evaluation reads (segmentations and COCO's other fields are dropped). */
function slim(gt: CocoGroundTruth): CocoGroundTruth {
  return {
    images: gt.images.map(({ id, width, height }) => ({ id, width, height })),
    annotations: gt.annotations.map(({ id, image_id, category_id, bbox, area, iscrowd }) => ({ id, image_id, category_id, bbox, area, iscrowd })),
    categories: gt.categories.map(({ id, name }) => ({ id, name })),
  };
}

/** Reads and checks a COCO annotations file. */
export async function readCocoJson(file: string): Promise<CocoJson> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new NetdefError(ErrorCode.FileNotFound, `cannot read COCO annotations ${file}: ${(e as Error).message}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new NetdefError(ErrorCode.Dataset, `${file}: not JSON (${(e as Error).message})`, { cause: e });
  }
  return parseCocoJson(json, file);
}
