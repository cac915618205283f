/**
 * COCO-style evaluation: evaluateCoco (pycocotools' COCOeval for bbox), loadEvalDataset (COCO or
 * YOLO folders), and the conversion of model detections to COCO results. See the files for details.
 */
export { evaluateCoco, type CocoEvalOptions, type CocoEvalResult, type PerClassAp } from './coco-eval.js';
export type { CocoAnnotation, CocoBox, CocoCategory, CocoDetection, CocoGroundTruth, CocoImage } from './coco-types.js';
export { loadEvalDataset, type EvalDataset, type EvalImage, type ImageSizeFn, type LoadDatasetOptions } from './dataset.js';
export { toCocoDetections, type XyxyDetection } from './detections.js';
export { DEFAULT_MAX_DETS, IOU_THRESHOLDS, RECALL_THRESHOLDS } from './params.js';
