/**
 * The engine API: build a typed graph into an engine on a backend, save it as one file, load it
 * back (refusing files from another netdef version, backend or GPU), run it, inspect its layers.
 */
import { ErrorCode, NetdefError, fail } from '../common/errors.js';
import type { HostTensor } from '../common/host-tensor.js';
import type { DType } from '../common/dtype.js';
import { NETDEF_VERSION } from '../common/version.js';
import { type Graph, graphInputs, graphOutputs, makeGraph } from '../dsl/ir/graph.js';
import { makeNode } from '../dsl/ir/infer.js';
import type { InputNode, IrNode, OutputNode } from '../dsl/ir/node.js';
import type { EngineRunner, Fp32Math, LayerInfo, TacticSearch, TensorMap, TensorrtOptions } from './backend.js';
import type { CandidateQuery, DeviceImage, ImageRun } from './image-run.js';
import { DEFAULT_BACKEND, selectBackend } from './backends/index.js';
import { type EngineMetadata, checkExpectation, readEngineFile, writeEngineFile } from './file-format.js';
import { type PreparedModel, prepareFromStore } from './prepare.js';
import { weightsDigest } from '../weights/digest.js';
import { loadWeights } from '../weights/load.js';
import type { WeightStore } from '../weights/store.js';


export interface EngineBuildOptions {
  readonly backend?: string;
  readonly batch?: { readonly min: number; readonly opt: number; readonly max: number };
  readonly threads?: number;
  readonly onProgress?: (done: number, total: number, layer: string) => void;
  /** TensorRT builder settings (backend 'tensorrt' only). */
  readonly tensorrt?: TensorrtOptions;
  /** A timing cache file, read when it exists and written after the build (backends 'cuda' and 'tensorrt'). */
  readonly timingCache?: string;
  /** The CUDA engine's tactic search (backend 'cuda' only; BuildOptions.search). */
  readonly search?: TacticSearch;
  /** float32 layers exact ('fma') or on TF32 tensor cores ('tf32'); backends 'cuda' (default fma) and 'tensorrt' (default tf32). */
  readonly fp32Math?: Fp32Math;
  /** The build's log lines (backends 'cuda' and 'tensorrt'). */
  readonly onLog?: (line: string) => void;
}

/** Build settings and the backends that read them: any other backend refuses them, naming the setting. */
const BACKEND_SETTINGS: Readonly<Record<'tensorrt' | 'timingCache' | 'search' | 'fp32Math', readonly string[]>> = {
  tensorrt: ['tensorrt'], timingCache: ['cuda', 'tensorrt'], search: ['cuda'], fp32Math: ['cuda', 'tensorrt'],
};

function checkSettings(backend: string, options: EngineBuildOptions): void {
  for (const [setting, backends] of Object.entries(BACKEND_SETTINGS)) {
    if (options[setting as keyof typeof BACKEND_SETTINGS] !== undefined && !backends.includes(backend)) {
      fail(ErrorCode.InvalidArgument, `the build setting '${setting}' is read by the ${backends.join(' and ')} backend${backends.length > 1 ? 's' : ''} only, not by '${backend}'`);
    }
  }
}

const DEFAULT_BATCH = { min: 1, opt: 1, max: 1 } as const;

function checkBatch(b: EngineBuildOptions['batch']): { min: number; opt: number; max: number } {
  const batch = b ?? DEFAULT_BATCH;
  const ok = [batch.min, batch.opt, batch.max].every((n) => Number.isInteger(n) && n >= 1) && batch.min <= batch.opt && batch.opt <= batch.max;
  if (!ok) fail(ErrorCode.InvalidArgument, `batch range must satisfy 1 <= min <= opt <= max, got ${JSON.stringify(batch)}`);
  return { ...batch };
}

const COMPUTING: ReadonlySet<string> = new Set(['Input', 'Output', 'Constant']);

function metadataOf(prepared: PreparedModel, batch: EngineMetadata['batch'], runner: EngineRunner): EngineMetadata {
  const refit = runner.refitMode ?? 'any';
  const { graph } = prepared;
  const io = (nodes: readonly IrNode[]) => nodes.map((n) => ({ name: n.name, dtype: n.outputs[0]!.type.dtype, shape: [...n.outputs[0]!.type.shape] }));
  return {
    model: graph.meta.model, names: graph.meta.names ?? [], strides: graph.meta.strides ?? [], imgsz: graph.meta.imgsz ?? [0, 0],
    inputs: io(graphInputs(graph)), outputs: io(graphOutputs(graph)), batch,
    precision: Object.fromEntries(graph.nodes.filter((n) => !COMPUTING.has(n.kind)).map((n) => [n.name, n.outputs[0]?.type.dtype ?? ''])),
    weights: [...prepared.params.keys()],
    ...(graph.meta.scale ? { scale: graph.meta.scale } : {}),
    policy: prepared.policy,
    weightsDigest: weightsDigest(prepared.params),
    ...(prepared.nms ? { nms: prepared.nms } : {}),
    ...(prepared.calibration ? { activationRanges: Object.fromEntries(prepared.calibration.amax) } : {}),
    ...(runner.weightless ? { weightless: true } : {}),
    ...(refit !== 'any' ? { refit } : {}),
  };
}

