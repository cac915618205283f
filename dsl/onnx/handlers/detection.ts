/**
 * ONNX export of NMS as NonMaxSuppression (opset >= 11), so the CPU backend runs it. The IR node
 * has TensorRT's INMSLayer semantics (dsl/ir/nodes/nms.ts); where ONNX differs, helper nodes named
 * `<layer>/<label>` bridge:
 *  - scores: INMSLayer takes [B, N, C], ONNX [B, C, N]: a Transpose (perm 0, 2, 1);
 *  - float16 boxes and scores are cast to float32 (ONNX Runtime's CPU kernel takes float only);
 *  - boxCoding 'centerSizes' is center_point_box 1; 'corners' is center_point_box 0, which ONNX
 *    reads as (y1, x1, y2, x2): an IoU does not change when x and y trade places, so (x1, y1, x2, y2)
 *    boxes select the same indices;
 *  - maxOutputBoxesPerClass (int64), iouThreshold and scoreThreshold (float32) are scalar
 *    initializers `<layer>/max_output_boxes_per_class`, `<layer>/iou_threshold`, `<layer>/score_threshold`;
 *  - ONNX yields int64 [K, 3]: a Cast makes the IR's int32; the count (output 1, int32 []) is
 *    Shape -> Gather(0) -> Cast.
 * Two differences remain, documented in docs/tensorrt.md: `topK` is not applied (ONNX has no such
 * bound; the selection is the same when no batch item has more than topK candidates above the score
 * threshold), and the rows come in another order (ONNX Runtime: by batch, class, then score
 * descending; TensorRT: by batch, then score descending).
 */
import type { KindTable, NmsNode } from '../../ir/node.js';
import { SELECTED_INDEX_FIELDS } from '../../ir/nodes/nms.js';
import type { Dim } from '../../ir/tensor-type.js';
import { ONNX_DATA_TYPE } from '../proto.js';
import { attr, helperConst, helperNode, helperValue, type OnnxGraphBuilder } from '../builder.js';

const CENTER_POINT_BOX = { corners: 0, centerSizes: 1 } as const;
/** [B, N, C] -> [B, C, N] */
const SCORES_TO_ONNX = [0, 2, 1];

function toFloat32(b: OnnxGraphBuilder, node: NmsNode, input: string, label: string): string {
  const type = b.typeOf(node, input);
  if (type.dtype === 'float32') return input;
  const out = helperValue(node, label);
  b.node(node, { opType: 'Cast', name: helperNode(node, label), inputs: [input], outputs: [out], attributes: [attr.int('to', ONNX_DATA_TYPE.float32)] });
  b.valueInfo(out, { dtype: 'float32', shape: type.shape });
  return out;
}

function scoresByClass(b: OnnxGraphBuilder, node: NmsNode): string {
  const scores = toFloat32(b, node, node.inputs[1]!, 'Cast_scores');
  const shape = b.typeOf(node, node.inputs[1]!).shape;
  const out = helperValue(node, 'Transpose');
  b.node(node, { opType: 'Transpose', name: helperNode(node, 'Transpose'), inputs: [scores], outputs: [out], attributes: [attr.ints('perm', SCORES_TO_ONNX)] });
  b.valueInfo(out, { dtype: 'float32', shape: SCORES_TO_ONNX.map((p) => shape[p]!) });
  return out;
}

/** The selected indices as int32 (output 0) and their count as an int32 scalar (output 1). */
function indicesAndCount(b: OnnxGraphBuilder, node: NmsNode, selected: string): void {
  const indices = node.outputs[0]!;
  const count = node.outputs[1]!;
  const rows: Dim = indices.type.shape[0]!;
  b.valueInfo(selected, { dtype: 'int64', shape: [rows, SELECTED_INDEX_FIELDS] });
  b.node(node, { opType: 'Cast', name: helperNode(node, 'Cast_indices'), inputs: [selected], outputs: [indices.name], attributes: [attr.int('to', ONNX_DATA_TYPE.int32)] });

  const shape = helperValue(node, 'Shape');
  b.node(node, { opType: 'Shape', name: helperNode(node, 'Shape'), inputs: [selected], outputs: [shape] });
  b.valueInfo(shape, { dtype: 'int64', shape: [2] });
  const rowsAt = b.int64Initializer(node, helperConst(node, 'rows_index'), [0], []);
  const rowCount = helperValue(node, 'Gather');
  b.node(node, { opType: 'Gather', name: helperNode(node, 'Gather'), inputs: [shape, rowsAt], outputs: [rowCount], attributes: [attr.int('axis', 0)] });
  b.valueInfo(rowCount, { dtype: 'int64', shape: [] });
  b.node(node, { opType: 'Cast', name: helperNode(node, 'Cast_count'), inputs: [rowCount], outputs: [count.name], attributes: [attr.int('to', ONNX_DATA_TYPE.int32)] });
}

export function detectionHandlers(b: OnnxGraphBuilder): Pick<KindTable<void>, 'NMS'> {
  return {
    NMS: (node) => {
      const boxes = toFloat32(b, node, node.inputs[0]!, 'Cast_boxes');
      const scores = scoresByClass(b, node);
      const maxPerClass = b.int64Initializer(node, helperConst(node, 'max_output_boxes_per_class'), [node.maxOutputBoxesPerClass], []);
      const iou = b.float32Initializer(node, helperConst(node, 'iou_threshold'), [node.iouThreshold], []);
      const score = b.float32Initializer(node, helperConst(node, 'score_threshold'), [node.scoreThreshold], []);
      const selected = helperValue(node, 'NonMaxSuppression');
      b.node(node, {
        opType: 'NonMaxSuppression', name: node.name, inputs: [boxes, scores, maxPerClass, iou, score], outputs: [selected],
        attributes: [attr.int('center_point_box', CENTER_POINT_BOX[node.boxCoding])],
      });
      indicesAndCount(b, node, selected);
    },
  };
}
