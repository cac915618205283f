/**
 * Loads an evaluation dataset (a folder in one of the layouts of data-layout.ts, or a data.yaml)
 * with either YOLO labels (`labels/<stem>.txt`, the default when present, as Ultralytics val reads
 * them) or COCO annotations (`annotations/*.json`, or a path given), as COCO-shaped
 * ground truth for evaluateCoco, with the mapping between a model's class index and the dataset's
 * category id. COCO: class i is the i-th category in ascending id order (how Ultralytics'
 * coco80_to_coco91 maps the 80 classes onto COCO's 91 ids); given class names must equal the
 * categories' names in that order. YOLO: category id = class index, areas are box areas in pixels,
 * nothing is crowd, and an image without a label file has no objects. Errors are NetdefError
 * (ERR_DATASET, ERR_FILE_NOT_FOUND, ERR_INVALID_ARGUMENT) naming the folder, file or line.
 * Tested on coco128 (both formats) and malformed copies in test/vision/eval-dataset.test.ts.
 */
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ErrorCode, fail } from '../../common/errors.js';
import { readCocoJson } from './coco-json.js';
import type { CocoGroundTruth } from './coco-types.js';
import { type DataLayout, labelPathOf, resolveDataLayout } from './data-layout.js';
import { loadYoloGroundTruth, type ImageSizeFn } from './yolo-dataset.js';

export type { ImageSizeFn } from './yolo-dataset.js';

export interface EvalImage {
  readonly id: number;
  readonly path: string;
  readonly width: number;
  readonly height: number;
}

export interface EvalDataset {
  readonly format: 'coco' | 'yolo';
  readonly root: string;
  /** The annotations file (COCO) or the labels folder (YOLO). */
  readonly source: string;
  /** In ascending id order. */
  readonly images: readonly EvalImage[];
  readonly groundTruth: CocoGroundTruth;
  /** Class names by class index. */
  readonly classNames: readonly string[];
  /** The split evaluated, for split folders and data.yaml files. */
  readonly split?: string;
  /** The category id of a class index; throws ERR_INVALID_ARGUMENT outside [0, classes). */
  categoryIdOfClass(classIndex: number): number;
  /** The class index of a category id; throws ERR_INVALID_ARGUMENT for an unknown id. */
  classOfCategoryId(categoryId: number): number;
}

export interface LoadDatasetOptions {
  /** Default: YOLO labels when the split has them (as Ultralytics val), else the COCO JSON found. */
  readonly format?: 'coco' | 'yolo';
  /** Which split of a split folder or data.yaml (default: val, or the only one). */
  readonly split?: string;
  /** A COCO annotations file (relative paths from the working directory). */
  readonly annotations?: string;
  /** Class names by index: required for YOLO; for COCO, checked against the categories. */
  readonly names?: readonly string[];
  /** YOLO only: image size in pixels; default sharp's metadata with EXIF orientation applied. */
  readonly imageSize?: ImageSizeFn;
}

type Source = { readonly format: 'coco'; readonly file: string } | { readonly format: 'yolo'; readonly dir: string };

/** YOLO labels when the split has them (what Ultralytics val reads), else the COCO JSON; or what was asked for. */
function chooseSource(layout: DataLayout, options: LoadDatasetOptions): Source {
  const where = layout.split ? `${layout.root} (${layout.split})` : layout.root;
  if (options.annotations !== undefined) return { format: 'coco', file: resolve(options.annotations) };
  const json = (): Source => {
    const files = layout.annotations;
    if (files.length > 1) fail(ErrorCode.Dataset, `${where}: several annotation files (${files.join(', ')}); name one with the annotations option`);
    if (files[0] === undefined) fail(ErrorCode.Dataset, `${where}: no annotations/*.json (COCO format was asked for)`);
    return { format: 'coco', file: files[0] };
  };
  if (options.format === 'coco') return json();
  // YOLO labels need class names; without them (no model, no data.yaml) the COCO JSON is the ground truth that names itself.
  const canYolo = layout.labelsDir !== undefined && (options.names !== undefined || layout.names !== undefined || layout.annotations.length === 0);
  if (canYolo) return { format: 'yolo', dir: layout.labelsDir! };
  if (options.format !== 'yolo' && layout.annotations.length > 0) return json();
  fail(ErrorCode.Dataset, `${where}: no labels/ folder${options.format === 'yolo' ? '' : ' and no annotations/*.json'}; there is no ground truth to evaluate against`);
}

