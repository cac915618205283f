/**
 * vision/postprocess.ts: Ultralytics' DetectionPredictor.postprocess on a HostTensor, i.e. NMS then
 * scale_boxes per image (both tested on their own in nms.test.ts and postprocess-boxes.test.ts);
 * here the composition, labels, batch shapes, dtypes, presets and errors, on synthetic outputs.
 */
import { describe, expect, it } from 'vitest';
import { fromFloat32, hostTensor } from '../../common/host-tensor.js';
import { scaleBoxes } from '../../vision/boxes.js';
import { nonMaxSuppression } from '../../vision/nms.js';
import { type ImageShapes, postprocess, predictDefaults, valDefaults } from '../../vision/postprocess.js';
import { outputFromAnchors, syntheticOutput } from './postprocess-synthetic.js';

const f = Math.fround;
const spec = { seed: 21, batch: 2, nc: 6, anchors: 200, boxQuant: 16, scoreBits: 20 };
const output = syntheticOutput(spec);
const tensor = fromFloat32(output, [spec.batch, 4 + spec.nc, spec.anchors]);
const shapes: ImageShapes[] = [{ input: [640, 640], original: [480, 640] }, { input: [640, 640], original: [1000, 300] }];
const names = ['person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus'];

describe('postprocess', () => {
  it('is NMS followed by scale_boxes into each original image', () => {
    const layout = { batch: 2, channels: 10, anchors: 200 };
    for (const options of [predictDefaults, valDefaults]) {
      const expected = nonMaxSuppression(output, layout, options).map((dets, b) => {
        const boxes = scaleBoxes(dets.map((d) => d.box), shapes[b]!.input, shapes[b]!.original);
        return dets.map((d, k) => ({ box: boxes[k], score: d.score, classId: d.classId, label: names[d.classId] }));
      });
      const result = postprocess(tensor, shapes, options, names);
      expect(result).toEqual(expected);
      expect(result.every((dets) => dets.length > 0)).toBe(true);
    }
  });

  it('keeps boxes inside the original image', () => {
    for (const [b, dets] of postprocess(tensor, shapes, valDefaults).entries()) {
      const [h, w] = shapes[b]!.original;
      for (const { box } of dets) expect(box[0] >= 0 && box[1] >= 0 && box[2] <= w && box[3] <= h).toBe(true);
    }
  });

  it('labels with the class id when no names are given', () => {
    const [dets] = postprocess(tensor, shapes, predictDefaults);
    expect(dets!.every((d) => d.label === String(d.classId))).toBe(true);
  });

  it('uses one shapes entry for every image of the batch', () => {
    const same = postprocess(tensor, shapes[0]!);
    expect(same).toEqual(postprocess(tensor, [shapes[0]!, shapes[0]!]));
  });

  it('scales with ratioPad when given (the validator)', () => {
    const { data } = outputFromAnchors([[110, 70, 20, 40, f(0.9)]]); // xyxy [100, 50, 120, 90]
    const t = fromFloat32(data, [1, 5, 1]);
    const [dets] = postprocess(t, { input: [640, 640], original: [400, 400], ratioPad: { ratio: [0.5, 0.5], pad: [10, 20] } });
    expect(dets).toEqual([{ box: [180, 60, 220, 140], score: f(0.9), classId: 0, label: '0' }]);
  });

  it('accepts a float16 output (widened to float32) and a byte-offset float32 one', () => {
    const half = fromFloat32(output, tensor.shape, 'float16');
    expect(postprocess(half, shapes)[0]!.length).toBeGreaterThan(0);
    const bytes = new Uint8Array(tensor.data.byteLength + 2);
    bytes.set(tensor.data, 2);
    const unaligned = hostTensor('float32', tensor.shape, bytes.subarray(2));
    expect(postprocess(unaligned, shapes)).toEqual(postprocess(tensor, shapes));
  });

  it('has the Ultralytics predict and val presets', () => {
    expect(predictDefaults).toEqual({ conf: 0.25, iou: 0.7, maxDet: 300, multiLabel: false });
    expect(valDefaults).toEqual({ conf: 0.001, iou: 0.7, maxDet: 300, multiLabel: true });
  });

  it('rejects a wrong rank, an integer dtype or a shapes list of the wrong length', () => {
    const code = expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' });
    expect(() => postprocess(fromFloat32(output, [2, 2000]), shapes)).toThrow(code);
    expect(() => postprocess(hostTensor('int32', [1, 5, 1], new Uint8Array(20)), shapes[0]!)).toThrow(/floating-point/);
    expect(() => postprocess(tensor, [shapes[0]!])).toThrow(/1 image shapes for a batch of 2/);
  });
});
