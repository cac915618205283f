/**
 * Loads an evaluation dataset from a folder holding `images/` and either COCO annotations
 * (`annotations/*.json`, or a path given) or YOLO labels (`labels/<stem>.txt`), as COCO-shaped
 * ground truth for evaluateCoco, with the mapping between a model's class index and the dataset's
 * category id. COCO: class i is the i-th category in ascending id order (how Ultralytics'
 * coco80_to_coco91 maps the 80 classes onto COCO's 91 ids); given class names must equal the
 * categories' names in that order. YOLO: category id = class index, areas are box areas in pixels,
 * nothing is crowd, and an image without a label file has no objects. Errors are NetdefError
 * (ERR_DATASET, ERR_FILE_NOT_FOUND, ERR_INVALID_ARGUMENT) naming the folder, file or line.
 * Tested on coco128 (both formats) and malformed copies in test/vision/eval-dataset.test.ts.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { ErrorCode, fail } from '../../common/errors.js';
import { readCocoJson } from './coco-json.js';
import type { CocoGroundTruth } from './coco-types.js';
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
  /** The category id of a class index; throws ERR_INVALID_ARGUMENT outside [0, classes). */
  categoryIdOfClass(classIndex: number): number;
  /** The class index of a category id; throws ERR_INVALID_ARGUMENT for an unknown id. */
  classOfCategoryId(categoryId: number): number;
}

export interface LoadDatasetOptions {
  /** Default: COCO when an annotations file is given or found, YOLO otherwise. */
  readonly format?: 'coco' | 'yolo';
  /** A COCO annotations file (relative paths from the working directory). */
  readonly annotations?: string;
  /** Class names by index: required for YOLO; for COCO, checked against the categories. */
  readonly names?: readonly string[];
  /** YOLO only: image size in pixels; default sharp's metadata with EXIF orientation applied. */
  readonly imageSize?: ImageSizeFn;
}

const isDirectory = (path: string): Promise<boolean> => stat(path).then((s) => s.isDirectory(), () => false);

async function findAnnotationFiles(root: string): Promise<string[]> {
  const dir = join(root, 'annotations');
  if (!(await isDirectory(dir))) return [];
  return (await readdir(dir)).filter((f) => extname(f).toLowerCase() === '.json').sort().map((f) => join(dir, f));
}

type Source = { readonly format: 'coco'; readonly file: string } | { readonly format: 'yolo'; readonly dir: string };

async function resolveSource(root: string, options: LoadDatasetOptions): Promise<Source> {
  if (options.annotations !== undefined) return { format: 'coco', file: resolve(options.annotations) };
  const labels = join(root, 'labels');
  if (options.format !== 'yolo') {
    const files = await findAnnotationFiles(root);
    if (files.length > 1) fail(ErrorCode.Dataset, `${root}: several annotation files (${files.join(', ')}); name one with the annotations option`);
    if (files[0] !== undefined) return { format: 'coco', file: files[0] };
    if (options.format === 'coco') fail(ErrorCode.Dataset, `${root}: no annotations/*.json (COCO format was asked for)`);
  }
  if (await isDirectory(labels)) return { format: 'yolo', dir: labels };
  fail(ErrorCode.Dataset, `${root}: no labels/ folder${options.format === 'yolo' ? '' : ' and no annotations/*.json'}; there is no ground truth to evaluate against`);
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

async function loadCoco(root: string, file: string, names: readonly string[] | undefined): Promise<EvalDataset> {
  const { groundTruth, images } = await readCocoJson(file);
  const imagesDir = join(root, 'images');
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

/** Loads the dataset in `folder` (see the file header for the layouts). */
export async function loadEvalDataset(folder: string, options: LoadDatasetOptions = {}): Promise<EvalDataset> {
  const root = resolve(folder);
  if (!(await isDirectory(root))) fail(ErrorCode.FileNotFound, `dataset folder ${root} does not exist`);
  if (!(await isDirectory(join(root, 'images')))) fail(ErrorCode.Dataset, `${root}: no images/ folder`);
  const source = await resolveSource(root, options);
  if (source.format === 'coco') return loadCoco(root, source.file, options.names);
  if (!options.names) fail(ErrorCode.InvalidArgument, `${root}: YOLO labels need the class names (the names option)`);
  const { images, groundTruth } = await loadYoloGroundTruth(root, source.dir, options.names, options.imageSize);
  const classIds = options.names.map((_, i) => i);
  return { format: 'yolo', root, source: source.dir, images, groundTruth, classNames: options.names, ...classMapping(classIds) };
}
