/**
 * Annotated pictures: each detection's box, class name and score drawn over the original image
 * (EXIF orientation applied, as the boxes are in that frame), in a stable colour per class
 * (Ultralytics' 20-colour palette, class id modulo 20). Drawn as an SVG overlay composited by
 * sharp; written atomically (temp file, then rename) in the format the extension names.
 */
import { extname } from 'node:path';
import sharp from 'sharp';
import { writeAtomically } from '../common/atomic-file.js';
import { ErrorCode, NetdefError } from '../common/errors.js';
import type { RgbImage } from './image.js';
import type { Detection } from './postprocess.js';

/** Ultralytics' `Colors` palette. */
export const PALETTE = ['FF3838', 'FF9D97', 'FF701F', 'FFB21D', 'CFD231', '48F90A', '92CC17', '3DDB86', '1A9334', '00D4BB',
  '2C99A8', '00C2FF', '344593', '6473FF', '0018EC', '8438FF', '520085', 'CB38FF', 'FF95C8', 'FF37C7'] as const;

export function classColour(classId: number): string {
  return `#${PALETTE[((classId % PALETTE.length) + PALETTE.length) % PALETTE.length]}`;
}

const FONT_FRACTION = 0.022;
const MIN_FONT = 11;
/** Ultralytics' Annotator: line width = max(round((h + w + channels) / 2 * 0.003), 2). */
const LINE_FRACTION = 0.003;
const MIN_LINE = 2;
const RGB_CHANNELS = 3;
/** Approximate advance of a sans-serif glyph, in font sizes (for the label background). */
const GLYPH_WIDTH = 0.6;
/** Space around the label text, in pixels. */
const LABEL_PAD = 2;

/** How boxes are drawn (Ultralytics' `line_width`, `show_labels`, `show_conf`). */
export interface DrawOptions {
  /** Box line width in pixels; default from the image size as Ultralytics computes it. */
  readonly lineWidth?: number;
  /** Draw boxes only, no class names. */
  readonly hideLabels?: boolean;
  /** Class names without scores. */
  readonly hideConf?: boolean;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** The label box: above the box when it fits, else inside; moved left so it never leaves the image. */
function labelPlace(box: readonly number[], labelW: number, labelH: number, width: number): [number, number] {
  const [x1, y1] = box as [number, number];
  const x = Math.max(0, Math.min(x1, width - labelW));
  const y = y1 - labelH >= 0 ? y1 - labelH : y1;
  return [x, y];
}

/** The SVG overlay for an image of the given size. */
export function overlaySvg(width: number, height: number, detections: readonly Detection[], options: DrawOptions = {}): string {
  const font = Math.max(MIN_FONT, Math.round(Math.max(width, height) * FONT_FRACTION));
  const line = options.lineWidth ?? Math.max(MIN_LINE, Math.round(((width + height + RGB_CHANNELS) / 2) * LINE_FRACTION));
  const parts = detections.map((d) => {
    const [x1, y1, x2, y2] = d.box;
    const colour = classColour(d.classId);
    const frame = `<rect x="${x1}" y="${y1}" width="${x2 - x1}" height="${y2 - y1}" fill="none" stroke="${colour}" stroke-width="${line}"/>`;
    if (options.hideLabels) return frame;
    const text = options.hideConf ? d.label : `${d.label} ${d.score.toFixed(2)}`;
    const labelW = Math.ceil(text.length * font * GLYPH_WIDTH) + 2 * LABEL_PAD;
    const labelH = font + 2 * LABEL_PAD;
    const [lx, ly] = labelPlace(d.box, labelW, labelH, width);
    return frame
      + `<rect x="${lx}" y="${ly}" width="${labelW}" height="${labelH}" fill="${colour}"/>`
      + `<text x="${lx + LABEL_PAD}" y="${ly + font}" font-family="sans-serif" font-size="${font}" fill="#FFFFFF">${escapeXml(text)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

type OutputFormat = 'jpeg' | 'png' | 'webp' | 'tiff' | 'avif' | 'gif';
const FORMATS: Readonly<Record<string, OutputFormat>> = {
  '.jpg': 'jpeg', '.jpeg': 'jpeg', '.png': 'png', '.webp': 'webp', '.tif': 'tiff', '.tiff': 'tiff', '.avif': 'avif', '.gif': 'gif',
};

/** Whether annotated pictures can be written with this extension (else callers pick .png). */
export function canWriteFormat(extension: string): boolean {
  return Object.hasOwn(FORMATS, extension.toLowerCase());
}

/** Draws `detections` over `image` (a file or encoded bytes) and writes `outPath` in the format its extension names. */
export async function drawDetections(image: string | Uint8Array, detections: readonly Detection[], outPath: string, options: DrawOptions = {}): Promise<void> {
  const extension = extname(outPath).toLowerCase();
  if (!canWriteFormat(extension)) throw new NetdefError(ErrorCode.InvalidArgument, `cannot write ${outPath}: use ${Object.keys(FORMATS).join(', ')}`);
  const format = FORMATS[extension]!;
  const base = sharp(image).rotate();
  const { width, height } = (await base.metadata()).autoOrient;
  await writeAtomically(outPath, 'annotated image', (tmp) => base
    .composite([{ input: Buffer.from(overlaySvg(width, height, detections, options)), top: 0, left: 0 }])
    .toFormat(format).toFile(tmp));
}

/** `detections` drawn over a decoded frame, as raw RGB of the same size (for annotated videos). */
export async function drawOnPixels(image: RgbImage, detections: readonly Detection[], options: DrawOptions = {}): Promise<Uint8Array> {
  const { width, height } = image;
  const raw = { width, height, channels: RGB_CHANNELS } as const;
  const out = await sharp(image.data, { raw })
    .composite([{ input: Buffer.from(overlaySvg(width, height, detections, options)), top: 0, left: 0 }])
    .removeAlpha().raw().toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
