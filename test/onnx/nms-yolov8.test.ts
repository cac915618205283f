/**
 * yolov8n (official weights) with NMS in the graph, run by the CPU backend on bus.jpg and zidane.jpg
 * as one batch, against the host NMS of vision/nms.ts on the same output0 with the same thresholds.
 *
 * Like with like: the graph's NMS is per class (a box may be kept for several classes) with a bound
 * per class and none per image, so the host runs with multiLabel (one candidate per anchor and
 * class above the threshold, as `yolo val`) and without its image-level bounds (maxDet, maxNms).
 * The host separates classes by offsetting boxes (Ultralytics' batched NMS) where ONNX Runtime runs
 * one NMS per class; both compare a float32 IoU strictly with the threshold and both take a score
 * strictly above the threshold. The rows differ in order only: ONNX Runtime lists them by image,
 * class, then score; the host by image, then score. So the two are compared as sets of (image,
 * class, box corners, score), the graph's rows gathered from output0 as the host computes corners.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HostTensor, toFloat32 } from '../../common/host-tensor.js';
import type { EngineRunner } from '../../engine/backend.js';
import { onnxruntimeBackend } from '../../engine/backends/onnxruntime.js';
import { NMS_OUTPUTS, type Yolov8NmsOptions } from '../../models/yolov8/nms.js';
import { nonMaxSuppression } from '../../vision/nms.js';
import { dataPath } from '../data.js';
import { letterbox, stack } from '../images.js';
import { yolov8nWithNms } from '../nms-model.js';

const CLASSES = 80;
const CHANNELS = 4 + CLASSES;
const ANCHORS = 8400;
const INDEX_FIELDS = 3;
const f32 = Math.fround;

interface Selected {
  readonly image: number;
  readonly classId: number;
  readonly box: readonly number[];
  readonly score: number;
}

const key = (s: Selected): string => `${s.image} ${s.classId} ${s.box.join(',')} ${s.score}`;

/** The graph's rows with the corners and score read from output0 (xywh -> xyxy in float32, as vision/nms-candidates.ts). */
function gather(indices: HostTensor, output0: Float32Array): Selected[] {
  const flat = toFloat32(indices);
  const selected: Selected[] = [];
  for (let i = 0; i < flat.length; i += INDEX_FIELDS) {
    const [image, classId, anchor] = [flat[i]!, flat[i + 1]!, flat[i + 2]!];
    const at = (channel: number) => output0[(image * CHANNELS + channel) * ANCHORS + anchor]!;
    const [cx, cy, hw, hh] = [at(0), at(1), f32(at(2) / 2), f32(at(3) / 2)];
    selected.push({ image, classId, box: [f32(cx - hw), f32(cy - hh), f32(cx + hw), f32(cy + hh)], score: at(4 + classId) });
  }
  return selected;
}

function hostSelection(output0: Float32Array, batch: number, o: Yolov8NmsOptions): Selected[] {
  const unbounded = Number.MAX_SAFE_INTEGER;
  const kept = nonMaxSuppression(output0, { batch, channels: CHANNELS, anchors: ANCHORS }, {
    conf: o.scoreThreshold, iou: o.iouThreshold, multiLabel: true, maxDet: unbounded, maxNms: unbounded,
  });
  return kept.flatMap((dets, image) => dets.map((d) => ({ image, classId: d.classId, box: [...d.box], score: d.score })));
}

describe('yolov8n with NMS in the graph on the CPU backend, against the host NMS', () => {
  let images: HostTensor;

  beforeAll(async () => {
    images = stack(await Promise.all(['bus.jpg', 'zidane.jpg'].map(async (f) => (await letterbox(dataPath('images', f))).tensor)));
  });

  // `yolo predict`'s thresholds, then `yolo val`'s (many candidates, much suppression).
  const settings: [string, Yolov8NmsOptions][] = [
    ['conf 0.25, iou 0.7', { scoreThreshold: 0.25, iouThreshold: 0.7, maxPerClass: ANCHORS }],
    ['conf 0.001, iou 0.7', { scoreThreshold: 0.001, iouThreshold: 0.7, maxPerClass: ANCHORS }],
  ];

  describe.each(settings)('at %s', (_, options) => {
    let runner: EngineRunner;
    let out: Record<string, HostTensor>;
    let output0: Float32Array;

    beforeAll(async () => {
      const model = await yolov8nWithNms(options);
      runner = await onnxruntimeBackend.build(model.graph, model.params);
      out = await runner.run({ images });
      output0 = toFloat32(out.output0!);
    });

    afterAll(async () => {
      await runner?.dispose();
    });

    it('returns int32 indices [K, 3] and K as an int32 scalar, beside output0', () => {
      const indices = out[NMS_OUTPUTS.indices]!;
      const count = out[NMS_OUTPUTS.count]!;
      expect(out.output0!.shape).toEqual([2, CHANNELS, ANCHORS]);
      expect(indices.dtype).toBe('int32');
      expect(count).toMatchObject({ dtype: 'int32', shape: [] });
      expect(indices.shape).toEqual([toFloat32(count)[0], INDEX_FIELDS]);
    });

    it('selects exactly the boxes the host NMS keeps, per image and class', () => {
      const ours = gather(out[NMS_OUTPUTS.indices]!, output0);
      const host = hostSelection(output0, 2, options);
      expect(ours.length).toBeGreaterThan(0);
      expect(new Set(ours.map(key)).size).toBe(ours.length);
      expect(ours.map(key).sort()).toEqual(host.map(key).sort());
      expect(new Set(ours.map((s) => s.image))).toEqual(new Set([0, 1]));
    });

    it('lists rows by image, class, then score descending (ONNX Runtime\'s order)', () => {
      const selected = gather(out[NMS_OUTPUTS.indices]!, output0);
      for (let i = 1; i < selected.length; i++) {
        const [a, b] = [selected[i - 1]!, selected[i]!];
        const ordered = a.image < b.image || (a.image === b.image && (a.classId < b.classId || (a.classId === b.classId && a.score >= b.score)));
        expect(ordered, `row ${i}`).toBe(true);
      }
    });
  });

  it('keeps at most maxPerClass per image and class: with 1, the best candidate of each class the host keeps', async () => {
    const options = { scoreThreshold: 0.25, iouThreshold: 0.7, maxPerClass: 1 };
    const model = await yolov8nWithNms(options);
    const runner = await onnxruntimeBackend.build(model.graph, model.params);
    try {
      const out = await runner.run({ images });
      const output0 = toFloat32(out.output0!);
      const best = new Map<string, Selected>();
      for (const s of hostSelection(output0, 2, options)) {
        const k = `${s.image} ${s.classId}`;
        if (!best.has(k)) best.set(k, s); // the host lists each image's detections by score, descending
      }
      expect(gather(out[NMS_OUTPUTS.indices]!, output0).map(key).sort()).toEqual([...best.values()].map(key).sort());
    } finally {
      await runner.dispose();
    }
  });
});
