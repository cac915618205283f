/**
 * Every option of the `netdef` command, in one table: its type, its value's placeholder, one line
 * of help and, where the name comes from a tool users know, which one. Commands list the options
 * they take (cli/commands/*.ts); usage, `--help`, parsing, the refusal of an option a command does
 * not take, and docs/cli.md are all generated from this table, so they cannot drift apart.
 */

/** Where an option's name and meaning come from. */
export type OptionOrigin = 'ultralytics' | 'trtexec' | 'onnxruntime' | 'netdef';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** The value's placeholder in usage and help (string options). */
  readonly value?: string;
  /** One line: what it does, and its default. */
  readonly help: string;
  /** Whose option this mirrors; 'netdef' for ours. */
  readonly origin: OptionOrigin;
}

export const OPTIONS = {
  weights: { type: 'string', value: 'FILE', help: 'the .pt or .safetensors checkpoint (Ultralytics `model=`)', origin: 'ultralytics' },
  engine: { type: 'string', value: 'FILE', help: 'a saved engine file (netdef build); its backend, input size and precision are fixed', origin: 'netdef' },
  model: { type: 'string', value: 'yolov8n', help: 'the scale yolov8n|s|m|l|x: without --weights, random weights; with them, must agree', origin: 'netdef' },
  output: { type: 'string', short: 'o', value: 'FILE', help: 'the file to write (written atomically: nothing is left half-written on failure)', origin: 'netdef' },
  backend: { type: 'string', value: 'NAME', help: 'onnxruntime (CPU, the default), cuda (our CUDA engine) or tensorrt', origin: 'netdef' },
  device: { type: 'string', value: 'cpu|N', help: 'cpu (the onnxruntime backend) or a GPU index N (the cuda backend unless --backend tensorrt), as Ultralytics `device=`', origin: 'ultralytics' },
  threads: { type: 'string', value: 'N', help: 'CPU backend: intra-op threads (onnxruntime `intraOpNumThreads`; default: ONNX Runtime\'s choice)', origin: 'onnxruntime' },
  imgsz: { type: 'string', value: 'N|H,W', help: 'input size, multiples of 32 (default 640)', origin: 'ultralytics' },
  rect: { type: 'boolean', help: 'letterbox to the minimal rectangle (default for weights, as Ultralytics does for .pt models)', origin: 'ultralytics' },
  square: { type: 'boolean', help: 'letterbox to the full imgsz square (what Ultralytics does for exported models; always so for engine files)', origin: 'netdef' },
  half: { type: 'boolean', help: 'fp16 everywhere: the same as --precision-policy fp16 (Ultralytics `half=True`)', origin: 'ultralytics' },
  int8: { type: 'boolean', help: 'int8 everywhere (Ultralytics `int8=True`, = --precision-policy int8): needs --calib', origin: 'ultralytics' },
  'precision-policy': { type: 'string', value: 'P', help: 'per-layer precision: a file, JSON, trtexec --layerPrecisions syntax, one precision (fp16 = *:fp16) or a preset: int8-mixed, fp16-fp32-decode', origin: 'trtexec' },
  calib: { type: 'string', value: 'FILE', help: 'the calibration (netdef calibrate) that int8 layers take their activation ranges from', origin: 'netdef' },
  images: { type: 'string', value: '512', help: 'calibrate on the first N images of --data, sorted by file name (default 512)', origin: 'netdef' },
  method: { type: 'string', value: 'entropy', help: 'activation ranges: percentile[=P] (default 99.999; P defaults to 99.99), entropy (TensorRT EntropyCalibrator2) or minmax', origin: 'netdef' },
  'trt-cache': { type: 'string', value: 'FILE', help: 'also write the ranges as a TensorRT calibration cache (TensorRT 10 implicit quantization)', origin: 'trtexec' },
  batch: { type: 'string', value: 'N', help: 'images per engine call (detect: default 1; a batch of mixed image sizes is letterboxed to the square, as Ultralytics\' predictor)', origin: 'ultralytics' },
  workers: { type: 'string', value: 'N', help: 'threads that decode and letterbox images (default: the cores less one, at most 8)', origin: 'ultralytics' },
  processing: { type: 'string', value: 'gpu|cpu', help: 'where letterbox and NMS\'s confidence pre-filter run: gpu (the cuda backend\'s default: only decoded images go up, only candidates come back) or cpu (every other backend)', origin: 'netdef' },
  conf: { type: 'string', value: '0.25', help: 'confidence threshold (predict 0.25, val 0.001, as Ultralytics)', origin: 'ultralytics' },
  iou: { type: 'string', value: '0.7', help: 'NMS IoU threshold (default 0.7, as Ultralytics)', origin: 'ultralytics' },
  'max-det': { type: 'string', value: '300', help: 'at most this many detections per image (default 300)', origin: 'ultralytics' },
  classes: { type: 'string', value: '0,2', help: 'keep only these class ids', origin: 'ultralytics' },
  agnostic: { type: 'boolean', help: 'class-agnostic NMS (Ultralytics `agnostic_nms`)', origin: 'ultralytics' },
  'save-dir': { type: 'string', value: 'DIR', help: 'where results go (default runs/detect/predict, predict2, ... as Ultralytics)', origin: 'ultralytics' },
  'no-save': { type: 'boolean', help: 'write no annotated pictures (Ultralytics `save=False`)', origin: 'ultralytics' },
  'save-txt': { type: 'boolean', help: 'write YOLO-format labels to SAVE_DIR/labels/<name>.txt (class xc yc w h, normalised)', origin: 'ultralytics' },
  'save-conf': { type: 'boolean', help: 'with --save-txt: append each detection\'s score', origin: 'ultralytics' },
  'line-width': { type: 'string', value: 'PX', help: 'box line width in pixels (default from the image size, as Ultralytics)', origin: 'ultralytics' },
  'hide-labels': { type: 'boolean', help: 'draw boxes without class names', origin: 'ultralytics' },
  'hide-conf': { type: 'boolean', help: 'draw class names without scores', origin: 'ultralytics' },
  json: { type: 'boolean', help: 'print JSON on stdout and nothing else there: one document; detect with a video or stream source: one object per line, as results come', origin: 'netdef' },
  'vid-stride': { type: 'string', value: 'N', help: 'videos and streams: keep every N-th frame (default 1)', origin: 'ultralytics' },
  verbose: { type: 'boolean', help: 'print more: per-stage times per image, notes on what was chosen', origin: 'ultralytics' },
  quiet: { type: 'boolean', short: 'q', help: 'print only the summary and errors', origin: 'netdef' },
  data: { type: 'string', value: 'DIR|data.yaml', help: 'the dataset: a folder (images/ with labels/ or annotations/*.json, flat or per split) or an Ultralytics data.yaml', origin: 'ultralytics' },
  split: { type: 'string', value: 'val', help: 'which split of a data.yaml or split folder to evaluate (default val, or the only one there is)', origin: 'ultralytics' },
  format: { type: 'string', value: 'yolo|coco', help: 'ground truth: YOLO labels (default when present, as Ultralytics val) or the COCO JSON', origin: 'netdef' },
  annotations: { type: 'string', value: 'FILE', help: 'a COCO annotations JSON (implies --format coco)', origin: 'netdef' },
  dtype: { type: 'string', value: 'keep', help: 'tensor dtype written: keep, float32 or float16', origin: 'netdef' },
  nms: { type: 'boolean', help: 'NMS inside the engine (TensorRT INMSLayer semantics; --conf/--iou/--max-det set it)', origin: 'netdef' },
  workspace: { type: 'string', value: 'MiB', help: 'TensorRT builder workspace limit (trtexec --memPoolSize=workspace:N)', origin: 'trtexec' },
  'timing-cache': { type: 'string', value: 'FILE', help: 'timing cache of the cuda or tensorrt backend, read then written (trtexec --timingCacheFile)', origin: 'trtexec' },
  'fp32-math': { type: 'string', value: 'fma|tf32', help: 'float32 layers exact (fma, the cuda default) or on TF32 tensor cores (tf32, TensorRT\'s default and PyTorch\'s)', origin: 'netdef' },
  'tactic-search': { type: 'string', value: 'heuristic|exhaustive', help: 'cuda backend: candidates from cuDNN\'s heuristics (default) or exhaustive (every algorithm run, every layout mode tuned; slower builds)', origin: 'netdef' },
  'trt-weights': { type: 'string', value: 'MODE', help: 'TensorRT weights: refittable (default), fixed, identical or stripped', origin: 'trtexec' },
  iterations: { type: 'string', value: '200', help: 'timed iterations (trtexec --iterations; default 200)', origin: 'trtexec' },
  warmup: { type: 'string', value: '20', help: 'untimed warm-up iterations before timing (default 20)', origin: 'trtexec' },
  'dump-profile': { type: 'boolean', help: 'print the per-layer profile (trtexec --dumpProfile)', origin: 'trtexec' },
  help: { type: 'boolean', short: 'h', help: 'this help', origin: 'netdef' },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;
