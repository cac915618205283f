/**
 * `netdef eval --weights FILE --data DIR`: mAP50-95 and mAP50 on a COCO- or YOLO-format dataset
 * (JSON keys `map50_95`, `map50`), per-class AP with --per-class.
 */
import { ErrorCode, fail } from '../../common/errors.js';
import { evaluate } from '../../engine/evaluate.js';
import { positiveInt, policy, required, str, type Values } from '../args.js';
import { Progress } from '../progress.js';
import { formatTable } from '../table.js';

export const evalUsage = 'netdef eval --weights FILE --data DIR [--format coco|yolo] [--annotations FILE] [--imgsz 640] [--rect] [--batch 16] [--per-class] [--json]';

export async function evalCommand(values: Values): Promise<number> {
  const weights = required(values, 'weights', 'the .pt or .safetensors file');
  const data = required(values, 'data', 'the dataset folder (images/ with annotations/*.json or labels/)');
  const format = str(values, 'format');
  if (format !== undefined && format !== 'coco' && format !== 'yolo') fail(ErrorCode.InvalidArgument, `--format must be coco or yolo, got '${format}'`);
  const annotations = str(values, 'annotations');
  const imgsz = positiveInt(values, 'imgsz');
  const batch = positiveInt(values, 'batch');
  const backend = str(values, 'backend');
  const prec = policy(values);
  const json = values.json === true;
  let progress: Progress | undefined;
  const report = await evaluate(weights, data, {
    ...(format ? { format } : {}), ...(annotations ? { annotations } : {}), ...(imgsz ? { imgsz } : {}), ...(batch ? { batch } : {}),
    ...(backend ? { backend } : {}), ...(prec ? { policy: prec } : {}), rect: values.rect === true,
    onProgress: (done, total) => {
      progress ??= Progress.forTerminal(total, 'images', json);
      progress.update(done);
    },
  });
  progress?.end();
  const perClass = report.perClass.filter((c) => c.ap50_95 >= 0);
  if (json) {
    const out = {
      map50_95: report.map50_95, map50: report.map50, map75: report.map75, stats: report.stats, images: report.images,
      detections: report.detections, mode: report.mode, imgsz: report.imgsz, format: report.format, dataset: report.dataset,
      ...(values['per-class'] ? { per_class: perClass.map((c) => ({ name: c.name, category_id: c.categoryId, ap50_95: c.ap50_95, ap50: c.ap50, instances: c.numGt })) } : {}),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return 0;
  }
  if (values['per-class']) {
    const rows = perClass.map((c) => [c.name, String(c.numGt), c.ap50_95.toFixed(3), c.ap50.toFixed(3)]);
    process.stdout.write(`${formatTable(['class', 'instances', 'AP50-95', 'AP50'], rows)}\n\n`);
  }
  process.stdout.write(`${report.dataset} (${report.format}, ${report.images} images, ${report.mode} ${report.imgsz}): `
    + `mAP50-95 ${report.map50_95.toFixed(4)}  mAP50 ${report.map50.toFixed(4)}\n`);
  return 0;
}
