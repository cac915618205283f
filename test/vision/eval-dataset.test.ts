/**
 * loadEvalDataset on coco128 in both formats (official COCO annotations and YOLO labels), and on
 * small malformed folders written to a temporary directory: every error names the folder, file or
 * line at fault.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetdefError } from '../../common/errors.js';
import { loadEvalDataset, type LoadDatasetOptions } from '../../vision/eval/dataset.js';
import { dataPath } from '../data.js';

const COCO128 = dataPath('coco128');
const NAMES = readFileSync(dataPath('coco.names'), 'utf8').trim().split('\n');

async function expectDatasetError(promise: Promise<unknown>, code: string, ...texts: string[]): Promise<void> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(NetdefError);
  expect((error as NetdefError).code).toBe(code);
  for (const text of texts) expect((error as NetdefError).message).toContain(text);
}

describe('coco128 as a COCO dataset', () => {
  it('loads the official annotations and maps the 80 classes onto the 91 category ids in id order', async () => {
    const ds = await loadEvalDataset(COCO128, { names: NAMES, format: 'coco' });
    expect(ds.format).toBe('coco');
    expect(ds.source).toBe(join(COCO128, 'annotations', 'instances_coco128_train2017.json'));
    expect(ds.images).toHaveLength(128);
    expect(ds.groundTruth.annotations).toHaveLength(939);
    expect(ds.groundTruth.annotations.filter((a) => a.iscrowd === 1)).toHaveLength(10);
    expect(ds.classNames).toEqual(NAMES);
    expect([0, 11, 12, 79].map((c) => ds.categoryIdOfClass(c))).toEqual([1, 13, 14, 90]); // coco80_to_coco91
    expect(ds.classOfCategoryId(90)).toBe(79);
    expect(ds.images[0]).toEqual({ id: 9, path: join(COCO128, 'images', '000000000009.jpg'), width: 640, height: 480 });
    expect(() => ds.categoryIdOfClass(80)).toThrow(NetdefError);
    expect(() => ds.classOfCategoryId(12)).toThrow(/category id 12/);
  });

  it('refuses class names that differ from the categories', async () => {
    const names = NAMES.map((n) => (n === 'motorcycle' ? 'motorbike' : n));
    await expectDatasetError(loadEvalDataset(COCO128, { names, format: 'coco' }), 'ERR_DATASET', "class 3: 'motorbike' vs category 'motorcycle'");
    await expectDatasetError(loadEvalDataset(COCO128, { names: NAMES.slice(0, 79), format: 'coco' }), 'ERR_DATASET', '80 categories', '79 class names');
  });
});

describe('coco128 as a YOLO dataset', () => {
  it('reads the labels, sizes images with sharp and uses numeric file stems as image ids', async () => {
    const ds = await loadEvalDataset(COCO128, { format: 'yolo', names: NAMES });
    const coco = await loadEvalDataset(COCO128);
    expect(ds.format).toBe('yolo');
    expect(ds.images.map((im) => [im.id, im.width, im.height])).toEqual(coco.images.map((im) => [im.id, im.width, im.height]));
    expect(ds.groundTruth.annotations).toHaveLength(929);
    const perImage = (id: number): number => ds.groundTruth.annotations.filter((a) => a.image_id === id).length;
    expect([perImage(250), perImage(508)]).toEqual([0, 0]); // no label file: no objects
    expect(ds.categoryIdOfClass(79)).toBe(79);
    const first = ds.groundTruth.annotations[0]!; // 000000000009.txt line 1: 45 0.479492 0.688771 0.955609 0.5955
    expect(first.category_id).toBe(45);
    expect(first.bbox[2]).toBeCloseTo(0.955609 * 640, 9);
    expect(first.area).toBeCloseTo(0.955609 * 640 * 0.5955 * 480, 6);
  });
});

describe('malformed datasets', () => {
  let dir: string;
  const size = async (): Promise<{ width: number; height: number }> => ({ width: 640, height: 480 });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'netdef-eval-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function folder(name: string, files: Record<string, string>): Promise<string> {
    const root = join(dir, name);
    await mkdir(join(root, 'images'), { recursive: true });
    for (const [path, text] of Object.entries(files)) {
      await mkdir(join(root, path, '..'), { recursive: true });
      await writeFile(join(root, path), text);
    }
    return root;
  }

  const yolo = (root: string, extra: Partial<LoadDatasetOptions> = {}): Promise<unknown> =>
    loadEvalDataset(root, { names: ['a', 'b'], imageSize: size, ...extra });

  it.each([
    ['wrong field count', '0 0.5 0.5 0.2\n', ':1: expected 5 fields'],
    ['segment line', '0 0.1 0.1 0.2 0.1 0.2 0.2\n', 'segment labels are not supported'],
    ['non-numeric', '0 0.5 0.5 0.2 0.2\n1 0.5 abc 0.2 0.2\n', ":2: 'abc' is not a number"],
    ['class out of range', '\n2 0.5 0.5 0.2 0.2\n', ':2: class 2 is not an integer in [0, 1]'],
    ['fractional class', '0.5 0.5 0.5 0.2 0.2\n', 'class 0.5'],
    ['unnormalised coordinates', '0 320 240 64 48\n', ':1: coordinate 320 is outside [0, 1]'],
  ])('names the file and line of a label with a %s', async (name, text, message) => {
    const root = await folder(name.replace(/ /g, '-'), { 'images/x.jpg': '', 'labels/x.txt': text });
    await expectDatasetError(yolo(root), 'ERR_DATASET', join(root, 'labels', 'x.txt'), message);
  });

  it('accepts rounding just outside [0, 1], blank lines and CRLF; an image without labels has no objects', async () => {
    const root = await folder('tolerant', { 'images/1.jpg': '', 'images/2.png': '', 'labels/1.txt': '1 0.5 0.5 1.00001 0.2\r\n\r\n0 0.1 0.1 0.2 0.2' });
    const ds = await loadEvalDataset(root, { names: ['a', 'b'], imageSize: size });
    expect(ds.images.map((im) => im.id)).toEqual([1, 2]);
    expect(ds.groundTruth.annotations.map((a) => [a.image_id, a.category_id])).toEqual([[1, 1], [1, 0]]);
  });

  it('refuses a folder without ground truth, without images, or that does not exist', async () => {
    const bare = await folder('bare', { 'images/x.jpg': '' });
    await expectDatasetError(yolo(bare), 'ERR_DATASET', bare, 'no labels/ folder and no annotations/*.json');
    await expectDatasetError(yolo(bare, { format: 'coco' }), 'ERR_DATASET', 'no annotations/*.json');
    const noImages = join(dir, 'no-images');
    await mkdir(join(noImages, 'labels'), { recursive: true });
    await expectDatasetError(yolo(noImages), 'ERR_DATASET', 'no images/ folder');
    await expectDatasetError(yolo(join(dir, 'missing')), 'ERR_FILE_NOT_FOUND', 'missing');
    const labelled = await folder('labelled', { 'images/x.jpg': '', 'labels/x.txt': '' });
    await expectDatasetError(loadEvalDataset(labelled), 'ERR_INVALID_ARGUMENT', 'class names');
  });

  it('refuses annotation files that are not COCO', async () => {
    const image = { id: 1, file_name: 'x.jpg', width: 640, height: 480 };
    const ann = { id: 1, image_id: 1, category_id: 3, bbox: [1, 2, 3, 4], area: 12, iscrowd: 0 };
    const cases: [string, string, string][] = [
      ['not-json', '{"images": [', 'not JSON'],
      ['array', '[]', 'not a JSON object'],
      ['no-categories', JSON.stringify({ images: [image], annotations: [] }), "no 'categories' array"],
      ['bad-ref', JSON.stringify({ images: [image], annotations: [ann], categories: [{ id: 1, name: 'a' }] }), 'annotations[0].category_id 3'],
      ['bad-box', JSON.stringify({ images: [image], annotations: [{ ...ann, category_id: 1, bbox: [1, 2] }], categories: [{ id: 1, name: 'a' }] }), 'annotations[0].bbox'],
      ['no-image-file', JSON.stringify({ images: [{ ...image, file_name: 'y.jpg' }], annotations: [], categories: [] }), "'y.jpg' is not in"],
    ];
    for (const [name, text, message] of cases) {
      const root = await folder(`coco-${name}`, { 'images/x.jpg': '', 'annotations/instances.json': text });
      await expectDatasetError(loadEvalDataset(root), 'ERR_DATASET', join(root, 'annotations', 'instances.json'), message);
    }
    const two = await folder('coco-two', { 'images/x.jpg': '', 'annotations/a.json': '{}', 'annotations/b.json': '{}' });
    await expectDatasetError(loadEvalDataset(two), 'ERR_DATASET', 'several annotation files');
  });
});