function classMapping(categoryIds: readonly number[]): Pick<EvalDataset, 'categoryIdOfClass' | 'classOfCategoryId'> {
  const classOf = new Map(categoryIds.map((id, i) => [id, i]));
  return {
    categoryIdOfClass(classIndex: number): number {
      const id = categoryIds[classIndex];
      if (!Number.isInteger(classIndex) || id === undefined) fail(ErrorCode.InvalidArgument, `class ${classIndex} is not in [0, ${categoryIds.length - 1}]`);
      return id;
    },
    classOfCategoryId(categoryId: number): number {
      const index = classOf.get(categoryId);
      if (index === undefined) fail(ErrorCode.InvalidArgument, `category id ${categoryId} is not a category of the dataset`);
      return index;
    },
  };
}

function checkNames(names: readonly string[], categoryNames: readonly string[], file: string): void {
  const differ = categoryNames.flatMap((name, i) => (names[i] === name ? [] : [`class ${i}: '${names[i]}' vs category '${name}'`]));
  if (names.length !== categoryNames.length || differ.length > 0) {
    fail(ErrorCode.Dataset, `${file}: the ${categoryNames.length} categories (ascending id) do not match the ${names.length} class names: ${differ.slice(0, 5).join('; ')}`);
  }
}

async function loadCoco(root: string, imagesDir: string, file: string, names: readonly string[] | undefined): Promise<EvalDataset> {
  const { groundTruth, images } = await readCocoJson(file);
  const present = new Set(await readdir(imagesDir));
  const missing = images.find((im) => !present.has(im.file_name));
  if (missing) fail(ErrorCode.Dataset, `${file}: image ${missing.id} '${missing.file_name}' is not in ${imagesDir}`);
  const categories = [...groundTruth.categories].sort((a, b) => a.id - b.id);
  if (names) checkNames(names, categories.map((c) => c.name), file);
  return {
    format: 'coco',
    root,
    source: file,
    images: images.map((im) => ({ id: im.id, path: join(imagesDir, im.file_name), width: im.width, height: im.height })).sort((a, b) => a.id - b.id),
    groundTruth,
    classNames: categories.map((c) => c.name),
    ...classMapping(categories.map((c) => c.id)),
  };
}

/** Loads the dataset `data` names: a folder or a data.yaml (see data-layout.ts for the layouts). */
export async function loadEvalDataset(data: string, options: LoadDatasetOptions = {}): Promise<EvalDataset> {
  const layout = await resolveDataLayout(data, options.split);
  const where = layout.split ? `${layout.root} (${layout.split})` : layout.root;
  if (layout.images.length === 0) fail(ErrorCode.Dataset, `${where}: no images to evaluate in ${layout.imagesDir}`);
  const names = options.names ?? layout.names;
  if (options.names && layout.names && options.names.length !== layout.names.length) {
    fail(ErrorCode.Dataset, `${data}: the dataset has ${layout.names.length} classes, the model ${options.names.length}`);
  }
  const source = chooseSource(layout, options);
  if (source.format === 'coco') return { ...(await loadCoco(layout.root, layout.imagesDir, source.file, names)), ...(layout.split ? { split: layout.split } : {}) };
  if (!names) fail(ErrorCode.InvalidArgument, `${where}: YOLO labels need the class names (the names option)`);
  const { images, groundTruth } = await loadYoloGroundTruth(layout.images, labelPathOf, names, options.imageSize);
  const classIds = names.map((_, i) => i);
  return {
    format: 'yolo', root: layout.root, source: source.dir, images, groundTruth, classNames: names, ...classMapping(classIds),
    ...(layout.split ? { split: layout.split } : {}),
  };
}
