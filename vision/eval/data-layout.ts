/**
 * Where a dataset's images, labels and annotations are, for the layouts people have:
 *
 * - a folder with `images/` holding the pictures (and `labels/`, or `annotations/*.json`);
 * - Ultralytics' split layout, `images/<split>/` with `labels/<split>/` (coco128 as Ultralytics
 *   ships it: `images/train2017`, `labels/train2017`); the split is `--split` (a folder name or its
 *   start: `val` finds `val2017`), else a `val*` folder, else the only folder there is;
 * - an Ultralytics `data.yaml` (read with the `yaml` library): `path`, the split's entry (`val` by
 *   default; a folder, a .txt list of images, or a list of those, relative to `path`) and `names`.
 *   A relative `path` is taken from the YAML file's folder, then from the working directory
 *   (Ultralytics takes it from its DATASETS_DIR setting, which netdef does not have).
 *
 * Labels are found as Ultralytics' img2label_paths finds them: the last `/images/` of an image's
 * path becomes `/labels/` and the extension `.txt`. Errors are ERR_DATASET or ERR_FILE_NOT_FOUND
 * naming the file or folder.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ErrorCode, fail } from '../../common/errors.js';

/** Ultralytics' IMG_FORMATS that sharp decodes. */
export const DATASET_IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.bmp', '.jpeg', '.jpg', '.png', '.tif', '.tiff', '.webp']);
/** A data.yaml larger than this is not a dataset description. */
const MAX_YAML_BYTES = 1 << 20;
const DEFAULT_SPLIT = 'val';

export interface DataLayout {
  /** The dataset's root folder (the folder given, or data.yaml's `path`). */
  readonly root: string;
  /** The folder images are named from (COCO `file_name`s are relative to it). */
  readonly imagesDir: string;
  /** The image files, sorted. */
  readonly images: readonly string[];
  /** The labels folder of the split, when it exists. */
  readonly labelsDir: string | undefined;
  /** COCO annotation files that may belong to the split. */
  readonly annotations: readonly string[];
  /** Class names from data.yaml, by class index. */
  readonly names?: readonly string[];
  /** What was chosen, for the report: the split folder or data.yaml entry. */
  readonly split?: string;
}

const isDirectory = (path: string): Promise<boolean> => stat(path).then((s) => s.isDirectory(), () => false);
const isImage = (name: string): boolean => DATASET_IMAGE_EXTENSIONS.has(extname(name).toLowerCase());

/** Ultralytics' img2label_paths for one image. */
export function labelPathOf(image: string): string {
  const marker = `${sep}images${sep}`;
  const at = image.lastIndexOf(marker);
  const swapped = at < 0 ? image : `${image.slice(0, at)}${sep}labels${sep}${image.slice(at + marker.length)}`;
  return `${swapped.slice(0, swapped.length - extname(swapped).length)}.txt`;
}

/** Entries of a folder of the kind asked for, symbolic links followed (datasets are often linked in). */
async function entriesOf(dir: string, kind: 'file' | 'directory'): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const kept = await Promise.all(entries.map(async (e) => {
    const target = e.isSymbolicLink() ? await stat(join(dir, e.name)).catch(() => null) : e;
    return target && (kind === 'file' ? target.isFile() : target.isDirectory()) ? e.name : null;
  }));
  return kept.filter((n): n is string => n !== null).sort();
}

async function imageFiles(dir: string): Promise<string[]> {
  return (await entriesOf(dir, 'file')).filter(isImage).map((name) => join(dir, name));
}

async function annotationFiles(root: string, split: string | undefined): Promise<string[]> {
  const dir = join(root, 'annotations');
  if (!(await isDirectory(dir))) return [];
  const all = (await readdir(dir)).filter((f) => extname(f).toLowerCase() === '.json').sort().map((f) => join(dir, f));
  const forSplit = split ? all.filter((f) => basename(f).includes(split)) : [];
  return forSplit.length > 0 ? forSplit : all;
}

/** The split folder under images/: asked for, else val*, else the only one. */
function chooseSplit(imagesDir: string, folders: readonly string[], asked: string | undefined): string {
  if (asked !== undefined) {
    const found = folders.includes(asked) ? [asked] : folders.filter((f) => f.startsWith(asked));
    if (found.length !== 1) fail(ErrorCode.Dataset, `${imagesDir}: ${found.length === 0 ? 'no' : 'several'} split folder(s) for --split ${asked} (there are: ${folders.join(', ') || 'none'})`);
    return found[0]!;
  }
  const val = folders.filter((f) => f.startsWith(DEFAULT_SPLIT));
  if (val.length === 1) return val[0]!;
  if (folders.length === 1) return folders[0]!;
  fail(ErrorCode.Dataset, `${imagesDir} holds the splits ${folders.join(', ')}: choose one with --split`);
}

