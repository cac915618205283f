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
import type { Detection } from './postprocess.js';

/** Ultralytics' `Colors` palette. */
export const PALETTE = ['FF3838', 'FF9D97', 'FF701F', 'FFB21D', 'CFD231', '48F90A', '92CC17', '3DDB86', '1A9334', '00D4BB',
  '2C99A8', '00C2FF', '344593', '6473FF', '0018EC', '8438FF', '520085', 'CB38FF', 'FF95C8', 'FF37C7'] as const;

export function classColour(classId: number): string {
  return `#${PALETTE[((classId % PALETTE.length) + PALETTE.length) % PALETTE.length]}`;
}

const FONT_FRACTION = 0.022;
const MIN_FONT = 11;
const LINE_FRACTION = 0.003;
/** Approximate advance of a sans-serif glyph, in font sizes (for the label background). */
const GLYPH_WIDTH = 0.6;

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** The SVG overlay for an image of the given size. */
export function overlaySvg(width: number, height: number, detections: readonly Detection[]): string {
  const font = Math.max(MIN_FONT, Math.round(Math.max(width, height) * FONT_FRACTION));
  const line = Math.max(2, Math.round((width + height) * LINE_FRACTION));
  const parts = detections.map((d) => {
    const [x1, y1, x2, y2] = d.box;
    const colour = classColour(d.classId);
    const text = `${d.label} ${d.score.toFixed(2)}`;
    const labelW = Math.ceil(text.length * font * GLYPH_WIDTH) + 4;
    const labelH = font + 4;
    const ly = y1 - labelH >= 0 ? y1 - labelH : y1;
    return `<rect x="${x1}" y="${y1}" width="${x2 - x1}" height="${y2 - y1}" fill="none" stroke="${colour}" stroke-width="${line}"/>`
      + `<rect x="${x1}" y="${ly}" width="${labelW}" height="${labelH}" fill="${colour}"/>`
      + `<text x="${x1 + 2}" y="${ly + font}" font-family="sans-serif" font-size="${font}" fill="#FFFFFF">${escapeXml(text)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

const FORMATS: Readonly<Record<string, 'jpeg' | 'png' | 'webp'>> = { '.jpg': 'jpeg', '.jpeg': 'jpeg', '.png': 'png', '.webp': 'webp' };

/** Draws `detections` over `image` (a file or encoded bytes) and writes `outPath` (.jpg, .png or .webp). */
export async function drawDetections(image: string | Uint8Array, detections: readonly Detection[], outPath: string): Promise<void> {
  const format = FORMATS[extname(outPath).toLowerCase()];
  if (!format) throw new NetdefError(ErrorCode.InvalidArgument, `cannot write ${outPath}: use .jpg, .png or .webp`);
  const base = sharp(image).rotate();
  const { width, height } = (await base.metadata()).autoOrient;
  await writeAtomically(outPath, 'annotated image', (tmp) => base
    .composite([{ input: Buffer.from(overlaySvg(width, height, detections)), top: 0, left: 0 }])
    .toFormat(format).toFile(tmp));
}
