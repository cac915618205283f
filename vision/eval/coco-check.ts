/**
 * Argument checks for evaluateCoco: ground truth and detections must be well formed and refer to
 * known images and categories. pycocotools asserts only that result images exist (`loadRes`) and
 * silently drops detections of unknown categories; here an unknown category is an error too, since
 * it means a class-to-category mapping went wrong. Errors are NetdefError(ERR_INVALID_ARGUMENT)
 * naming the entry (`detections[12].bbox`). Tested in test/vision/eval.test.ts.
 */
import { ErrorCode, fail } from '../../common/errors.js';
import type { CocoBox, CocoDetection, CocoGroundTruth } from './coco-types.js';

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function checkBox(box: unknown, where: string): asserts box is CocoBox {
  if (!Array.isArray(box) || box.length !== 4 || !box.every(isFiniteNumber)) {
    fail(ErrorCode.InvalidArgument, `${where}.bbox must be [x, y, w, h] (four finite numbers), got ${JSON.stringify(box)}`);
  }
  if ((box[2] as number) < 0 || (box[3] as number) < 0) {
    fail(ErrorCode.InvalidArgument, `${where}.bbox has a negative width or height: ${JSON.stringify(box)}`);
  }
}

function uniqueIds(items: readonly { id: unknown }[], what: string): Set<number> {
  const ids = new Set<number>();
  items.forEach((item, i) => {
    if (!isFiniteNumber(item.id)) fail(ErrorCode.InvalidArgument, `${what}[${i}].id must be a number, got ${JSON.stringify(item.id)}`);
    if (ids.has(item.id)) fail(ErrorCode.InvalidArgument, `${what}[${i}].id ${item.id} appears twice`);
    ids.add(item.id);
  });
  return ids;
}

export interface KnownIds {
  readonly images: Set<number>;
  readonly categories: Set<number>;
}

function checkRefs(item: { image_id: unknown; category_id: unknown }, known: KnownIds, where: string): void {
  if (!isFiniteNumber(item.image_id) || !known.images.has(item.image_id)) {
    fail(ErrorCode.InvalidArgument, `${where}.image_id ${JSON.stringify(item.image_id)} is not an image of the ground truth`);
  }
  if (!isFiniteNumber(item.category_id) || !known.categories.has(item.category_id)) {
    fail(ErrorCode.InvalidArgument, `${where}.category_id ${JSON.stringify(item.category_id)} is not a category of the ground truth`);
  }
}

/** Checks the ground truth and returns its image and category ids. */
export function checkGroundTruth(gt: CocoGroundTruth): KnownIds {
  if (!Array.isArray(gt.images) || !Array.isArray(gt.annotations) || !Array.isArray(gt.categories)) {
    fail(ErrorCode.InvalidArgument, 'ground truth must have images, annotations and categories arrays');
  }
  const known = { images: uniqueIds(gt.images, 'images'), categories: uniqueIds(gt.categories, 'categories') };
  gt.annotations.forEach((a, i) => {
    const where = `annotations[${i}]`;
    checkRefs(a, known, where);
    checkBox(a.bbox, where);
    if (!isFiniteNumber(a.area) || a.area < 0) fail(ErrorCode.InvalidArgument, `${where}.area must be a number >= 0, got ${JSON.stringify(a.area)}`);
    if (a.iscrowd !== 0 && a.iscrowd !== 1) fail(ErrorCode.InvalidArgument, `${where}.iscrowd must be 0 or 1, got ${JSON.stringify(a.iscrowd)}`);
  });
  return known;
}

export function checkDetections(detections: readonly CocoDetection[], known: KnownIds): void {
  if (!Array.isArray(detections)) fail(ErrorCode.InvalidArgument, 'detections must be an array');
  detections.forEach((d, i) => {
    const where = `detections[${i}]`;
    checkRefs(d, known, where);
    checkBox(d.bbox, where);
    if (!isFiniteNumber(d.score)) fail(ErrorCode.InvalidArgument, `${where}.score must be a finite number, got ${JSON.stringify(d.score)}`);
  });
}