/** A graph with only the Input and Output nodes the metadata lists (what loading needs). */
export function interfaceGraph(meta: EngineMetadata): Graph {
  const inputs = meta.inputs.map((i) => makeNode<InputNode>({ kind: 'Input', name: i.name, inputs: [], dtype: i.dtype as DType, shape: i.shape }, []));
  const outputs = meta.outputs.map((o) => makeNode<OutputNode>({ kind: 'Output', name: o.name, inputs: [] },
    [{ name: `${o.name}:value`, type: { dtype: o.dtype as DType, shape: o.shape } }]));
  return makeGraph(meta.model, [...inputs, ...outputs], { model: meta.model, names: meta.names, strides: meta.strides, imgsz: meta.imgsz });
}

/** Runs `f`; a NetdefError that does not name the engine file gets its path in front (same code). */
async function namingFile<T>(path: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof NetdefError && !e.message.includes(path)) throw new NetdefError(e.code, `engine file ${path}: ${e.message}`, { cause: e, details: e.details });
    throw e;
  }
}

export class Engine {
  #disposed = false;
  /** A weightless engine file loaded and not yet refitted: it must not run. */
  #needsWeights: boolean;

  #metadata: EngineMetadata;

  private constructor(readonly backend: string, metadata: EngineMetadata, private runner: EngineRunner, needsWeights = false) {
    this.#metadata = metadata;
    this.#needsWeights = needsWeights;
  }

  /** What the engine file records: model, classes, I/O, batch range, precision per layer, weights. */
  get metadata(): EngineMetadata {
    return this.#metadata;
  }

  static async build(prepared: PreparedModel, options: EngineBuildOptions = {}): Promise<Engine> {
    const backend = selectBackend(options.backend ?? DEFAULT_BACKEND);
    const batch = checkBatch(options.batch);
    checkSettings(backend.name, options);
    const runner = await backend.build(prepared.graph, prepared.params, {
      batch, ...(options.threads !== undefined ? { threads: options.threads } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.tensorrt ? { tensorrt: options.tensorrt } : {}), ...(options.timingCache !== undefined ? { timingCache: options.timingCache } : {}),
      ...(options.search !== undefined ? { search: options.search } : {}), ...(options.onLog ? { onLog: options.onLog } : {}),
      ...(options.fp32Math !== undefined ? { fp32Math: options.fp32Math } : {}),
    });
    return new Engine(backend.name, metadataOf(prepared, batch, runner), runner);
  }

  /**
   * Loads an engine file. A file saved without weights (TensorRT's stripped plans) is refitted from
   * `weights` when given; without them it loads but refuses to run until refit() is called.
   */
  static async load(path: string, options: { readonly threads?: number; readonly weights?: string | WeightStore } = {}): Promise<Engine> {
    // The file is read and its metadata checked once (engine-schema.ts); every later error names it.
    const file = await readEngineFile(path, { netdef: NETDEF_VERSION });
    const { backend, runner } = await namingFile(path, async () => {
      const backend = selectBackend(file.backend);
      checkExpectation(path, file, { netdef: NETDEF_VERSION, backend: backend.name, target: backend.target() });
      const threads = options.threads !== undefined ? { threads: options.threads } : {};
      return { backend, runner: await backend.load(file.blob, interfaceGraph(file.metadata), { batch: file.metadata.batch, ...threads }) };
    });
    const engine = new Engine(backend.name, file.metadata, runner, file.metadata.weightless === true);
    if (options.weights !== undefined) {
      try {
        await engine.refit(options.weights);
      } catch (e) {
        await engine.dispose();
        throw e;
      }
    }
    return engine;
  }

  async save(path: string): Promise<void> {
    this.#check();
    const backend = selectBackend(this.backend);
    await writeEngineFile(path, { netdef: NETDEF_VERSION, backend: this.backend, target: backend.target(), metadata: this.metadata, blob: this.runner.serialize() });
  }

  /** Runs on named inputs; the batch (first dimension) must lie within the engine's range. */
  async run(inputs: TensorMap): Promise<Record<string, HostTensor>> {
    this.#checkRunnable();
    for (const spec of this.metadata.inputs) {
      const t = Object.hasOwn(inputs, spec.name) ? inputs[spec.name] : undefined;
      const batch = t?.shape[0];
      if (t && batch !== undefined && typeof spec.shape[0] === 'string' && (batch < this.metadata.batch.min || batch > this.metadata.batch.max)) {
        fail(ErrorCode.InvalidArgument, `input '${spec.name}' has batch ${batch}; this engine accepts ${this.metadata.batch.min} to ${this.metadata.batch.max}`);
      }
    }
    return this.runner.run(inputs);
  }

  /** Whether runImages() can run: the backend letterboxes on the device (cuda). */
  get runsImages(): boolean {
    return typeof this.runner.runImages === 'function';
  }

