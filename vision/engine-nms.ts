/**
 * Detections from an engine that ran NMS itself (built with `--nms`; models/yolov8/nms.ts): its
 * `selected_indices` rows (batch, class, anchor) are taken as they are, with each row's box and
 * score gathered from output0, so no NMS runs again on the host. Then, per image, as the host
 * pipeline does after NMS: a stricter confidence and the class filter, the highest `maxDet` scores,
 * boxes mapped back to the original image.
 *
 * The engine's NMS is per class (a box may be kept for several classes, as `yolo val` does); its
 * IoU threshold and lowest confidence were fixed when it was built, so asking for another IoU, a
 * lower confidence or class-agnostic NMS is refused rather than silently ignored.
 * Tested against the host NMS in test/vision/engine-nms.test.ts.
 */
import { ErrorCode, fail } from '../common/errors.js';
import { type HostTensor, toFloat32 } from '../common/host-tensor.js';
import type { Yolov8NmsOptions } from '../models/yolov8/nms.js';
import { NMS_OUTPUTS } from '../models/yolov8/nms.js';
import { type Box, scaleBoxes, xywh2xyxy } from './boxes.js';
import type { NmsOptions } from './nms.js';
import type { Detection, ImageShapes } from './postprocess.js';

/** Values per selected row: batch index, class, anchor. */
const ROW = 3;
const BOX_VALUES = 4;

/** Refuses NMS options the engine's own NMS cannot honour, naming the option. */
export function checkEngineNmsOptions(engine: Yolov8NmsOptions, options: NmsOptions): void {
  if (options.iou !== undefined && Math.fround(options.iou) !== Math.fround(engine.iouThreshold)) {
    fail(ErrorCode.InvalidArgument, `iou ${options.iou}: this engine runs NMS inside with iou ${engine.iouThreshold}, fixed at build time (rebuild with netdef build --nms --iou ${options.iou})`);
  }
  if (options.conf !== undefined && options.conf < engine.scoreThreshold) {
    fail(ErrorCode.InvalidArgument, `conf ${options.conf}: this engine's NMS keeps only scores above ${engine.scoreThreshold}, fixed at build time`);
  }
  if (options.agnostic) fail(ErrorCode.InvalidArgument, 'agnostic: this engine runs NMS per class inside; class-agnostic NMS needs an engine without --nms');
}

function int32Values(t: HostTensor, name: string): Int32Array {
  if (t.dtype !== 'int32') fail(ErrorCode.Backend, `engine output '${name}' should be int32, got ${t.dtype}`);
  return new Int32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
}

/** One image's kept rows, before scaling: box in input pixels, score, class. */
interface Row { readonly box: Box; readonly score: number; readonly classId: number }

export function detectionsFromEngineNms(
  outputs: Readonly<Record<string, HostTensor>>,
  engine: Yolov8NmsOptions,
  shapes: ImageShapes | readonly ImageShapes[],
  options: NmsOptions,
  names?: readonly string[],
): Detection[][] {
  const output0 = outputs['output0'];
  const indices = outputs[NMS_OUTPUTS.indices];
  const count = outputs[NMS_OUTPUTS.count];
  if (!output0 || !indices || !count) fail(ErrorCode.Backend, `an engine built with NMS must give output0, ${NMS_OUTPUTS.indices} and ${NMS_OUTPUTS.count}`);
  const [batch, channels, anchors] = output0.shape as [number, number, number];
  const values = toFloat32(output0);
  const rows = int32Values(indices, NMS_OUTPUTS.indices);
  const selected = Math.min(int32Values(count, NMS_OUTPUTS.count)[0] ?? 0, rows.length / ROW);
  const conf = Math.max(options.conf ?? engine.scoreThreshold, engine.scoreThreshold);
  const classes = options.classes ? new Set(options.classes) : undefined;
  const perImage: Row[][] = Array.from({ length: batch }, () => []);
  for (let k = 0; k < selected; k++) {
    const [b, c, a] = [rows[k * ROW]!, rows[k * ROW + 1]!, rows[k * ROW + 2]!];
    if (b < 0 || b >= batch || c < 0 || c >= channels - BOX_VALUES || a < 0 || a >= anchors) {
      fail(ErrorCode.Backend, `engine NMS row ${k} (${b}, ${c}, ${a}) is outside output0 [${batch}, ${channels}, ${anchors}]`);
    }
    const at = (ch: number): number => values[(b * channels + ch) * anchors + a]!;
    const score = at(BOX_VALUES + c);
    if (!(score > conf) || (classes && !classes.has(c))) continue;
    perImage[b]!.push({ box: xywh2xyxy([at(0), at(1), at(2), at(3)]), score, classId: c });
  }
  const shapeList = Array.isArray(shapes) ? (shapes as readonly ImageShapes[]) : new Array<ImageShapes>(batch).fill(shapes as ImageShapes);
  return perImage.map((found, b) => {
    const kept = found.sort((x, y) => y.score - x.score).slice(0, options.maxDet ?? found.length);
    const s = shapeList[b]!;
    const boxes = scaleBoxes(kept.map((r) => r.box), s.input, s.original, s.ratioPad);
    return kept.map((r, i) => ({ box: boxes[i]!, score: r.score, classId: r.classId, label: names?.[r.classId] ?? String(r.classId) }));
  });
}
