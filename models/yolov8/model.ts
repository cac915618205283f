/**
 * Builds a YOLOv8 detection graph for any scale and class count from the layer table.
 */
import { ErrorCode, fail } from '../../common/errors.js';
import { GraphBuilder, type Tensor } from '../../dsl/builder.js';
import type { Graph } from '../../dsl/ir/graph.js';
import { YOLOV8_LAYERS, type LayerRow } from './architecture.js';
import { C2f, Conv, SPPF } from './blocks.js';
import { Detect } from './detect.js';
import { imageInput, type ImageInputDType } from './input.js';
import { detectNms, NMS_OUTPUTS, type Yolov8NmsOptions } from './nms.js';
import { parseScale, scaledChannels, scaledRepeats, YOLOV8_SCALES, type Yolov8ScaleName } from './scales.js';

export interface Yolov8Options {
  /** 'n' … 'x' or 'yolov8n' … 'yolov8x'. */
  readonly scale: Yolov8ScaleName | string;
  /** Number of classes (80 for COCO). */
  readonly nc: number;
  /** Class names, length nc; defaults to 'class0', … */
  readonly names?: readonly string[];
  /** Input size [h, w], multiples of the largest stride (32). Default [640, 640]. */
  readonly imgsz?: readonly [number, number];
  /** The batch dimension: a symbol (default 'batch') or a fixed size. */
  readonly batch?: string | number;
  /** NMS in the graph (models/yolov8/nms.ts): adds the outputs NMS_OUTPUTS. Default none. */
  readonly nms?: Yolov8NmsOptions;
  /** The image input's dtype (models/yolov8/input.ts): float32 in [0, 1] (default) or the uint8 bytes. */
  readonly input?: ImageInputDType;
}

const MAX_STRIDE = 32;
const INPUT_CHANNELS = 3;
export const DEFAULT_IMGSZ: readonly [number, number] = [640, 640];

function resolveFrom(from: number, index: number): number {
  return from < 0 ? index + from : from;
}

/**
 * The largest input side accepted: 16384 px (a 16k x 16k fp32 input is 3 GiB), far above any
 * YOLOv8 deployment, so an absurd size fails here with a typed error instead of an allocation.
 */
export const MAX_INPUT_SIDE = 16384;

export function buildYolov8(options: Yolov8Options): Graph {
  const scaleName = parseScale(options.scale);
  const scale = YOLOV8_SCALES[scaleName];
  const imgsz = options.imgsz ?? DEFAULT_IMGSZ;
  const { nc } = options;
  if (!Number.isInteger(nc) || nc < 1) fail(ErrorCode.ModelSpec, `class count must be a positive integer, got ${nc}`);
  if (imgsz.some((d) => !Number.isInteger(d) || d < MAX_STRIDE || d % MAX_STRIDE !== 0 || d > MAX_INPUT_SIDE)) {
    fail(ErrorCode.ModelSpec, `image size [${imgsz.join(', ')}] must be positive multiples of ${MAX_STRIDE}, at most ${MAX_INPUT_SIDE}`);
  }
  const names = options.names ?? Array.from({ length: nc }, (_, i) => `class${i}`);
  if (names.length !== nc) fail(ErrorCode.ModelSpec, `${names.length} class names given for ${nc} classes`);

  const b = new GraphBuilder(`yolov8${scaleName}`);
  const images = imageInput(b, [options.batch ?? 'batch', INPUT_CHANNELS, imgsz[0], imgsz[1]], options.input);
  const model = b.root().list('model');
  const outputs: Tensor[] = [];
  let strides: number[] = [];

  YOLOV8_LAYERS.forEach((row: LayerRow, i) => {
    const m = model.at(i);
    const x = row.from === -1 ? (outputs[i - 1] ?? images) : images;
    const ins = Array.isArray(row.from) ? row.from.map((f: number) => outputs[resolveFrom(f, i)]!) : [x];
    switch (row.block) {
      case 'Conv': outputs.push(Conv(m, x, scaledChannels(row.c2, scale), row.k, row.s)); break;
      case 'C2f': outputs.push(C2f(m, x, scaledChannels(row.c2, scale), scaledRepeats(row.n, scale), row.shortcut)); break;
      case 'SPPF': outputs.push(SPPF(m, x, scaledChannels(row.c2, scale), row.k)); break;
      case 'Upsample': outputs.push(m.upsample(x, row.scale)); break;
      case 'Concat': outputs.push(m.concat(ins, 1)); break;
      case 'Detect': {
        const head = Detect(m, ins, { nc, imgsz });
        strides = head.strides;
        outputs.push(head.output);
        break;
      }
    }
  });
  const output0 = outputs[outputs.length - 1]!; // the Detect head, the table's last row
  b.output('output0', output0);
  if (options.nms) {
    const selected = detectNms(model.at(YOLOV8_LAYERS.length - 1).child('nms'), output0, nc, options.nms);
    b.output(NMS_OUTPUTS.indices, selected.indices);
    b.output(NMS_OUTPUTS.count, selected.count);
  }
  return b.build({ model: `yolov8${scaleName}`, task: 'detect', scale: scaleName, nc, names, strides, imgsz: [imgsz[0], imgsz[1]] });
}
