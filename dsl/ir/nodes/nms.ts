import { expectInputs, expectRank, type InferFn, layerError, type NodeBase, type NodeFields } from '../node-base.js';
import { type Dim, formatType, type TensorType, tensorType } from '../tensor-type.js';

export const BOX_CODINGS = ['corners', 'centerSizes'] as const;
/** 'corners': (x1, y1, x2, y2), any two diagonal corners; 'centerSizes': (x_center, y_center, width, height). */
export type BoxCoding = (typeof BOX_CODINGS)[number];

/**
 * The largest TopK box limit TensorRT accepts (INMSLayer::setTopKBoxLimit; 2000 on SM 5.3 and 6.2,
 * which TensorRT 10 no longer supports). It is also the default.
 */
export const NMS_TOPK_LIMIT = 5000;
/** TensorRT takes maxOutputBoxesPerClass as an int32 scalar. */
const INT32_MAX = 2 ** 31 - 1;
/** Coordinates per box. */
export const BOX_VALUES = 4;
/** A row of the selected indices: (batch, class, box). */
export const SELECTED_INDEX_FIELDS = 3;

/**
 * Non-maximum suppression per batch item and per class, as TensorRT's INMSLayer:
 * inputs boxes [B, N, 4] (the same box for every class) and scores [B, N, C], float32 or float16;
 * a box is a candidate for class c when its score is strictly greater than `scoreThreshold`; per
 * batch item only the `topK` best candidates are considered; candidates are taken by score and
 * kept unless their IoU with a box already kept for the same class is greater than `iouThreshold`;
 * at most `maxOutputBoxesPerClass` per batch item and class.
 *
 * Outputs: selectedIndices int32 [K, 3], rows (batch, class, box); numOutputBoxes int32 [] holding
 * K. K depends on the data: the IR writes it as a symbol of its own, `selectedCountDim(layer)`, at
 * most B·C·min(N, maxOutputBoxesPerClass). Backends differ in the order of the rows (TensorRT: by
 * batch, then score; ONNX NonMaxSuppression: by batch, class, then score) and the ONNX export does
 * not apply `topK`; see dsl/onnx/handlers/detection.ts.
 */
export interface NmsNode extends NodeBase<'NMS'> {
  readonly boxCoding: BoxCoding;
  readonly maxOutputBoxesPerClass: number;
  readonly iouThreshold: number;
  readonly scoreThreshold: number;
  readonly topK: number;
}

/** The symbol naming the data-dependent row count of an NMS layer's selected indices. */
export function selectedCountDim(layer: string): string {
  return `${layer}:selected`;
}

function checkAttributes(node: NodeFields<NmsNode>): void {
  if (!(BOX_CODINGS as readonly string[]).includes(node.boxCoding)) {
    throw layerError(node, `boxCoding must be one of ${BOX_CODINGS.join(', ')}, got '${String(node.boxCoding)}'`);
  }
  const m = node.maxOutputBoxesPerClass;
  if (!Number.isInteger(m) || m < 1 || m > INT32_MAX) throw layerError(node, `maxOutputBoxesPerClass must be an integer in [1, ${INT32_MAX}], got ${m}`);
  if (!(node.iouThreshold >= 0 && node.iouThreshold <= 1)) throw layerError(node, `iouThreshold must be in [0, 1], got ${node.iouThreshold}`);
  if (!Number.isFinite(node.scoreThreshold)) throw layerError(node, `scoreThreshold must be a finite number, got ${node.scoreThreshold}`);
  const k = node.topK;
  if (!Number.isInteger(k) || k < 1 || k > NMS_TOPK_LIMIT) throw layerError(node, `topK must be an integer in [1, ${NMS_TOPK_LIMIT}], got ${k}`);
}

function checkInputs(node: NodeFields<NmsNode>, boxes: TensorType, scores: TensorType): void {
  expectRank(node, boxes, 3, 'boxes [batch, boxes, 4]');
  expectRank(node, scores, 3, 'scores [batch, boxes, classes]');
  if (boxes.dtype !== scores.dtype || (boxes.dtype !== 'float32' && boxes.dtype !== 'float16')) {
    throw layerError(node, `boxes and scores must both be float32 or both float16, found ${formatType(boxes)} and ${formatType(scores)}`);
  }
  const [bBatch, bCount, coords] = boxes.shape as [Dim, Dim, Dim];
  const [sBatch, sCount] = scores.shape as [Dim, Dim, Dim];
  if (coords !== BOX_VALUES) throw layerError(node, `boxes must be [batch, boxes, ${BOX_VALUES}], found ${formatType(boxes)}`);
  if (bBatch !== sBatch || bCount !== sCount) {
    throw layerError(node, `boxes ${formatType(boxes)} and scores ${formatType(scores)} must agree on [batch, boxes] (scores are [batch, boxes, classes])`);
  }
}

export const inferNms: InferFn<NmsNode> = (node, inputs) => {
  expectInputs(node, inputs, 2);
  checkAttributes(node);
  checkInputs(node, inputs[0]!, inputs[1]!);
  return [tensorType('int32', [selectedCountDim(node.name), SELECTED_INDEX_FIELDS]), tensorType('int32', [])];
};
