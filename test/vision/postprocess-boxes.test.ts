/**
 * vision/boxes.ts: xywh2xyxy, IoU as torchvision computes it, scale_boxes' gain/pad (with Python's
 * round half to even), scale_boxes and clip_boxes. Expected values are worked out by hand, except the
 * "torch" cases, which are rows that Ultralytics 8.0.232's scale_boxes produced under torch 2.11 (CPU)
 * from yolov8n's official ONNX output on bus.jpg and zidane.jpg.
 */
import { describe, expect, it } from 'vitest';
import { type Box, boxIou, clipBox, letterboxGainPad, scaleBoxes, xywh2xyxy } from '../../vision/boxes.js';

const f = Math.fround;

describe('xywh2xyxy', () => {
  it('turns a centre and size into corners', () => {
    expect(xywh2xyxy([10, 20, 4, 6])).toEqual([8, 17, 12, 23]);
  });

  it('rounds each step to float32, as on a float32 tensor', () => {
    const [cx, cy, w, h] = [f(100.1), f(50.3), f(20.7), f(10.9)];
    expect(xywh2xyxy([cx, cy, w, h])).toEqual([f(cx - f(w / 2)), f(cy - f(h / 2)), f(cx + f(w / 2)), f(cy + f(h / 2))]);
    expect(xywh2xyxy([cx, cy, w, h]).every((v) => v === f(v))).toBe(true);
  });
});

describe('boxIou (torchvision CPU nms arithmetic)', () => {
  it('is 1 for identical boxes and 0 for disjoint or touching ones', () => {
    expect(boxIou([0, 0, 10, 10], [0, 0, 10, 10])).toBe(1);
    expect(boxIou([0, 0, 10, 10], [20, 20, 30, 30])).toBe(0);
    expect(boxIou([0, 0, 10, 10], [10, 0, 20, 10])).toBe(0);
  });

  it('uses areas (x2 - x1) * (y2 - y1) without +1', () => {
    expect(boxIou([0, 0, 10, 10], [5, 0, 15, 10])).toBe(f(50 / 150));
  });

  it('gives float32(0.7), which is below 0.7, for 70 / 100', () => {
    const iou = boxIou([0, 0, 10, 10], [0, 0, 10, 7]);
    expect(iou).toBe(f(0.7));
    expect(iou > 0.7).toBe(false);
  });

  it('is NaN for two empty boxes (0 / 0), which never suppresses', () => {
    expect(boxIou([5, 5, 5, 5], [5, 5, 5, 5])).toBeNaN();
  });
});

describe("letterboxGainPad (scale_boxes without ratio_pad)", () => {
  it('square input from a portrait image (bus.jpg, 810 x 1080)', () => {
    const { gain, pad } = letterboxGainPad([640, 640], [1080, 810]);
    expect(gain).toBe(640 / 1080);
    expect(pad).toEqual([80, 0]); // round(79.9), round(-0.1)
  });

  it('square and rectangular inputs from a landscape image (zidane.jpg, 1280 x 720)', () => {
    expect(letterboxGainPad([640, 640], [720, 1280])).toEqual({ gain: 0.5, pad: [0, 140] });
    expect(letterboxGainPad([384, 640], [720, 1280])).toEqual({ gain: 0.5, pad: [0, 12] }); // round(11.9)
  });

  it("rounds an exact half to even, like Python's round", () => {
    // gain = min(32 / 5, 34 / 2) = 6.4; (34 - 2 * 6.4) / 2 - 0.1 == 10.5 exactly in double
    expect((34 - 2 * 6.4) / 2 - 0.1).toBe(10.5);
    expect(letterboxGainPad([32, 34], [5, 2]).pad[0]).toBe(10); // Math.round would give 11
    // gain = 6.8; (32 - 1 * 6.8) / 2 - 0.1 == 12.5
    expect(letterboxGainPad([32, 34], [1, 5]).pad[1]).toBe(12);
  });
});

