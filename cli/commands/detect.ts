/**
 * `netdef detect SOURCES... --weights FILE`: Ultralytics' predict. Prints a line per image and the
 * speed summary (or, with --json, one JSON array on stdout and nothing else there: one entry per
 * image, failed images included with their error), saves annotated pictures to runs/detect/predictN
 * (or --save-dir) unless --no-save, and YOLO labels with --save-txt. A bad image is reported and the
 * others are processed (exit code 1).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ErrorCode, fail } from '../../common/errors.js';
import { Detector, type DetectOptions, type ImageFailure, type ImageResult } from '../../engine/detector.js';
import { drawDetections, type DrawOptions } from '../../vision/draw.js';
import { checkEngineNmsOptions } from '../../vision/engine-nms.js';
import { listSources } from '../../vision/files.js';
import { yoloLabelLines } from '../../vision/yolo-txt.js';
import { calibrationOf, imgsz, policy, positiveInt, str, unitInterval, type Values } from '../args.js';
import { exclusive, type CommandSpec } from '../command.js';
import { imageLine, SpeedTotals } from '../detect-report.js';
import { placement } from '../device.js';
import { gpuBuildOptions } from '../gpu-build.js';
import { Progress } from '../progress.js';
import { nextRunDir, OutputNames } from '../save-dir.js';
import { itemLabel, SourceFeed, type ItemInfo } from '../detect-sources.js';
import { VideoOutputs } from '../video-output.js';

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

function drawOptions(values: Values): DrawOptions {
  const lineWidth = positiveInt(values, 'line-width');
  return { ...(lineWidth !== undefined ? { lineWidth } : {}), hideLabels: values['hide-labels'] === true, hideConf: values['hide-conf'] === true };
}

/** Where results go, and what is written there. */
interface SaveSettings {
  readonly dir: string | undefined;
  readonly pictures: boolean;
  readonly labels: boolean;
  readonly withScore: boolean;
}

function saveSettings(values: Values): SaveSettings {
  exclusive(values, 'no-save', 'save-dir', '--no-save writes no pictures; --save-dir says where to write them');
  if (values['save-conf'] && !values['save-txt']) fail(ErrorCode.InvalidArgument, '--save-conf adds scores to the --save-txt labels: add --save-txt');
  const pictures = values['no-save'] !== true;
  const labels = values['save-txt'] === true;
  const dir = pictures || labels ? (str(values, 'save-dir') ?? nextRunDir()) : undefined;
  return { dir, pictures, labels, withScore: values['save-conf'] === true };
}

async function loadDetector(values: Values): Promise<Detector> {
  const engine = str(values, 'engine');
  const weights = str(values, 'weights');
  exclusive(values, 'engine', 'weights', 'an engine file holds its weights (new weights: netdef refit)');
  if (!engine && !weights) fail(ErrorCode.InvalidArgument, '--weights is required (the .pt or .safetensors file), or --engine FILE');
  exclusive(values, 'rect', 'square', 'choose one letterbox');
  const size = imgsz(values);
  const prec = policy(values);
  const calibration = await calibrationOf(values);
  const { backend, threads } = placement(values);
  const rect = values.rect === true ? true : values.square === true ? false : undefined;
  const batch = positiveInt(values, 'batch');
  const workers = positiveInt(values, 'workers');
  const gpu = gpuBuildOptions(values, backend);
  const processing = str(values, 'processing');
  if (processing !== undefined && processing !== 'gpu' && processing !== 'cpu') fail(ErrorCode.InvalidArgument, `--processing must be gpu or cpu, got '${processing}'`);
  return Detector.load((engine ?? weights)!, {
    ...(calibration ? { calibration } : {}),
    ...(batch !== undefined ? { batch } : {}), ...(workers !== undefined ? { workers } : {}), ...(processing !== undefined ? { processing } : {}),
    ...(backend ? { backend } : {}), ...(threads !== undefined ? { threads } : {}), ...(size ? { imgsz: size } : {}),
    ...(prec ? { policy: prec } : {}), ...(rect !== undefined ? { rect } : {}),
    ...(gpu.timingCache !== undefined ? { timingCache: gpu.timingCache } : {}), ...(gpu.fp32Math !== undefined ? { fp32Math: gpu.fp32Math } : {}),
  });
}

/** Pictures, labels and annotated videos in the save folder; one stem per source (unique names). */
class Saver {
  private readonly names = new OutputNames();
  private readonly videoStems = new Map<string, string>();
  readonly videos: VideoOutputs | undefined;

  constructor(private readonly save: SaveSettings, private readonly draw: DrawOptions) {
    this.videos = save.dir && save.pictures ? new VideoOutputs(save.dir, (path) => this.videoStem(path), draw) : undefined;
  }

  private videoStem(path: string): string {
    let stem = this.videoStems.get(path);
    if (stem === undefined) {
      stem = this.names.next(path).stem;
      this.videoStems.set(path, stem);
    }
    return stem;
  }

