/**
 * Where `detect` writes its results: the folder given, or Ultralytics' default runs/detect/predict,
 * then predict2, predict3, ... (its `increment_path`), and a unique file name per input inside it,
 * so two inputs called bus.jpg do not overwrite each other (bus.jpg, bus_2.jpg).
 */
import { existsSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { canWriteFormat } from '../vision/draw.js';

export const DEFAULT_PROJECT = join('runs', 'detect');
export const DEFAULT_NAME = 'predict';
/** Ultralytics' increment_path starts numbering at 2. */
const FIRST_INCREMENT = 2;
/** Pictures whose format cannot be written again (bmp) are saved in this one. */
const FALLBACK_EXTENSION = '.png';

/** runs/detect/predict, or the first of predict2, predict3, ... that does not exist yet. */
export function nextRunDir(project = DEFAULT_PROJECT, name = DEFAULT_NAME): string {
  const first = join(project, name);
  if (!existsSync(first)) return first;
  for (let n = FIRST_INCREMENT; ; n++) {
    const dir = join(project, `${name}${n}`);
    if (!existsSync(dir)) return dir;
  }
}

/** Gives each input a distinct output name (its own name, then name_2, name_3, ...). */
export class OutputNames {
  private readonly used = new Set<string>();

  /** The stem and extension an input's results are saved under. */
  next(input: string): { stem: string; extension: string } {
    const ext = extname(input);
    const extension = canWriteFormat(ext) ? ext : FALLBACK_EXTENSION;
    const base = basename(input, ext) || 'image';
    let stem = base;
    for (let n = FIRST_INCREMENT; this.used.has(stem.toLowerCase()); n++) stem = `${base}_${n}`;
    this.used.add(stem.toLowerCase());
    return { stem, extension };
  }
}
