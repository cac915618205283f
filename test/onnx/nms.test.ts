/**
 * The NMS node's ONNX export (dsl/onnx/handlers/detection.ts): the helper nodes that bridge INMSLayer's
 * layout to NonMaxSuppression's, and ONNX Runtime running it on four boxes and two classes whose
 * selection is worked out by hand below, in both box codings, in float16, and at the IoU boundary.
 */
import { describe, expect, it } from 'vitest';
import { fromFloat32, type HostTensor, toFloat32 } from '../../common/host-tensor.js';
import type { BoxCoding } from '../../dsl/ir/nodes/nms.js';
import { buildOnnxModel } from '../../dsl/onnx/export.js';
import { GraphAssembler, runOnOrt } from './helpers.js';

const NO_PARAMS = new Map<string, HostTensor>();

// Boxes A, B, C, D as corners; IoU(A, B) = 81 / 119 ≈ 0.68, C overlaps nothing, D equals A.
const CORNERS = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10]];
const CENTER_SIZES = CORNERS.map(([x1, y1, x2, y2]) => [(x1! + x2!) / 2, (y1! + y2!) / 2, x2! - x1!, y2! - y1!]);
// scores [box][class]
const SCORES = [[0.9, 0.3], [0.8, 0.95], [0.7, 0.05], [0.1, 0.6]];

interface Case {
  readonly coding: BoxCoding;
  readonly iou: number;
  readonly maxPerClass: number;
  readonly dtype?: 'float32' | 'float16';
}

function nmsGraph(c: Case) {
  const g = new GraphAssembler();
  const dtype = c.dtype ?? 'float32';
  const boxes = g.input('boxes', dtype, ['batch', 4, 4]);
  const scores = g.input('scores', dtype, ['batch', 4, 2]);
  const node = g.add('NMS', '/nms', {
    boxCoding: c.coding, maxOutputBoxesPerClass: c.maxPerClass, iouThreshold: c.iou, scoreThreshold: 0.2, topK: 100,
  }, [boxes, scores]);
  g.output('selected', node.outputs[0]!);
  g.output('count', node.outputs[1]!);
  return g.graph('nms');
}

async function run(c: Case): Promise<{ rows: number[][]; count: number; dtype: string }> {
  const dtype = c.dtype ?? 'float32';
  const boxes = fromFloat32(Float32Array.from((c.coding === 'corners' ? CORNERS : CENTER_SIZES).flat()), [1, 4, 4], dtype);
  const scores = fromFloat32(Float32Array.from(SCORES.flat()), [1, 4, 2], dtype);
  const out = await runOnOrt(nmsGraph(c), NO_PARAMS, { boxes, scores });
  const flat = Array.from(toFloat32(out.selected!));
  const rows = Array.from({ length: flat.length / 3 }, (_, i) => flat.slice(3 * i, 3 * i + 3));
  expect(out.count!.shape).toEqual([]);
  return { rows, count: toFloat32(out.count!)[0]!, dtype: out.selected!.dtype };
}

describe('NMS exported to ONNX NonMaxSuppression', () => {
  it('transposes the scores to [B, C, N], passes the thresholds as scalars and casts the indices and their count to int32', () => {
    const graph = buildOnnxModel(nmsGraph({ coding: 'centerSizes', iou: 0.5, maxPerClass: 7, dtype: 'float16' }), NO_PARAMS).graph;
    expect(graph.node.map((n) => [n.name, n.op_type])).toEqual([
      ['/nms/Cast_boxes', 'Cast'], ['/nms/Cast_scores', 'Cast'], ['/nms/Transpose', 'Transpose'],
      ['/nms', 'NonMaxSuppression'], ['/nms/Cast_indices', 'Cast'], ['/nms/Shape', 'Shape'], ['/nms/Gather', 'Gather'], ['/nms/Cast_count', 'Cast'],
      ['selected', 'Identity'], ['count', 'Identity'],
    ]);
    const nms = graph.node.find((n) => n.op_type === 'NonMaxSuppression')!;
    expect(nms.input).toEqual(['/nms/Cast_boxes_output_0', '/nms/Transpose_output_0', '/nms/max_output_boxes_per_class', '/nms/iou_threshold', '/nms/score_threshold']);
    expect(nms.attribute).toEqual([expect.objectContaining({ name: 'center_point_box', i: 1 })]);
    expect(graph.node.find((n) => n.op_type === 'Transpose')!.attribute![0]!.ints).toEqual([0, 2, 1]);
    expect(graph.initializer.map((t) => [t.name, t.dims, t.data_type])).toEqual([
      ['/nms/max_output_boxes_per_class', [], 7], ['/nms/iou_threshold', [], 1], ['/nms/score_threshold', [], 1], ['/nms/rows_index', [], 7],
    ]);
    expect(graph.output.map((o) => [o.name, o.type.tensor_type.elem_type, o.type.tensor_type.shape.dim])).toEqual([
      ['selected', 6, [{ dim_param: '/nms:selected' }, { dim_value: 3 }]],
      ['count', 6, []],
    ]);
  });

  // class 0: candidates A .9, B .8, C .7 (D .1 is below 0.2): A kept, B suppressed by A (0.68 > 0.5), C kept.
  // class 1: candidates B .95, D .6, A .3: B kept, D and A (equal boxes) suppressed by B.
  // ONNX Runtime lists rows by batch, class, then score.
  const EXPECTED = [[0, 0, 0], [0, 0, 2], [0, 1, 1]];

  it.each(['corners', 'centerSizes'] as const)('selects the hand-worked boxes with %s coding', async (coding) => {
    expect(await run({ coding, iou: 0.5, maxPerClass: 10 })).toEqual({ rows: EXPECTED, count: 3, dtype: 'int32' });
  });

  it('takes float16 boxes and scores', async () => {
    expect(await run({ coding: 'centerSizes', iou: 0.5, maxPerClass: 10, dtype: 'float16' })).toEqual({ rows: EXPECTED, count: 3, dtype: 'int32' });
  });

  it('keeps at most maxOutputBoxesPerClass per class', async () => {
    expect((await run({ coding: 'corners', iou: 0.5, maxPerClass: 1 })).rows).toEqual([[0, 0, 0], [0, 1, 1]]);
  });

  it('suppresses only above the IoU threshold: at 0.7, B (0.68) and D survive', async () => {
    // class 0: A, B, C; class 1: B, then D (IoU 0.68 with B) kept, A suppressed by D (IoU 1).
    expect((await run({ coding: 'corners', iou: 0.7, maxPerClass: 10 })).rows).toEqual([[0, 0, 0], [0, 0, 1], [0, 0, 2], [0, 1, 1], [0, 1, 3]]);
  });
});
