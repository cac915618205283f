/**
 * `netdef detect <images or folders...> --weights FILE`: detections per image, as a summary per
 * line, or with --json one JSON array on stdout and nothing else; annotated pictures with
 * --save-dir. A bad image is reported on stderr and the others are processed (exit code 1).
 */
import { mkdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { ErrorCode, fail } from '../../common/errors.js';
import { Detector, type DetectOptions, type ImageResult } from '../../engine/detector.js';
import { drawDetections } from '../../vision/draw.js';
import { listImages } from '../../vision/files.js';
import { imgsz, policy, positiveInt, required, str, unitInterval, type Values } from '../args.js';
import { Progress } from '../progress.js';

export const detectUsage = 'netdef detect IMAGES_OR_FOLDERS... (--weights FILE | --engine FILE) [--backend NAME] [--imgsz 640] [--rect] [--conf 0.25] [--iou 0.7] [--max-det 300] [--classes 0,2] [--agnostic] [--save-dir DIR] [--json]';

function classes(values: Values): number[] | undefined {
  const v = str(values, 'classes');
  if (v === undefined) return undefined;
  const ids = v.split(',').map((s) => Number(s.trim()));
  if (ids.some((n) => !Number.isInteger(n) || n < 0)) fail(ErrorCode.InvalidArgument, `--classes must be class ids like 0,2,5, got '${v}'`);
  return ids;
}

export function detectOptions(values: Values): DetectOptions {
  const conf = unitInterval(values, 'conf');
  const iou = unitInterval(values, 'iou');
  const maxDet = positiveInt(values, 'max-det');
  const ids = classes(values);
  return {
    ...(conf !== undefined ? { conf } : {}), ...(iou !== undefined ? { iou } : {}), ...(maxDet !== undefined ? { maxDet } : {}),
    ...(ids ? { classes: ids } : {}), ...(values.agnostic ? { agnostic: true } : {}),
  };
}

function summary(r: ImageResult): string {
  const counts = new Map<string, number>();
  for (const d of r.detections) counts.set(d.label, (counts.get(d.label) ?? 0) + 1);
  const what = [...counts].map(([label, n]) => `${n} ${label}`).join(', ') || 'no detections';
  const ms = r.times.decode + r.times.letterbox + r.times.inference + r.times.nms;
  return `${r.image}: ${r.width}x${r.height} ${what} (${ms.toFixed(0)} ms)`;
}

export async function detect(values: Values, positionals: readonly string[]): Promise<number> {
  const engine = str(values, 'engine');
  const weights = engine ?? required(values, 'weights', 'the .pt or .safetensors file, or --engine');
  const options = detectOptions(values);
  const size = imgsz(values);
  const prec = policy(values);
  const backend = str(values, 'backend');
  const saveDir = str(values, 'save-dir');
  const json = values.json === true;
  const files = await listImages(positionals);
  if (saveDir) await mkdir(saveDir, { recursive: true });
  await using detector = await Detector.load(weights, {
    ...(backend ? { backend } : {}), ...(size ? { imgsz: size } : {}), ...(prec ? { policy: prec } : {}), rect: values.rect === true,
  });
  const results: unknown[] = [];
  let failed = 0;
  const progress = Progress.forTerminal(files.length, 'images', json);
  for await (const r of detector.detectEach(files, options)) {
    progress.tick();
    if ('error' in r) {
      failed++;
      progress.end();
      process.stderr.write(`netdef: ${r.error.code}: ${r.error.message}\n`);
      continue;
    }
    if (saveDir) await drawDetections(r.image, r.detections, join(saveDir, `${basename(r.image, extname(r.image))}.jpg`));
    if (json) results.push({ image: r.image, width: r.width, height: r.height, detections: r.detections.map((d) => ({ box: d.box, score: d.score, classId: d.classId, label: d.label })) });
    else {
      progress.end();
      process.stdout.write(`${summary(r)}\n`);
    }
  }
  progress.end();
  if (json) process.stdout.write(`${JSON.stringify(results)}\n`);
  if (saveDir && !json) process.stderr.write(`annotated images in ${saveDir}\n`);
  return failed > 0 ? 1 : 0;
}
