/**
 * Reads a COCO instances JSON (`instances_val2017.json` and the like) into the ground truth
 * evaluateCoco takes, plus each image's file name. Checks that it is COCO: `images` (id, file_name,
 * width, height), `annotations` (id, image_id, category_id, bbox, area, iscrowd) and `categories`
 * (id, name), with references that resolve. Errors are NetdefError(ERR_DATASET) naming the file
 * and the entry (`annotations[12].bbox`). Tested in test/vision/eval-dataset.test.ts.
 *
 * Memory: the file is held once as bytes (at most the cocoJsonBytes limit, 1 GiB by default) and
 * parsed by common/json-parse.ts without recursion, dropping every `segmentation` value unbuilt
 * (polygons and RLE are most of an instances file and bbox evaluation never reads them); only the
 * fields evaluation reads are kept. For val2017 (450 MB, 36,781 annotations) the peak is the
 * file's bytes plus a few MB of objects, well within 2 GiB. Counts are limited (cocoImages,
 * cocoAnnotations) and nesting by jsonDepth.
 */
import { ErrorCode, fail, NetdefError } from '../../common/errors.js';
import { parseJson } from '../../common/json-parse.js';
import { checkLimit, readFileWithin } from '../../common/limits.js';
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

/** Keys of an instances file never built in memory (see the header). */
const SKIPPED_KEYS: ReadonlySet<string> = new Set(['segmentation']);

function arrayOfObjects(json: Record<string, unknown>, key: string, file: string): Record<string, unknown>[] {
  const value = Object.hasOwn(json, key) ? json[key] : undefined;
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
  checkLimit('cocoImages', images.length, ErrorCode.Dataset, file, 'the number of images');
  const annotations = arrayOfObjects(json, 'annotations', file) as unknown as CocoAnnotation[];
  checkLimit('cocoAnnotations', annotations.length, ErrorCode.Dataset, file, 'the number of annotations');
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

/** Reads and checks a COCO annotations file (bounded: see the header). */
export async function readCocoJson(file: string): Promise<CocoJson> {
  return cocoJsonFromBytes(await readFileWithin(file, 'COCO annotations', 'cocoJsonBytes', ErrorCode.Dataset), file);
}

/** `readCocoJson` for the file's bytes (`file` names it in errors). */
export function cocoJsonFromBytes(bytes: Uint8Array, file: string): CocoJson {
  return parseCocoJson(parseJson(bytes, { code: ErrorCode.Dataset, where: file, skipKeys: SKIPPED_KEYS }), file);
}
