/**
 * Expands the images and folders a user names into image files: a folder gives its image files
 * (by extension, not recursive, sorted by name, as Ultralytics' loader globs a folder); a file is
 * taken as it is (its content is checked when decoded).
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { ErrorCode, NetdefError } from '../common/errors.js';

export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.webp', '.bmp', '.tif', '.tiff', '.gif', '.avif']);

export function isImageFile(path: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(path).toLowerCase());
}

/** The image files in a folder, sorted; an error naming the folder if it holds none. */
export async function imagesInFolder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files = entries.filter((e) => e.isFile() && isImageFile(e.name)).map((e) => join(dir, e.name)).sort();
  if (files.length === 0) throw new NetdefError(ErrorCode.InvalidArgument, `no images in folder ${dir} (looked for ${[...IMAGE_EXTENSIONS].join(' ')})`);
  return files;
}

/** Files and folders → image files, in the order given. */
export async function listImages(inputs: readonly string[]): Promise<string[]> {
  if (inputs.length === 0) throw new NetdefError(ErrorCode.InvalidArgument, 'no images or folders given');
  const out: string[] = [];
  for (const input of inputs) {
    let isDir: boolean;
    try {
      isDir = (await stat(input)).isDirectory();
    } catch (e) {
      throw new NetdefError(ErrorCode.FileNotFound, `cannot read ${input}: no such file or folder`, { cause: e });
    }
    if (isDir) out.push(...(await imagesInFolder(input)));
    else out.push(input);
  }
  return out;
}
