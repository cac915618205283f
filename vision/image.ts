/**
 * Image decoding: any file or buffer sharp can read becomes an 8-bit RGB image in HWC order, with
 * the EXIF orientation applied and any alpha band dropped, as `cv2.imread(path)` followed by
 * `[..., ::-1]` gives it to Ultralytics (OpenCV also applies EXIF orientation and drops alpha
 * without compositing). Embedded ICC profiles are ignored, as OpenCV ignores them; sharp would
 * otherwise convert to sRGB through the profile and change the pixel values.
 *
 * JPEG decoders may differ by a level here and there (libvips' mozjpeg against the system
 * libjpeg-turbo that OpenCV uses); `test/fixtures/letterbox/` records, per image, whether the two
 * agree. Errors are typed and name the file: a missing file is ERR_FILE_NOT_FOUND, anything that
 * does not decode completely (not an image, a truncated JPEG) is ERR_IMAGE_DECODE.
 *
 * Tested by test/vision/preprocess.test.ts (orientation, alpha, grey, bad inputs).
 */
import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import { ErrorCode, NetdefError, fail } from '../common/errors.js';

/** Interleaved channels per pixel of an RgbImage. */
export const RGB_CHANNELS = 3;

/** An 8-bit RGB image, rows top to bottom, pixels interleaved R, G, B (HWC). */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** width * height * 3 bytes. */
  readonly data: Uint8Array;
  /** Where it came from (a file path, or a name given for a buffer); used in error messages. */
  readonly path: string;
}

/** An RgbImage after checking that the sizes are positive integers and the data length fits. */
export function rgbImage(width: number, height: number, data: Uint8Array, path = '<memory>'): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    fail(ErrorCode.InvalidArgument, `${path}: image size must be positive integers, got ${width}x${height}`);
  }
  const expected = width * height * RGB_CHANNELS;
  if (data.length !== expected) {
    fail(ErrorCode.InvalidArgument, `${path}: a ${width}x${height} RGB image needs ${expected} bytes, got ${data.length}`);
  }
  return Object.freeze({ width, height, data, path });
}

export interface DecodeOptions {
  /** A name for a buffer input, used in errors and as the image's `path` (default '<buffer>'). */
  readonly name?: string;
}

/**
 * Decodes a file (by path) or an encoded buffer to RGB. Rejects with ERR_FILE_NOT_FOUND when the
 * path does not name a readable file, ERR_IMAGE_DECODE when the content is not a complete image.
 */
export async function decodeImage(input: string | Uint8Array, options: DecodeOptions = {}): Promise<RgbImage> {
  const name = typeof input === 'string' ? input : (options.name ?? '<buffer>');
  if (typeof input === 'string') await checkFile(input);
  let decoded: { data: Buffer; info: sharp.OutputInfo };
  try {
    decoded = await sharp(input, { failOn: 'truncated', ignoreIcc: true, autoOrient: true })
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new NetdefError(ErrorCode.ImageDecode, `${name}: cannot decode image (${reason})`, { cause });
  }
  const { data, info } = decoded;
  if (info.channels !== RGB_CHANNELS) {
    fail(ErrorCode.ImageDecode, `${name}: decoded to ${info.channels} channels, expected ${RGB_CHANNELS}`);
  }
  return rgbImage(info.width, info.height, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), name);
}

async function checkFile(path: string): Promise<void> {
  let isFile = false;
  try {
    isFile = (await stat(path)).isFile();
  } catch (cause) {
    throw new NetdefError(ErrorCode.FileNotFound, `${path}: image file not found`, { cause });
  }
  if (!isFile) fail(ErrorCode.FileNotFound, `${path}: not a file`);
}