async function folderLayout(root: string, split: string | undefined): Promise<DataLayout> {
  const imagesDir = join(root, 'images');
  if (!(await isDirectory(imagesDir))) fail(ErrorCode.Dataset, `${root}: no images/ folder (expected images/ with labels/ or annotations/, or an Ultralytics data.yaml)`);
  const flat = await imageFiles(imagesDir);
  if (flat.length > 0 && split === undefined) {
    const labelsDir = join(root, 'labels');
    return { root, imagesDir, images: flat, labelsDir: (await isDirectory(labelsDir)) ? labelsDir : undefined, annotations: await annotationFiles(root, undefined) };
  }
  const folders = await entriesOf(imagesDir, 'directory');
  if (folders.length === 0) fail(ErrorCode.Dataset, `${imagesDir}: no images (looked for ${[...DATASET_IMAGE_EXTENSIONS].join(' ')})`);
  const chosen = chooseSplit(imagesDir, folders, split);
  const dir = join(imagesDir, chosen);
  const labelsDir = join(root, 'labels', chosen);
  return {
    root, imagesDir: dir, images: await imageFiles(dir), labelsDir: (await isDirectory(labelsDir)) ? labelsDir : undefined,
    annotations: await annotationFiles(root, chosen), split: chosen,
  };
}

function yamlNames(value: unknown, file: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(([k, v]) => [Number(k), String(v)] as const);
    if (entries.some(([k], i) => k !== i)) fail(ErrorCode.Dataset, `${file}: names must be a list or a map 0: name, 1: name, ... without gaps`);
    return entries.map(([, v]) => v);
  }
  fail(ErrorCode.Dataset, `${file}: names must be a list or a map of class index to name`);
}

async function yamlRoot(file: string, path: unknown): Promise<string> {
  if (path === undefined || path === null) return dirname(file);
  if (typeof path !== 'string') fail(ErrorCode.Dataset, `${file}: path must be a folder`);
  if (isAbsolute(path)) return path;
  const candidates = [resolve(dirname(file), path), resolve(path)];
  for (const c of candidates) if (await isDirectory(c)) return c;
  fail(ErrorCode.FileNotFound, `${file}: dataset path '${path}' not found (tried ${candidates.join(' and ')})`);
}

/** The images one data.yaml entry names: folders and .txt lists of images, relative to the root. */
async function entryImages(root: string, entry: string, file: string): Promise<string[]> {
  const target = isAbsolute(entry) ? entry : resolve(root, entry);
  if (await isDirectory(target)) return imageFiles(target);
  if (existsSync(target) && extname(target) === '.txt') {
    const lines = (await readFile(target, 'utf8')).split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
    return lines.map((l) => (isAbsolute(l) ? l : resolve(dirname(target), l))).filter(isImage);
  }
  fail(ErrorCode.FileNotFound, `${file}: '${entry}' is neither a folder of images nor a .txt list (looked at ${target})`);
}

async function yamlLayout(file: string, split: string | undefined): Promise<DataLayout> {
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) fail(ErrorCode.FileNotFound, `dataset file ${file} does not exist`);
  if (info.size > MAX_YAML_BYTES) fail(ErrorCode.Dataset, `${file} is ${info.size} bytes; a data.yaml is at most ${MAX_YAML_BYTES}`);
  let doc: unknown;
  try {
    doc = parseYaml(await readFile(file, 'utf8'));
  } catch (e) {
    fail(ErrorCode.Dataset, `${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) fail(ErrorCode.Dataset, `${file}: a data.yaml is a mapping (path, train, val, names)`);
  const fields = doc as Record<string, unknown>;
  const key = split ?? DEFAULT_SPLIT;
  const entry = Object.hasOwn(fields, key) ? fields[key] : undefined;
  if (entry === undefined || entry === null) fail(ErrorCode.Dataset, `${file} has no '${key}' entry${split ? '' : ' (evaluate another split with --split)'}`);
  const entries = Array.isArray(entry) ? entry.map(String) : [String(entry)];
  const root = await yamlRoot(file, fields['path']);
  const images = (await Promise.all(entries.map((e) => entryImages(root, e, file)))).flat().sort();
  const first = isAbsolute(entries[0]!) ? entries[0]! : resolve(root, entries[0]!);
  const imagesDir = (await isDirectory(first)) ? first : root;
  const labelsDir = images[0] ? dirname(labelPathOf(images[0])) : undefined;
  const names = yamlNames(fields['names'], file);
  return {
    root, imagesDir, images, labelsDir: labelsDir && (await isDirectory(labelsDir)) ? labelsDir : undefined,
    annotations: await annotationFiles(root, basename(imagesDir)), ...(names ? { names } : {}), split: `${key}: ${entries.join(', ')}`,
  };
}

/** The layout of `data`: a folder, or a .yaml/.yml dataset file. */
export async function resolveDataLayout(data: string, split?: string): Promise<DataLayout> {
  const target = resolve(data);
  if (/\.ya?ml$/i.test(target)) return yamlLayout(target, split);
  if (!(await isDirectory(target))) fail(ErrorCode.FileNotFound, `dataset folder ${target} does not exist`);
  return folderLayout(target, split);
}
