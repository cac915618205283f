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
import { FP32_POLICY, unmatchedPatterns, type PrecisionPolicy } from '../dsl/precision/policy.js';
import type { ImageInputDType } from '../models/yolov8/input.js';
import { buildYolov8 } from '../models/yolov8/model.js';
import type { Yolov8NmsOptions } from '../models/yolov8/nms.js';
import { parseScale } from '../models/yolov8/scales.js';
import { checkWeights, materializeParams } from '../weights/bind.js';
import { loadWeights } from '../weights/load.js';
import { randomWeights } from '../weights/random.js';
import type { WeightStore } from '../weights/store.js';

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
}

/**
 * Folds batch norms and applies the policy, after refusing a policy rule that matches no layer of
 * the graph (a misspelt pattern would otherwise change nothing without a word).
 */
function typedGraph(source: Graph, policy: PrecisionPolicy): Graph {
  const unmatched = unmatchedPatterns(policy, source.nodes.map((n) => n.name));
  if (unmatched.length > 0) {
    fail(ErrorCode.PolicySyntax, `precision policy pattern(s) ${unmatched.map((p) => `'${p}'`).join(', ')} match no layer of ${source.name} (layer names look like /model.22/dfl/conv/Conv; netdef inspect lists them)`);
  }
  return verifyGraph(applyPrecision(foldBatchNorm(source), policy));
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
  const graph = typedGraph(source, policy);
  return { source, graph, store, policy, ...(options.nms ? { nms: options.nms } : {}) };
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
  const graph = typedGraph(source, policy);
  return { source, graph, store, policy, ...(options.nms ? { nms: options.nms } : {}), params: materializeParams(graph, store) };
}
