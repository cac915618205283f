/**
 * The NMS node (dsl/ir/nodes/nms.ts) through the DSL: INMSLayer's layout (boxes [B, N, 4], scores
 * [B, N, C]), its outputs (int32 [K, 3] with a data-dependent K of its own, int32 []), and every bad
 * input or attribute refused with ERR_DSL_SHAPE naming the layer.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../common/errors.js';
import { GraphBuilder, type Tensor } from '../../dsl/builder.js';
import type { Dim } from '../../dsl/ir/tensor-type.js';
import { type NmsLayerOptions } from '../../dsl/options.js';
import { NMS_TOPK_LIMIT, selectedCountDim } from '../../dsl/ir/nodes/nms.js';
import { applyPrecision } from '../../dsl/passes/apply-precision.js';
import { parsePolicy } from '../../dsl/precision/policy.js';
import { thrownNetdefError } from '../thrown.js';

const LAYER = '/head/nms/NonMaxSuppression';
const OPTIONS: NmsLayerOptions = { boxCoding: 'centerSizes', maxOutputBoxesPerClass: 10, iouThreshold: 0.5, scoreThreshold: 0.25 };

function nms(boxShape: readonly Dim[], scoreShape: readonly Dim[], options: Partial<NmsLayerOptions> = {}, scoreDtype: 'float32' | 'float16' = 'float32') {
  const b = new GraphBuilder('t');
  const boxes = b.input('boxes', 'float32', boxShape);
  const scores = b.input('scores', scoreDtype, scoreShape);
  const selected = b.root().child('head').child('nms').nms(boxes, scores, { ...OPTIONS, ...options });
  return { b, ...selected };
}

describe('NMS node', () => {
  it('takes boxes [B, N, 4] and scores [B, N, C] and yields int32 [K, 3] and an int32 count', () => {
    const { indices, count } = nms(['batch', 8400, 4], ['batch', 8400, 80]);
    expect(indices.type).toEqual({ dtype: 'int32', shape: [selectedCountDim(LAYER), 3] });
    expect(count.type).toEqual({ dtype: 'int32', shape: [] });
    expect(indices.name).toBe(`${LAYER}_output_0`);
    expect(count.name).toBe(`${LAYER}_output_1`);
  });

  it('records its attributes, topK defaulting to TensorRT\'s limit', () => {
    const { b, indices, count } = nms([2, 100, 4], [2, 100, 3], { boxCoding: 'corners' });
    b.output('selected', indices);
    b.output('count', count);
    const node = b.build({ model: 't' }).nodes.find((n) => n.kind === 'NMS');
    expect(node).toMatchObject({ name: LAYER, boxCoding: 'corners', maxOutputBoxesPerClass: 10, iouThreshold: 0.5, scoreThreshold: 0.25, topK: NMS_TOPK_LIMIT });
    expect(nms([2, 100, 4], [2, 100, 3], { topK: 300 }).indices.type.shape).toEqual([selectedCountDim(LAYER), 3]);
  });

  it('computes in the precision the policy gives its name, and its int32 outputs stay int32', () => {
    const { b, indices, count } = nms(['batch', 16, 4], ['batch', 16, 2]);
    b.output('selected', indices);
    b.output('count', count);
    const typed = applyPrecision(b.build({ model: 't' }), parsePolicy('*:fp16'));
    const node = typed.nodes.find((n) => n.kind === 'NMS')!;
    expect(node.inputs).toEqual(['boxes/Cast_float16', 'scores/Cast_float16'].map((c) => `${c}_output_0`));
    expect(typed.nodes.filter((n) => n.kind === 'Output').map((n) => n.outputs[0]!.type.dtype)).toEqual(['int32', 'int32']);
  });

  const bad: [string, () => unknown, string][] = [
    ['scores in ONNX\'s [B, C, N] layout', () => nms(['batch', 8400, 4], ['batch', 80, 8400]), 'must agree on [batch, boxes]'],
    ['boxes with 5 values', () => nms([1, 10, 5], [1, 10, 2]), 'boxes must be [batch, boxes, 4]'],
    ['per-class boxes [B, N, C, 4]', () => nms([1, 10, 2, 4], [1, 10, 2]), 'boxes [batch, boxes, 4] must have rank 3'],
    ['scores of rank 2', () => nms([1, 10, 4], [10, 2]), 'scores [batch, boxes, classes] must have rank 3'],
    ['batch sizes that differ', () => nms([1, 10, 4], [2, 10, 2]), 'must agree on [batch, boxes]'],
    ['mixed dtypes', () => nms([1, 10, 4], [1, 10, 2], {}, 'float16'), 'must both be float32 or both float16, found float32[1, 10, 4] and float16[1, 10, 2]'],
    ['an IoU threshold above 1', () => nms([1, 10, 4], [1, 10, 2], { iouThreshold: 1.5 }), 'iouThreshold must be in [0, 1], got 1.5'],
    ['a NaN score threshold', () => nms([1, 10, 4], [1, 10, 2], { scoreThreshold: NaN }), 'scoreThreshold must be a finite number'],
    ['zero boxes per class', () => nms([1, 10, 4], [1, 10, 2], { maxOutputBoxesPerClass: 0 }), 'maxOutputBoxesPerClass must be an integer in [1, '],
    ['a fractional box count', () => nms([1, 10, 4], [1, 10, 2], { maxOutputBoxesPerClass: 2.5 }), 'maxOutputBoxesPerClass must be an integer'],
    ['topK beyond TensorRT\'s limit', () => nms([1, 10, 4], [1, 10, 2], { topK: NMS_TOPK_LIMIT + 1 }), `topK must be an integer in [1, ${NMS_TOPK_LIMIT}]`],
    ['an unknown box coding', () => nms([1, 10, 4], [1, 10, 2], { boxCoding: 'xyxy' as never }), "boxCoding must be one of corners, centerSizes, got 'xyxy'"],
  ];
  for (const [what, f, message] of bad) {
    it(`refuses ${what} with ERR_DSL_SHAPE naming the layer`, () => {
      const e = thrownNetdefError(f);
      expect(e.code).toBe(ErrorCode.DslShape);
      expect(e.message).toContain(`NMS layer '${LAYER}': `);
      expect(e.message).toContain(message);
      expect(e.details).toEqual({ layer: LAYER, kind: 'NMS' });
    });
  }

  it('refuses integer inputs', () => {
    const b = new GraphBuilder('t');
    const boxes: Tensor = b.input('boxes', 'int32', [1, 10, 4]);
    const scores: Tensor = b.input('scores', 'int32', [1, 10, 2]);
    expect(thrownNetdefError(() => b.root().nms(boxes, scores, OPTIONS)).message).toMatch(/^NMS layer '\/NonMaxSuppression': boxes and scores must both be float32 or both float16/);
  });
});