  /**
   * Decoded images (one per batch index, within the engine's batch range) letterboxed on the
   * device into the image input, then the raw outputs or, with `candidates`, the NMS candidates
   * of output0 selected there (engine/image-run.ts). ERR_BACKEND on backends that cannot.
   */
  async runImages(images: readonly DeviceImage[], candidates?: CandidateQuery): Promise<ImageRun> {
    this.#checkRunnable();
    if (!this.runner.runImages) fail(ErrorCode.Backend, `the ${this.backend} backend does not letterbox on the device; run() takes the letterboxed tensor`);
    const { min, max } = this.metadata.batch;
    if (images.length < min || images.length > max) fail(ErrorCode.InvalidArgument, `runImages got ${images.length} images; this engine accepts ${min} to ${max}`);
    return this.runner.runImages(images, this.metadata.imgsz, candidates);
  }

  #checkRunnable(): void {
    this.#check();
    if (this.#needsWeights) {
      fail(ErrorCode.InvalidArgument, `this ${this.metadata.model} engine was saved without its weights: refit it (Engine.load(path, { weights }) or engine.refit(weights)) before running`);
    }
  }

  layers(): LayerInfo[] {
    this.#check();
    if (this.runner.layers) return this.runner.layers();
    return Object.entries(this.metadata.precision).map(([name, dtype]) => ({ name, kind: '', dtype, kernel: this.backend, timeMs: 0 }));
  }

  async profile(batch = 1, iterations = 20): Promise<LayerInfo[]> {
    this.#check();
    if (!this.runner.profile) throw new NetdefError(ErrorCode.Backend, `the ${this.backend} backend cannot profile layers`);
    await this.runner.profile(batch, iterations);
    return this.layers();
  }

  /**
   * New weights for the same graph, without a rebuild where the backend can swap them (the CUDA
   * engine); the CPU backend builds a new session. The weights are checked against the graph first:
   * another model or other shapes are refused with the list of mismatches (ERR_WEIGHTS_MISMATCH).
   */
  async refit(weights: string | WeightStore): Promise<void> {
    this.#check();
    const store = typeof weights === 'string' ? await loadWeights(weights) : weights;
    const meta = this.metadata;
    const prepared = prepareFromStore(store, {
      model: meta.scale ?? meta.model, imgsz: meta.imgsz, ...(meta.policy ? { policy: meta.policy } : {}), ...(meta.nms ? { nms: meta.nms } : {}),
      // An int8 engine keeps the activation ranges it was calibrated with; new weights get new weight scales.
      ...(meta.activationRanges ? { calibration: { source: 'the engine file\'s activation ranges', amax: new Map(Object.entries(meta.activationRanges)) } } : {}),
    });
    const names = [...prepared.params.keys()];
    if (names.length !== meta.weights.length || names.some((n, i) => n !== meta.weights[i]) || (prepared.graph.meta.nc ?? 0) !== meta.names.length) {
      fail(ErrorCode.WeightsMismatch, `weights in '${store.source.path}' describe another graph than this ${meta.model} engine (${prepared.graph.meta.nc} classes, ${names.length} weights; the engine has ${meta.names.length} classes, ${meta.weights.length} weights)`);
    }
    const digest = weightsDigest(prepared.params);
    if (meta.refit === 'none') {
      fail(ErrorCode.InvalidArgument, `this ${meta.model} engine was built with fixed weights (TensorRT without kREFIT): rebuild it from '${store.source.path}'`);
    }
    if (meta.refit === 'identical' && meta.weightsDigest !== undefined && digest !== meta.weightsDigest) {
      fail(ErrorCode.WeightsMismatch, `this ${meta.model} engine can only be refitted with the weights it was built from (TensorRT kREFIT_IDENTICAL / stripped plan), and '${store.source.path}' holds other values: rebuild it, or build with --trt-weights refittable`);
    }
    if (this.runner.refit) {
      await this.runner.refit(prepared.params);
      this.#metadata = { ...meta, weightsDigest: digest };
      this.#needsWeights = false;
      return;
    }
    const backend = selectBackend(this.backend);
    const rebuilt = await backend.build(prepared.graph, prepared.params, { batch: meta.batch });
    const old = this.runner;
    this.runner = rebuilt;
    this.#metadata = { ...meta, weightsDigest: digest };
    this.#needsWeights = false;
    await old.dispose();
  }

  /** Median milliseconds of the whole forward at `batch`, timed by the backend (GPU backends only). */
  async timeForward(batch: number, options: { readonly iterations?: number; readonly withCopies?: boolean } = {}): Promise<number> {
    this.#check();
    if (!this.runner.timeForward) throw new NetdefError(ErrorCode.Backend, `the ${this.backend} backend cannot time its forward`);
    const DEFAULT_ITERATIONS = 100;
    return this.runner.timeForward(batch, options.iterations ?? DEFAULT_ITERATIONS, options.withCopies ?? false);
  }

  /** Device memory the engine holds, in bytes (0 where the backend does not say). */
  deviceMemoryBytes(): number {
    this.#check();
    return this.runner.deviceMemoryBytes?.() ?? 0;
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.runner.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  #check(): void {
    if (this.#disposed) fail(ErrorCode.Backend, `this ${this.metadata.model} engine has been disposed`);
  }
}
