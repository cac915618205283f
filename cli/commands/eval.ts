/**
 * `netdef eval --weights FILE --data DIR|data.yaml`: Ultralytics' val. Prints the table Ultralytics
 * prints (all, then each class: images, instances, P, R, mAP50, mAP50-95) and the speed line; with
 * --json one JSON object (keys `map50_95`, `map50`, `precision`, `recall`, `per_class`, `times`).
 * Defaults are val's: YOLO labels, rect batches of 16 for weights (square for engine files),
 * conf 0.001, iou 0.7, 300 detections per image. Where netdef differs (the COCO JSON as ground
 * truth, COCOeval's 101-point mAP), it says so in a note.
 */
import { ErrorCode, fail } from '../../common/errors.js';
import { evaluate, type EvaluationReport } from '../../engine/evaluate.js';
import { valDefaults } from '../../vision/postprocess.js';
import { calibrationOf, policy, positiveInt, str, unitInterval, type Values } from '../args.js';
import { exclusive, type CommandSpec } from '../command.js';
import { placement } from '../device.js';
import { Progress } from '../progress.js';
import { formatTable } from '../table.js';

const DIGITS = 3;

function notes(report: EvaluationReport): string[] {
  const out = ['note: mAP is COCOeval\'s (101-point interpolated precision); Ultralytics val integrates its own curve, so mAP differs by about 1e-3'];
  if (report.format === 'coco') out.push('note: ground truth from the COCO JSON (crowd regions ignored as COCOeval does); Ultralytics val reads the YOLO labels (--format yolo)');
  out.push(...report.notes.map((n) => `note: ${n}`));
  return out;
}

function table(report: EvaluationReport): string {
  const row = (name: string, images: number, instances: number, p: number, r: number, m50: number, m: number): string[] =>
    [name, String(images), String(instances), p.toFixed(DIGITS), r.toFixed(DIGITS), m50.toFixed(DIGITS), m.toFixed(DIGITS)];
  const classes = report.perClass.filter((c) => c.numGt > 0);
  const instances = classes.reduce((sum, c) => sum + c.numGt, 0);
  const rows = [
    row('all', report.images, instances, report.precision, report.recall, report.map50, report.map50_95),
    ...classes.map((c) => row(c.name, c.numImages, c.numGt, c.precision, c.recall, c.ap50, c.ap50_95)),
  ];
  return formatTable(['Class', 'Images', 'Instances', 'P', 'R', 'mAP50', 'mAP50-95'], rows);
}

function speedLine(report: EvaluationReport): string {
  const t = report.times;
  return `Speed: ${t.decode.toFixed(1)}ms decode, ${t.preprocess.toFixed(1)}ms preprocess, ${t.inference.toFixed(1)}ms inference, ${t.postprocess.toFixed(1)}ms postprocess per image`
    + `${t.build > 0 ? `; engine builds ${(t.build / 1000).toFixed(2)} s apart` : ''}`;
}

function jsonReport(report: EvaluationReport): unknown {
  return {
    map50_95: report.map50_95, map50: report.map50, map75: report.map75, precision: report.precision, recall: report.recall,
    stats: report.stats, images: report.images, detections: report.detections, mode: report.mode, imgsz: report.imgsz,
    format: report.format, dataset: report.dataset, ...(report.split ? { split: report.split } : {}), method: 'cocoeval-101', times: report.times,
    per_class: report.perClass.filter((c) => c.numGt > 0).map((c) => ({
      name: c.name, category_id: c.categoryId, images: c.numImages, instances: c.numGt, precision: c.precision, recall: c.recall, ap50_95: c.ap50_95, ap50: c.ap50,
    })),
  };
}

async function evalRun(values: Values): Promise<number> {
  exclusive(values, 'engine', 'weights', 'an engine file holds its weights');
  exclusive(values, 'rect', 'square', 'choose one letterbox');
  const weights = str(values, 'engine') ?? str(values, 'weights');
  if (!weights) fail(ErrorCode.InvalidArgument, '--weights is required (the .pt or .safetensors file), or --engine FILE');
  const data = str(values, 'data');
  if (!data) fail(ErrorCode.InvalidArgument, '--data is required (a dataset folder or an Ultralytics data.yaml)');
  const format = str(values, 'format');
  if (format !== undefined && format !== 'coco' && format !== 'yolo') fail(ErrorCode.InvalidArgument, `--format must be coco or yolo, got '${format}'`);
  const annotations = str(values, 'annotations');
  if (annotations !== undefined && format === 'yolo') fail(ErrorCode.InvalidArgument, '--annotations names a COCO JSON; it contradicts --format yolo');
  const split = str(values, 'split');
  const imgsz = positiveInt(values, 'imgsz');
  const batch = positiveInt(values, 'batch');
  const workers = positiveInt(values, 'workers');
  const { backend, threads } = placement(values);
  const prec = policy(values);
  const calibration = await calibrationOf(values);
  const conf = unitInterval(values, 'conf');
  const iou = unitInterval(values, 'iou');
  const maxDet = positiveInt(values, 'max-det');
  const rect = values.rect === true ? true : values.square === true ? false : undefined;
  const json = values.json === true;
  let progress: Progress | undefined;
  const report = await evaluate(weights, data, {
    ...(format ? { format } : {}), ...(annotations ? { annotations } : {}), ...(split !== undefined ? { split } : {}), ...(imgsz ? { imgsz } : {}),
    ...(batch ? { batch } : {}), ...(backend ? { backend } : {}), ...(threads !== undefined ? { threads } : {}), ...(prec ? { policy: prec } : {}),
    ...(calibration ? { calibration } : {}), ...(rect !== undefined ? { rect } : {}), ...(workers !== undefined ? { workers } : {}),
    nms: { ...valDefaults, ...(conf !== undefined ? { conf } : {}), ...(iou !== undefined ? { iou } : {}), ...(maxDet !== undefined ? { maxDet } : {}) },
    onProgress: (done, total) => {
      progress ??= Progress.forTerminal(total, 'images', json);
      progress.update(done);
    },
  });
  progress?.end();
  if (json) {
    process.stdout.write(`${JSON.stringify(jsonReport(report))}\n`);
    return 0;
  }
  const header = `${report.dataset}${report.split ? ` [${report.split}]` : ''} (${report.format} ground truth, ${report.images} images, ${report.mode} ${report.imgsz}, ${report.detections} detections)`;
  const lines = values.quiet === true
    ? [`${header}: mAP50-95 ${report.map50_95.toFixed(4)}  mAP50 ${report.map50.toFixed(4)}`]
    : [header, table(report), speedLine(report), `mAP50-95 ${report.map50_95.toFixed(4)}  mAP50 ${report.map50.toFixed(4)}  (P and R at confidence ${report.confidence.toFixed(3)})`];
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const note of notes(report)) process.stderr.write(`${note}\n`);
  return 0;
}

export const evalCommand: CommandSpec = {
  name: 'eval',
  summary: 'mAP50-95, mAP50, P and R per class on a dataset, as Ultralytics\' val (YOLO labels, rect batches for weights, conf 0.001).',
  positionals: '',
  options: [
    'weights', 'engine', 'data', 'split', 'format', 'annotations', 'backend', 'device', 'threads', 'imgsz', 'rect', 'square', 'batch', 'workers',
    'half', 'int8', 'precision-policy', 'calib', 'conf', 'iou', 'max-det', 'json', 'quiet',
  ],
  run: evalRun,
};
