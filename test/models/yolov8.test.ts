import { describe, expect, it } from 'vitest';
import { foldBatchNorm } from '../../dsl/passes/fold-batch-norm.js';
import { graphStats } from '../../dsl/stats.js';
import { buildYolov8 } from '../../models/yolov8/model.js';

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

  it('rejects unknown scales, class counts and image sizes', () => {
    expect(() => buildYolov8({ scale: 'q', nc: 80 })).toThrow(/unknown model 'q'/);
    expect(() => buildYolov8({ scale: 'n', nc: 0 })).toThrow(/class count/);
    expect(() => buildYolov8({ scale: 'n', nc: 80, imgsz: [640, 630] })).toThrow(/multiples of 32/);
  });
});
