import { describe, expect, it } from 'vitest';
import { foldBatchNorm } from '../../dsl/passes/fold-batch-norm.js';
import { graphStats } from '../../dsl/stats.js';
import { NMS_TOPK_LIMIT, selectedCountDim } from '../../dsl/ir/nodes/nms.js';
import { buildYolov8 } from '../../models/yolov8/model.js';
import { NMS_OUTPUTS } from '../../models/yolov8/nms.js';

// Ultralytics' own summaries of the fused models (model.info() after fuse, imgsz 640).
const ULTRALYTICS_FUSED = {
  n: { parameters: 3_151_904, gflops: 8.7 },
  s: { parameters: 11_156_544, gflops: 28.6 },
  m: { parameters: 25_886_080, gflops: 78.9 },
  l: { parameters: 43_668_288, gflops: 165.2 },
  x: { parameters: 68_200_608, gflops: 257.8 },
} as const;

describe('YOLOv8 in the DSL', () => {
  it.each(Object.entries(ULTRALYTICS_FUSED))('yolov8%s has Ultralytics\' fused parameter count and GFLOPs', (scale, expected) => {
    const stats = graphStats(foldBatchNorm(buildYolov8({ scale, nc: 80 })));
    expect(stats.parameters).toBe(expected.parameters);
    expect(stats.gflops.toFixed(1)).toBe(expected.gflops.toFixed(1));
  });

  it('gives output0 [batch, 4 + nc, anchors] for any class count and image size', () => {
    const g = buildYolov8({ scale: 'n', nc: 3, imgsz: [320, 480] });
    const out = g.nodes.at(-1)!;
    expect(out.name).toBe('output0');
    expect(out.outputs[0]!.type.shape).toEqual(['batch', 7, (40 * 60) + (20 * 30) + (10 * 15)]);
    expect(g.meta.strides).toEqual([8, 16, 32]);
  });

  it('names the DFL and head layers as the official export does', () => {
    const names = buildYolov8({ scale: 'n', nc: 80 }).nodes.map((n) => n.name);
    for (const name of ['/model.22/dfl/conv/Conv', '/model.22/cv2.0/cv2.0.2/Conv', '/model.22/cv3.2/cv3.2.1/conv/Conv',
      '/model.9/m_2/MaxPool', '/model.2/m.0/Add', '/model.22/Concat_5', '/model.22/dfl/Softmax']) {
      expect(names).toContain(name);
    }
  });

  it('appends NMS only when asked: the default graph is a prefix of the one with NMS, unchanged', () => {
    const plain = buildYolov8({ scale: 'n', nc: 3 });
    const withNms = buildYolov8({ scale: 'n', nc: 3, nms: { iouThreshold: 0.6, scoreThreshold: 0.1, maxPerClass: 50 } });
    expect(plain.nodes.some((n) => n.kind === 'NMS')).toBe(false);
    expect(withNms.nodes.slice(0, plain.nodes.length)).toEqual(plain.nodes);
    expect(withNms.meta).toEqual(plain.meta);
    const tail = withNms.nodes.slice(plain.nodes.length);
    const layer = '/model.22/nms/NonMaxSuppression';
    expect(tail.map((n) => [n.kind, n.name, n.inputs, n.outputs.map((o) => o.type.shape)])).toEqual([
      ['Split', '/model.22/nms/Split', ['/model.22/Concat_5_output_0'], [['batch', 4, 8400], ['batch', 3, 8400]]],
      ['Shuffle', '/model.22/nms/Transpose', ['/model.22/nms/Split_output_0'], [['batch', 8400, 4]]],
      ['Shuffle', '/model.22/nms/Transpose_1', ['/model.22/nms/Split_output_1'], [['batch', 8400, 3]]],
      ['NMS', layer, ['/model.22/nms/Transpose_output_0', '/model.22/nms/Transpose_1_output_0'], [[selectedCountDim(layer), 3], []]],
      ['Output', NMS_OUTPUTS.indices, [`${layer}_output_0`], [[selectedCountDim(layer), 3]]],
      ['Output', NMS_OUTPUTS.count, [`${layer}_output_1`], [[]]],
    ]);
    expect(tail[3]).toMatchObject({ boxCoding: 'centerSizes', maxOutputBoxesPerClass: 50, iouThreshold: 0.6, scoreThreshold: 0.1, topK: NMS_TOPK_LIMIT });
  });

  it('rejects NMS settings TensorRT would not take, naming the layer', () => {
    expect(() => buildYolov8({ scale: 'n', nc: 80, nms: { iouThreshold: 0.7, scoreThreshold: 0.25, maxPerClass: 300, topK: 8400 } }))
      .toThrow(/^NMS layer '\/model.22\/nms\/NonMaxSuppression': topK must be an integer in \[1, 5000\], got 8400$/);
  });

  it('rejects unknown scales, class counts and image sizes', () => {
    expect(() => buildYolov8({ scale: 'q', nc: 80 })).toThrow(/unknown model 'q'/);
    expect(() => buildYolov8({ scale: 'n', nc: 0 })).toThrow(/class count/);
    expect(() => buildYolov8({ scale: 'n', nc: 80, imgsz: [640, 630] })).toThrow(/multiples of 32/);
  });
});
