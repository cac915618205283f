/**
 * From weights to a typed graph ready for a backend: load the checkpoint (or make random weights),
 * build the YOLOv8 graph its metadata describes, check the weights fit, fold batch norms, apply
 * the precision policy and materialize the effective parameters.
 */
import { ErrorCode, fail } from '../common/errors.js';
import type { HostTensor } from '../common/host-tensor.js';
import type { Graph } from '../dsl/ir/graph.js';
import { verifyGraph } from '../dsl/ir/verify.js';
import { applyPrecision } from '../dsl/passes/apply-precision.js';
import { foldBatchNorm } from '../dsl/passes/fold-batch-norm.js';
import { type ActivationRanges, quantizeInt8 } from '../dsl/passes/quantize-int8.js';
import { FP32_POLICY, precisionOf, unmatchedPatterns, type PrecisionPolicy } from '../dsl/precision/policy.js';
import type { ImageInputDType } from '../models/yolov8/input.js';
import { buildYolov8 } from '../models/yolov8/model.js';
import type { Yolov8NmsOptions } from '../models/yolov8/nms.js';
import { parseScale } from '../models/yolov8/scales.js';
import { checkWeights, materializeParams } from '../weights/bind.js';
import { loadWeights } from '../weights/load.js';
import { randomWeights } from '../weights/random.js';
import type { WeightStore } from '../weights/store.js';
import { weightsDigest } from '../weights/digest.js';
import type { Calibration } from './calibrate/calibration-file.js';
import { graphDigest } from './calibrate/probes.js';

/** COCO's class count: the default for a model built without weights. */
export const DEFAULT_CLASSES = 80;
/** The Detect head's class-branch output bias: its length is the class count. */
const CLASS_BIAS = 'model.22.cv3.0.2.bias';

export interface PrepareOptions {
  /** Weights file (.pt or .safetensors). Without it, `model` is built with random weights. */
  readonly weights?: string;
  /** 'yolov8n' … 'yolov8x'; overrides (and must agree with) the checkpoint's scale. */
  readonly model?: string;
  /** Class count when building without weights (default 80). */
  readonly nc?: number;
  readonly imgsz?: readonly [number, number];
  readonly batch?: string | number;
  readonly policy?: PrecisionPolicy;
  /** Seed for random weights. */
  readonly seed?: number;
  /** NMS inside the graph (models/yolov8/nms.ts; TensorRT's INMSLayer, ONNX NonMaxSuppression). */
  readonly nms?: Yolov8NmsOptions;
  /** The image input: float32 in [0, 1] (default) or uint8 bytes scaled in the graph (models/yolov8/input.ts). */
  readonly input?: ImageInputDType;
  /**
   * Activation ranges for the layers the policy gives int8: a calibration file's content
   * (engine/calibrate/calibration-file.ts, checked against the graph and weights), or the ranges an
   * int8 engine recorded (a refit keeps them as they were, unchecked).
   */
  readonly calibration?: Calibration | ActivationRanges;
}

export interface PreparedModel extends PreparedGraph {
  readonly store: WeightStore;
  readonly params: Map<string, HostTensor>;
}

function classCount(store: WeightStore): number | undefined {
  return store.info.nc ?? store.tensors.get(CLASS_BIAS)?.shape[0];
}

function graphFor(store: WeightStore, options: PrepareOptions): Graph {
  const scale = options.model ?? store.info.scale;
  if (!scale) fail(ErrorCode.ModelSpec, `'${store.source.path}' does not say which YOLOv8 scale it holds; pass --model yolov8n … yolov8x`);
  const nc = classCount(store) ?? DEFAULT_CLASSES;
  return buildYolov8({
    scale, nc, ...(store.info.names?.length === nc ? { names: store.info.names } : {}),
    ...(options.imgsz ? { imgsz: options.imgsz } : {}), ...(options.batch !== undefined ? { batch: options.batch } : {}),
    ...(options.nms ? { nms: options.nms } : {}), ...(options.input ? { input: options.input } : {}),
  });
}

export interface PreparedGraph {
  /** The graph as the DSL built it (before passes). */
  readonly source: Graph;
  /** The typed graph after folding and the precision policy. */
  readonly graph: Graph;
  /** The checked weights, or null when the graph was built from a model name alone. */
  readonly store: WeightStore | null;
  /** The precision policy the graph was typed with. */
  readonly policy: PrecisionPolicy;
  /** The NMS the graph ends with, if any. */
  readonly nms?: Yolov8NmsOptions;
  /** The activation ranges int8 layers were quantized with (absent without int8 layers). */
  readonly calibration?: ActivationRanges;
  /** Things the caller should print (a calibration used at another input size). */
  readonly notes: readonly string[];
}

/**
 * Folds batch norms and applies the policy, after refusing a policy rule that matches no layer of
 * the graph (a misspelt pattern would otherwise change nothing without a word). Layers the policy
 * gives int8 are quantized with the calibration's ranges (dsl/passes/quantize-int8.ts).
 */
