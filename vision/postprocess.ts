/**
 * From a raw YOLOv8 output to detections in original-image pixels, as Ultralytics 8.0.232
 * `DetectionPredictor.postprocess` (ultralytics/models/yolo/detect/predict.py) does it:
 * `non_max_suppression` (vision/nms.ts), then `scale_boxes(img.shape[2:], boxes, orig_img.shape)`
 * per image (vision/boxes.ts), which undoes the letterbox and clips to the original image.
 *
 * Presets: `predictDefaults` are what `yolo predict` uses (conf 0.25, iou 0.7, max_det 300, best class
 * only); `valDefaults` are what `DetectionValidator.postprocess` passes (conf 0.001, iou 0.7,
 * multi_label=True, agnostic=single_cls, max_det 300). The validator scales boxes with the dataset's
 * `ratio_pad`, which `ImageShapes.ratioPad` carries.
 *
 * A float16 output is widened to float32 first; Ultralytics running a half model on GPU does its NMS
 * in float16, which this does not imitate. Tested by test/vision/postprocess.test.ts.
 */
import { ErrorCode, fail } from '../common/errors.js';
import { float32View, type HostTensor } from '../common/host-tensor.js';
import { type Box, type RatioPad, type Shape2D, scaleBoxes } from './boxes.js';
import { type NmsDetection, type NmsOptions, nmsOnCandidates, nonMaxSuppression } from './nms.js';
import { type CandidateBatch, candidatesOf } from './device-candidates.js';

/** One detection in the original image. */
export interface Detection {
  /** [x1, y1, x2, y2] in original-image pixels, clipped to the image. */
  readonly box: Box;
  readonly score: number;
  readonly classId: number;
  /** The class name from `names`, or the class id as text when no name is known. */
  readonly label: string;
}

/** The sizes one image went through: the network input (letterboxed) and the original image. */
export interface ImageShapes {
  /** [height, width] of the network input (the batch tensor's spatial size). */
  readonly input: Shape2D;
  /** [height, width] of the original image. */
  readonly original: Shape2D;
  /** The letterbox's own gain and padding (as Ultralytics' dataset records it); derived when absent. */
  readonly ratioPad?: RatioPad;
}

/** `yolo predict` defaults. */
export const predictDefaults: Readonly<NmsOptions> = Object.freeze({ conf: 0.25, iou: 0.7, maxDet: 300, multiLabel: false });

/** `yolo val` defaults (pass `agnostic: true` for single_cls). */
export const valDefaults: Readonly<NmsOptions> = Object.freeze({ conf: 0.001, iou: 0.7, maxDet: 300, multiLabel: true });

/**
 * Detections per image from a raw output [batch, 4 + nc, anchors]. `shapes` is one entry per image,
 * or one entry for every image of the batch.
 */
export function postprocess(
  output0: HostTensor,
  shapes: ImageShapes | readonly ImageShapes[],
  options: NmsOptions = predictDefaults,
  names?: readonly string[],
): Detection[][] {
  const [batch, channels, anchors] = checkOutput(output0);
  const perImage = shapesPerImage(shapes, batch);
  const kept = nonMaxSuppression(float32View(output0), { batch, channels, anchors }, options);
  return kept.map((dets, b) => toDetections(dets, perImage[b]!, names));
}

/** NMS's boxes mapped back to the original image, with their class names. */
function toDetections(dets: readonly NmsDetection[], s: ImageShapes, names: readonly string[] | undefined): Detection[] {
  const boxes = scaleBoxes(dets.map((d) => d.box), s.input, s.original, s.ratioPad);
  return dets.map((d, k) => ({ box: boxes[k]!, score: d.score, classId: d.classId, label: names?.[d.classId] ?? String(d.classId) }));
}

/**
 * postprocess() for candidates selected on the GPU (engine/image-run.ts): the same NMS, boxes
 * mapped back the same way; `nc` is the model's class count. Best class only (see nmsOnCandidates).
 */
export function postprocessCandidates(
  batch: CandidateBatch,
  nc: number,
  shapes: readonly ImageShapes[],
  options: NmsOptions = predictDefaults,
  names?: readonly string[],
): Detection[][] {
  return shapesPerImage(shapes, batch.counts.length).map((s, b) => toDetections(nmsOnCandidates(candidatesOf(batch, b), nc, options), s, names));
}

function checkOutput(t: HostTensor): [number, number, number] {
  const [batch, channels, anchors] = t.shape;
  if (t.shape.length !== 3 || batch === undefined || channels === undefined || anchors === undefined) {
    fail(ErrorCode.InvalidArgument, `postprocess expects an output of shape [batch, 4 + classes, anchors], got [${t.shape.join(', ')}]`);
  }
  if (!['float32', 'float16', 'bfloat16', 'float64'].includes(t.dtype)) {
    fail(ErrorCode.InvalidArgument, `postprocess expects a floating-point output, got ${t.dtype}`);
  }
  return [batch, channels, anchors];
}

function shapesPerImage(shapes: ImageShapes | readonly ImageShapes[], batch: number): readonly ImageShapes[] {
  if (!isShapeList(shapes)) return new Array<ImageShapes>(batch).fill(shapes);
  if (shapes.length !== batch) {
    fail(ErrorCode.InvalidArgument, `postprocess got ${shapes.length} image shapes for a batch of ${batch}`);
  }
  return shapes;
}

function isShapeList(shapes: ImageShapes | readonly ImageShapes[]): shapes is readonly ImageShapes[] {
  return Array.isArray(shapes);
}