describe('scaleBoxes (scale_boxes + clip_boxes)', () => {
  it('removes the padding and the gain of a square letterbox', () => {
    // original 320 x 640 into 640 x 640: gain 1, pad y = round(159.9) = 160
    expect(scaleBoxes([[10, 170, 50, 200]], [640, 640], [320, 640])).toEqual([[10, 10, 50, 40]]);
  });

  it('handles a rectangular letterbox', () => {
    // original 720 x 1280 into 384 x 640: gain 0.5, pad (0, 12)
    expect(scaleBoxes([[100, 52, 200, 112]], [384, 640], [720, 1280])).toEqual([[200, 80, 400, 200]]);
  });

  it('uses ratio_pad as given: gain = ratio[0], pad not rounded', () => {
    const boxes = scaleBoxes([[10.5, 20, 30.5, 40]], [640, 640], [1000, 1000], { ratio: [0.5, 0.25], pad: [0.5, 12] });
    expect(boxes).toEqual([[20, 16, 60, 56]]);
  });

  it('clips to the original image', () => {
    expect(scaleBoxes([[-5, -3, 700, 500]], [480, 640], [480, 640])).toEqual([[0, 0, 640, 480]]);
    expect(clipBox([Number.NaN, 5, 10, 10], [8, 8])).toEqual([Number.NaN, 5, 8, 8]);
  });

  it('divides in float32 by the float32 gain, as torch does with a Python scalar', () => {
    const gain = 640 / 1080;
    const y1 = 137.0331268310547; // a bus.jpg detection's y1 (pad y is 0)
    const [b] = scaleBoxes([[100, y1, 200, 300]], [640, 640], [1080, 810]);
    expect(b![1]).toBe(f(y1 / f(gain)));
    expect(b![1]).toBe(231.24339294433594); // what torch gave
    expect(f(y1 / gain)).toBe(231.243408203125); // dividing in double would give this
  });

  it('matches Ultralytics under torch on real detections (bus.jpg and zidane.jpg)', () => {
    const bus: Box[] = [
      [477.64404296875, 227.91058349609375, 560.0096435546875, 521.4915161132812],
      [211.28976440429688, 241.3075408935547, 283.6896667480469, 507.39886474609375],
      [109.79197692871094, 235.66156005859375, 224.8516387939453, 536.484375],
      [98.37799072265625, 137.0331268310547, 554.5781860351562, 460.54241943359375],
      [80.27626037597656, 325.36651611328125, 115.08613586425781, 514.519775390625],
    ];
    expect(scaleBoxes(bus, [640, 640], [1080, 810])).toEqual([
      [671.0242919921875, 384.59912109375, 810, 880.0169067382812],
      [221.55148315429688, 407.20648193359375, 343.726318359375, 856.235595703125],
      [50.27396011352539, 397.67889404296875, 244.4371337890625, 905.3173828125],
      [31.012859344482422, 231.24339294433594, 800.8507080078125, 777.1653442382812],
      [0.4661893844604492, 549.0559692382812, 59.207855224609375, 868.2521362304688],
    ]);
    const zidane: Box[] = [
      [56.45573425292969, 238.60409545898438, 556.4125366210938, 495.5587463378906],
      [374.302978515625, 160.82733154296875, 572.065185546875, 495.40496826171875],
      [218.15090942382812, 358.7389831542969, 261.4646911621094, 497.2569885253906],
    ];
    expect(scaleBoxes(zidane, [640, 640], [720, 1280])).toEqual([
      [112.91146850585938, 197.20819091796875, 1112.8250732421875, 711.1174926757812],
      [748.60595703125, 41.6546630859375, 1144.13037109375, 710.8099365234375],
      [436.30181884765625, 437.47796630859375, 522.9293823242188, 714.5139770507812],
    ]);
  });

  it('does not modify its input and rejects bad shapes', () => {
    const input: Box[] = [[10, 170, 50, 200]];
    scaleBoxes(input, [640, 640], [320, 640]);
    expect(input).toEqual([[10, 170, 50, 200]]);
    expect(() => scaleBoxes(input, [640, 0], [320, 640])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => scaleBoxes(input, [640, 640], [Number.NaN, 640])).toThrow(/originalShape/);
  });
});
