/**
 * YOLOv8 scales, as in Ultralytics' `yolov8.yaml`: [depth multiple, width multiple, max channels].
 */
import { ErrorCode, fail } from '../../common/errors.js';

export interface Yolov8Scale {
  readonly depth: number;
  readonly width: number;
  readonly maxChannels: number;
}

export const YOLOV8_SCALES = {
  n: { depth: 0.33, width: 0.25, maxChannels: 1024 },
  s: { depth: 0.33, width: 0.5, maxChannels: 1024 },
  m: { depth: 0.67, width: 0.75, maxChannels: 768 },
  l: { depth: 1.0, width: 1.0, maxChannels: 512 },
  x: { depth: 1.0, width: 1.25, maxChannels: 512 },
} as const satisfies Record<string, Yolov8Scale>;

export type Yolov8ScaleName = keyof typeof YOLOV8_SCALES;
export const SCALE_NAMES = Object.keys(YOLOV8_SCALES) as Yolov8ScaleName[];

export function isScaleName(s: string): s is Yolov8ScaleName {
  return Object.hasOwn(YOLOV8_SCALES, s);
}

/** 'n' or 'yolov8n' (or 'yolov8n.yaml' / 'yolov8n.pt') → 'n'. */
export function parseScale(model: string): Yolov8ScaleName {
  const m = /^(?:yolov8)?([nsmlx])(?:\.(?:ya?ml|pt|safetensors))?$/i.exec(model.trim());
  const scale = m?.[1]?.toLowerCase();
  if (!scale || !isScaleName(scale)) {
    fail(ErrorCode.ModelSpec, `unknown model '${model}': expected one of ${SCALE_NAMES.map((s) => `yolov8${s}`).join(', ')}`);
  }
  return scale;
}

/** Channels after the width multiple, capped and rounded up to a multiple of 8 (Ultralytics' make_divisible). */
export function scaledChannels(c: number, scale: Yolov8Scale): number {
  const CHANNEL_DIVISOR = 8;
  return Math.ceil((Math.min(c, scale.maxChannels) * scale.width) / CHANNEL_DIVISOR) * CHANNEL_DIVISOR;
}

/** Repeats after the depth multiple (Ultralytics: max(round(n * depth), 1) when n > 1). */
export function scaledRepeats(n: number, scale: Yolov8Scale): number {
  return n > 1 ? Math.max(Math.round(n * scale.depth), 1) : n;
}
