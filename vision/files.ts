/**
 * Expands the images, folders and glob patterns a user names into image files: a folder gives its
 * image files (by extension, not recursive, sorted by name, as Ultralytics' loader globs a folder);
 * a pattern with `*` or `?` (quoted, so the shell leaves it alone: `'imgs/*.jpg'`) gives the image
 * files it matches, sorted, wildcards allowed in any path segment; a file is taken as it is (its
 * content is checked when decoded). For detect, listSources also takes videos (by extension, in
 * folders too) and streams (rtsp://, http://, /dev/videoN), which ffmpeg decodes (vision/video/).
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, sep } from 'node:path';
import { ErrorCode, NetdefError } from '../common/errors.js';
import { hasWildcards, wildcardMatch } from '../common/wildcard.js';

export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.webp', '.bmp', '.tif', '.tiff', '.gif', '.avif']);

export function isImageFile(path: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(path).toLowerCase());
}

/** Ultralytics' VID_FORMATS less gif (decoded here as a picture, its first frame). */
export const VIDEO_EXTENSIONS: ReadonlySet<string> = new Set(['.asf', '.avi', '.m4v', '.mkv', '.mov', '.mp4', '.mpeg', '.mpg', '.ts', '.wmv', '.webm']);

export function isVideoFile(path: string): boolean {
  return VIDEO_EXTENSIONS.has(extname(path).toLowerCase());
}

/** A network stream or a camera device, which ffmpeg opens and which is never listed or stat'ed. */
export function isStream(source: string): boolean {
  return /^(rtsp|rtsps|rtmp|rtp|srt|udp|tcp|https?):\/\//i.test(source) || /^\/dev\/video\d+$/.test(source);
}

/** What detect reads: a picture, or a video file or stream (decoded by ffmpeg). */
export interface Source {
  readonly kind: 'image' | 'video';
  readonly path: string;
}

/** Files, folders, patterns and streams → pictures and videos, in the order given (folders: both, by name). */
export async function listSources(inputs: readonly string[]): Promise<Source[]> {
  if (inputs.length === 0) throw new NetdefError(ErrorCode.InvalidArgument, 'no images, videos or folders given');
  const out: Source[] = [];
  for (const input of inputs) {
    if (isStream(input)) {
      out.push({ kind: 'video', path: input });
      continue;
    }
    const isDir = (await stat(input).catch(() => null))?.isDirectory() === true;
    if (isDir) {
      const media = await filesInFolder(input, [...IMAGE_EXTENSIONS, ...VIDEO_EXTENSIONS], 'images or videos');
      out.push(...media.map((path) => ({ kind: isVideoFile(path) ? 'video' as const : 'image' as const, path })));
      continue;
    }
    for (const path of await listImages([input], true)) out.push({ kind: isVideoFile(path) ? 'video' : 'image', path });
  }
  return out;
}

/** The files of a folder with these extensions, sorted; an error naming the folder (and `what`) if it holds none. */
async function filesInFolder(dir: string, extensions: readonly string[], what: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files = entries.filter((e) => e.isFile() && extensions.includes(extname(e.name).toLowerCase())).map((e) => join(dir, e.name)).sort();
  if (files.length === 0) throw new NetdefError(ErrorCode.InvalidArgument, `no ${what} in folder ${dir} (looked for ${extensions.join(' ')})`);
  return files;
}

/** The image files in a folder, sorted; an error naming the folder if it holds none. */
export function imagesInFolder(dir: string): Promise<string[]> {
  return filesInFolder(dir, [...IMAGE_EXTENSIONS], 'images');
}

/** The paths a pattern matches: each segment with wildcards matched against a folder's entries. */
async function expandPattern(pattern: string, videos: boolean): Promise<string[]> {
  const segments = pattern.split(/[\\/]/);
  let paths = [isAbsolute(pattern) ? sep : '.'];
  for (const [i, segment] of segments.entries()) {
    if (segment === '' || segment === '.') continue;
    const last = i === segments.length - 1;
    const next: string[] = [];
    for (const dir of paths) {
      if (!hasWildcards(segment)) {
        next.push(join(dir, segment));
        continue;
      }
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) if ((last || e.isDirectory()) && wildcardMatch(segment, e.name)) next.push(join(dir, e.name));
    }
    paths = next;
  }
  const files = await Promise.all(paths.map(async (p) => ((await stat(p).catch(() => null))?.isFile() && (isImageFile(p) || (videos && isVideoFile(p))) ? p : null)));
  return files.filter((p): p is string => p !== null).sort();
}

/** Files, folders and patterns → image files (and videos matched by a pattern, with `videos`), in the order given. */
export async function listImages(inputs: readonly string[], videos = false): Promise<string[]> {
  if (inputs.length === 0) throw new NetdefError(ErrorCode.InvalidArgument, 'no images or folders given');
  const out: string[] = [];
  for (const input of inputs) {
    if (hasWildcards(input) && !(await stat(input).catch(() => null))) {
      const matched = await expandPattern(input, videos);
      if (matched.length === 0) throw new NetdefError(ErrorCode.FileNotFound, `no ${videos ? 'image or video' : 'image'} files match ${input}`);
      out.push(...matched);
      continue;
    }
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