  async result(r: ImageResult, info: ItemInfo): Promise<void> {
    if (!this.save.dir) return;
    const isFrame = info.frame !== undefined;
    if (isFrame) await this.videos?.frame(info, r.detections);
    const named = isFrame ? { stem: `${this.videoStem(info.path)}_${info.frame}`, extension: '' } : this.names.next(r.image);
    if (!isFrame && this.save.pictures) await drawDetections(r.image, r.detections, join(this.save.dir, `${named.stem}${named.extension}`), this.draw);
    if (this.save.labels && r.detections.length > 0) {
      await writeFile(join(this.save.dir, 'labels', `${named.stem}.txt`), `${yoloLabelLines(r.detections, r.width, r.height, this.save.withScore).join('\n')}\n`);
    }
  }
}

function jsonEntry(r: ImageResult | ImageFailure, info: ItemInfo): unknown {
  const frame = info.frame === undefined ? {} : { frame: info.frame };
  if ('error' in r) return { image: r.image, ...frame, error: { code: r.error.code, message: r.error.message } };
  return {
    image: r.image, ...frame, width: r.width, height: r.height, times: r.times,
    detections: r.detections.map((d) => ({ box: d.box, score: d.score, classId: d.classId, label: d.label })),
  };
}

async function detect(values: Values, positionals: readonly string[]): Promise<number> {
  exclusive(values, 'verbose', 'quiet', 'choose how much to print');
  const options = detectOptions(values);
  const draw = drawOptions(values);
  const save = saveSettings(values);
  const json = values.json === true;
  const feed = new SourceFeed(await listSources(positionals), positiveInt(values, 'vid-stride') ?? 1);
  // A stream has no end, so with videos --json writes one JSON object per line as results come.
  const jsonLines = json && feed.hasVideo;
  await using detector = await loadDetector(values);
  const inEngine = await detector.engineNms();
  if (inEngine) {
    checkEngineNmsOptions(inEngine, options);
    if (!json) process.stderr.write(`note: the engine runs NMS itself (per class, iou ${inEngine.iouThreshold}, conf > ${inEngine.scoreThreshold}); its selected rows are used as they are\n`);
  }
  if (save.dir) await mkdir(save.labels ? join(save.dir, 'labels') : save.dir, { recursive: true });
  const started = performance.now();
  const totals = new SpeedTotals(detector.batch);
  const saver = new Saver(save, draw);
  const entries: unknown[] = [];
  let failed = 0;
  // Per-image lines already show progress; the bar is for --json and --quiet runs on a terminal (pictures only: a stream has no total).
  const progress = Progress.forTerminal(feed.imageCount, 'images', !(json || values.quiet === true) || feed.hasVideo);
  try {
    for await (const r of detector.detectEach(feed.inputs(), options)) {
      const info = feed.shift();
      progress.tick();
      if (jsonLines) process.stdout.write(`${JSON.stringify(jsonEntry(r, info))}\n`);
      else if (json) entries.push(jsonEntry(r, info));
      if ('error' in r) {
        failed++;
        progress.end();
        if (info.kind === 'video') await saver.videos?.finish();
        process.stderr.write(`netdef: ${r.error.code}: ${r.error.message}\n`);
        continue;
      }
      totals.add(r);
      await saver.result(r, info);
      if (!json && values.quiet !== true) {
        progress.end();
        process.stdout.write(`${imageLine(r, itemLabel(info), values.verbose === true)}\n`);
      }
    }
    await saver.videos?.finish();
  } catch (e) {
    await saver.videos?.abort();
    throw e;
  }
  progress.end();
  for (const note of detector.notes) process.stderr.write(`note: ${note}\n`);
  const summary = totals.lines(performance.now() - started);
  if (json && !jsonLines) process.stdout.write(`${JSON.stringify(entries)}\n`);
  else if (!json) process.stdout.write(summary.map((l) => `${l}\n`).join(''));
  if (save.dir) process.stderr.write(`Results saved to ${save.dir}${save.labels ? ` (labels in ${join(save.dir, 'labels')})` : ''}\n`);
  if (failed > 0) process.stderr.write(`${failed} of ${totals.count + failed} ${feed.hasVideo ? 'items' : 'images'} failed\n`);
  return failed > 0 ? 1 : 0;
}

export const detectCommand: CommandSpec = {
  name: 'detect',
  summary: 'Detect objects in images, folders or quoted globs, as Ultralytics\' predict (rect letterbox for weights, conf 0.25, iou 0.7).',
  positionals: 'SOURCES...',
  options: [
    'weights', 'engine', 'backend', 'device', 'threads', 'imgsz', 'rect', 'square', 'batch', 'workers', 'processing', 'half', 'int8', 'precision-policy', 'calib',
    'timing-cache', 'fp32-math',
    'conf', 'iou', 'max-det', 'classes', 'agnostic', 'save-dir', 'no-save', 'save-txt', 'save-conf', 'line-width',
    'hide-labels', 'hide-conf', 'vid-stride', 'json', 'verbose', 'quiet',
  ],
  run: detect,
};

