/**
 * NMS inside the graph, opt-in (`buildYolov8({ ..., nms })`): the Detect output [B, 4 + nc, anchors]
 * is split into boxes (cx, cy, w, h in input pixels) and class scores, each transposed to the
 * layout TensorRT's INMSLayer takes ([B, anchors, 4] and [B, anchors, nc]), then one NMS layer with
 * center-sizes coding. The layers live under `/model.22/nms/`, so precision patterns for the head
 * cover them. The graph gains two outputs beside output0, which stays so a host can gather the
 * boxes and scores of the selected rows.
 *
 * What it selects is per class: a box may be kept for several classes (Ultralytics' multi-label
 * NMS, as `yolo val` runs it), at most `maxPerClass` per image and class, with no bound per image.
 */
import type { Module, Tensor } from '../../dsl/builder.js';
import { BOX_VALUES } from '../../dsl/ir/nodes/nms.js';

export interface Yolov8NmsOptions {
  /** A box is dropped when its IoU with a kept box of the same class is greater than this. */
  readonly iouThreshold: number;
  /** A class score must be greater than this. */
  readonly scoreThreshold: number;
  /** Most boxes kept per image and class. */
  readonly maxPerClass: number;
  /** Most candidates considered per image (TensorRT's TopK box limit); default its maximum, 5000. */
  readonly topK?: number;
}

/** The graph outputs NMS adds: rows (batch, class, anchor) int32 [K, 3], and K as an int32 scalar. */
export const NMS_OUTPUTS = { indices: 'selected_indices', count: 'num_selected' } as const;

/** [B, C, anchors] -> [B, anchors, C] */
const ANCHORS_FIRST = [0, 2, 1];

export function detectNms(m: Module, output0: Tensor, nc: number, options: Yolov8NmsOptions): { indices: Tensor; count: Tensor } {
  const [xywh, scores] = m.split(output0, [BOX_VALUES, nc], 1) as [Tensor, Tensor];
  return m.nms(m.transpose(xywh, ANCHORS_FIRST), m.transpose(scores, ANCHORS_FIRST), {
    boxCoding: 'centerSizes',
    maxOutputBoxesPerClass: options.maxPerClass,
    iouThreshold: options.iouThreshold,
    scoreThreshold: options.scoreThreshold,
    ...(options.topK !== undefined ? { topK: options.topK } : {}),
  });
}