function typedGraph(source: Graph, policy: PrecisionPolicy, int8: Int8Inputs): { graph: Graph; calibration?: ActivationRanges; notes: string[] } {
  const unmatched = unmatchedPatterns(policy, source.nodes.map((n) => n.name));
  if (unmatched.length > 0) {
    fail(ErrorCode.PolicySyntax, `precision policy pattern(s) ${unmatched.map((p) => `'${p}'`).join(', ')} match no layer of ${source.name} (layer names look like /model.22/dfl/conv/Conv; netdef inspect lists them)`);
  }
  const folded = foldBatchNorm(source);
  const typed = applyPrecision(folded, policy);
  const int8Layers = source.nodes.filter((n) => precisionOf(policy, n.name) === 'int8').map((n) => n.name);
  if (int8Layers.length === 0) return { graph: verifyGraph(typed), notes: [] };
  const { calibration } = int8;
  if (!calibration) {
    fail(ErrorCode.Calibration, `the precision policy gives int8 to ${int8Layers.length} layer(s) of ${source.name} (${int8Layers[0]}, …), which need activation ranges from a calibration: make one with \`netdef calibrate --weights W --data IMAGES -o calib.json\` and pass --calib calib.json`);
  }
  const notes = 'graphDigest' in calibration ? checkCalibration(calibration, folded, int8) : [];
  return { graph: verifyGraph(quantizeInt8(typed, policy, calibration)), calibration: { source: calibration.source, amax: calibration.amax }, notes };
}

interface Int8Inputs {
  readonly calibration?: Calibration | ActivationRanges | undefined;
  /** The weights, to check a calibration was made with them (null: random weights, not checked). */
  readonly store: WeightStore | null;
}

/** Refuses a calibration made for another graph or other weights; notes one made at another input size. */
function checkCalibration(c: Calibration, folded: Graph, int8: Int8Inputs): string[] {
  if (c.model !== folded.name || c.graphDigest !== graphDigest(folded)) {
    fail(ErrorCode.Calibration, `calibration file ${c.source} was made for another graph (${c.model}) than ${folded.name} with ${folded.meta.nc ?? '?'} classes; calibrate again for this model`);
  }
  // Calibration digests the fp32 parameters of the folded graph (calibrate.ts).
  if (int8.store && c.weightsDigest !== weightsDigest(materializeParams(folded, int8.store))) {
    fail(ErrorCode.Calibration, `calibration file ${c.source} was made with other weights than these (${c.model}); activation ranges depend on the weights: calibrate again with them`);
  }
  const imgsz = folded.meta.imgsz;
  if (imgsz && (imgsz[0] !== c.imgsz[0] || imgsz[1] !== c.imgsz[1])) {
    // One text for every other size, so a caller building many shapes prints it once.
    return [`calibration ${c.source} was made at ${c.imgsz[0]}x${c.imgsz[1]} and is used at another input size: its activation ranges are kept as they are (they depend on the images' content, not on the input size)`];
  }
  return [];
}

/** The typed graph (and the checked weights when a file is given); no parameters materialized. */
export async function prepareGraph(options: PrepareOptions): Promise<PreparedGraph> {
  const shape = {
    ...(options.imgsz ? { imgsz: options.imgsz } : {}), ...(options.batch !== undefined ? { batch: options.batch } : {}),
    ...(options.nms ? { nms: options.nms } : {}), ...(options.input ? { input: options.input } : {}),
  };
  let store: WeightStore | null = null;
  let source: Graph;
  if (options.weights) {
    store = await loadWeights(options.weights);
    source = graphFor(store, options);
    checkWeights(source, store);
  } else {
    if (!options.model) fail(ErrorCode.InvalidArgument, 'give a weights file, or a model (yolov8n … yolov8x) to build with random weights');
    source = buildYolov8({ scale: parseScale(options.model), nc: options.nc ?? DEFAULT_CLASSES, ...shape });
  }
  const policy = options.policy ?? FP32_POLICY;
  const typed = typedGraph(source, policy, { calibration: options.calibration, store });
  return { source, graph: typed.graph, store, policy, ...(options.nms ? { nms: options.nms } : {}), ...int8Fields(typed) };
}

function int8Fields(typed: { calibration?: ActivationRanges; notes: string[] }): { calibration?: ActivationRanges; notes: string[] } {
  return { ...(typed.calibration ? { calibration: typed.calibration } : {}), notes: typed.notes };
}

/** The typed graph with its effective parameters (random ones, seeded, without a weights file). */
export async function prepareModel(options: PrepareOptions): Promise<PreparedModel> {
  const prepared = await prepareGraph(options);
  const store = prepared.store ?? randomWeights(prepared.source, options.seed ?? 0);
  return { ...prepared, store, params: materializeParams(prepared.graph, store) };
}

/** The same from weights already loaded (to build several input shapes from one checkpoint). */
export function prepareFromStore(store: WeightStore, options: Omit<PrepareOptions, 'weights' | 'seed'> = {}): PreparedModel {
  const source = graphFor(store, options);
  checkWeights(source, store);
  const policy = options.policy ?? FP32_POLICY;
  const typed = typedGraph(source, policy, { calibration: options.calibration, store });
  const graph = typed.graph;
  return { source, graph, store, policy, ...(options.nms ? { nms: options.nms } : {}), ...int8Fields(typed), params: materializeParams(graph, store) };
}
