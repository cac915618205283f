/**
 * The 'onnxruntime' backend: exports the typed graph to ONNX in memory (dsl/onnx) and runs it with
 * onnxruntime-node on the CPU execution provider. It is netdef's reference backend and the default
 * where no GPU is present.
 *
 * What float16 means on this backend (verified with ORT 1.30 on x86-64 by dumping the optimized
 * model, `optimizedModelFilePath`): the exported model keeps every type the graph declares (fp16
 * tensors, fp16 weights, the Casts at region boundaries), and ORT checks and returns those types.
 * But the CPU execution provider has no fp16 kernels on x86-64 for the compute operators netdef
 * uses (Conv, Sigmoid, Mul/Add/..., MaxPool, Resize, Softmax, MatMul, BatchNormalization). Its
 * InsertCastTransformer casts their inputs and weights to float32 and their outputs back, then
 * removes the back-to-back Cast pairs, including the graph's own fp32 -> fp16 Cast when the next
 * operator runs in float32. The result:
 *  - fp16 weights keep their fp16-rounded values; arithmetic is float32;
 *  - activations are rounded to fp16 only where they enter an operator that does have an fp16
 *    kernel (data movement: Split, Concat, Reshape, Transpose) or leave the graph as fp16; a chain
 *    of compute operators passes float32 values, so an input Cast to fp16 followed by a Conv does
 *    not round the input at all;
 *  - speed is float32's, plus the casts.
 * So an fp16 region here is more accurate than true fp16 (test/onnx/ort-precision.test.ts holds it
 * to 1e-2 relative of a reference that rounds every tensor to fp16); it is not a bit-faithful fp16
 * simulation and says nothing about fp16 speed. ARM64 builds of ORT have some fp16 kernels and
 * may round in more places (not verified here).
 */
import { createRequire } from 'node:module';
import type * as OrtModule from 'onnxruntime-node';
import { ErrorCode, NetdefError } from '../../common/errors.js';
import type { HostTensor } from '../../common/host-tensor.js';
import { type Graph, graphInputs, graphOutputs } from '../../dsl/ir/graph.js';
import type { InputNode, OutputNode } from '../../dsl/ir/node.js';
import { exportOnnx } from '../../dsl/onnx/export.js';
import type { Availability, Backend, BuildOptions, EngineRunner, TensorMap } from '../backend.js';
import { checkInputs } from './check-inputs.js';
import { fromOrtTensor, ortData, ortSupports } from './ort-tensors.js';

type Ort = typeof OrtModule;

let loaded: { readonly ort: Ort } | { readonly error: Error } | undefined;

/** Loads onnxruntime-node once (its native binding may be missing on this platform). */
function loadOrt(): { readonly ort: Ort } | { readonly error: Error } {
  if (!loaded) {
    try {
      const requireCjs = createRequire(import.meta.url);
      loaded = { ort: requireCjs('onnxruntime-node') as Ort };
    } catch (e) {
      loaded = { error: e instanceof Error ? e : new Error(String(e)) };
    }
  }
  return loaded;
}

function backendError(message: string, cause?: unknown): NetdefError {
  const reason = cause instanceof Error ? `: ${cause.message}` : '';
  return new NetdefError(ErrorCode.Backend, `onnxruntime: ${message}${reason}`, { cause });
}

function checkThreads(threads: number | undefined): number {
  const t = threads ?? 0;
  if (!Number.isInteger(t) || t < 0) throw new NetdefError(ErrorCode.InvalidArgument, `threads must be a non-negative integer, found ${threads}`);
  return t;
}

/** A built ONNX Runtime session for one graph. */
export class OnnxRuntimeRunner implements EngineRunner {
  readonly backend = 'onnxruntime';
  /** The ONNX model the session was built from (for saving or inspection). */
  readonly model: Uint8Array;
  readonly #ort: Ort;
  readonly #session: OrtModule.InferenceSession;
  readonly #graphName: string;
  readonly #inputs: readonly InputNode[];
  readonly #outputs: readonly OutputNode[];
  #inFlight = 0;
  #idle: (() => void)[] = [];
  #disposing: Promise<void> | null = null;

  constructor(ort: Ort, session: OrtModule.InferenceSession, graph: Graph, model: Uint8Array) {
    this.#ort = ort;
    this.#session = session;
    this.#graphName = graph.name;
    this.#inputs = graphInputs(graph);
    this.#outputs = graphOutputs(graph);
    this.model = model;
  }

  serialize(): Uint8Array {
    return this.model;
  }

  async run(inputs: TensorMap): Promise<Record<string, HostTensor>> {
    if (this.#disposing) throw backendError(`the engine for graph '${this.#graphName}' has been disposed`);
    checkInputs(this.#inputs, inputs);
    const feeds: Record<string, OrtModule.Tensor> = {};
    for (const node of this.#inputs) {
      const t = inputs[node.name]!;
      feeds[node.name] = new this.#ort.Tensor(t.dtype as 'float32', ortData(t) as Float32Array, t.shape);
    }
    this.#inFlight++;
    let results: OrtModule.InferenceSession.OnnxValueMapType;
    try {
      results = await this.#session.run(feeds);
    } catch (e) {
      throw backendError(`running graph '${this.#graphName}' failed`, e);
    } finally {
      this.#settle();
    }
    return this.#collect(results);
  }

  /** Waits for runs in flight, then releases the session. Later calls return the same promise. */
  dispose(): Promise<void> {
    this.#disposing ??= this.#release();
    return this.#disposing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  async #release(): Promise<void> {
    if (this.#inFlight > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    try {
      await this.#session.release();
    } catch (e) {
      throw backendError(`releasing the session of graph '${this.#graphName}' failed`, e);
    }
  }

  #settle(): void {
    this.#inFlight--;
    if (this.#inFlight > 0) return;
    const waiters = this.#idle;
    this.#idle = [];
    for (const resolve of waiters) resolve();
  }

  #collect(results: OrtModule.InferenceSession.OnnxValueMapType): Record<string, HostTensor> {
    const out: Record<string, HostTensor> = {};
    for (const node of this.#outputs) {
      const value = results[node.name];
      if (!value) throw backendError(`graph '${this.#graphName}' produced no output '${node.name}'`);
      out[node.name] = fromOrtTensor(node.name, value as OrtModule.Tensor, node.outputs[0]!.type.dtype);
    }
    return out;
  }
}

async function build(graph: Graph, params: ReadonlyMap<string, HostTensor>, options: BuildOptions = {}): Promise<OnnxRuntimeRunner> {
  return load(exportOnnx(graph, params), graph, options);
}

/** A session from ONNX bytes; `graph` gives the interface (its Input and Output nodes). */
async function load(model: Uint8Array, graph: Graph, options: BuildOptions = {}): Promise<OnnxRuntimeRunner> {
  const threads = checkThreads(options.threads);
  const state = loadOrt();
  if ('error' in state) throw backendError('onnxruntime-node cannot be loaded', state.error);
  for (const node of [...graphInputs(graph), ...graphOutputs(graph)]) {
    const dtype = node.outputs[0]!.type.dtype;
    if (!ortSupports(dtype)) throw backendError(`graph input/output '${node.name}' is ${dtype}, which onnxruntime-node cannot exchange`);
  }
  let session: OrtModule.InferenceSession;
  try {
    session = await state.ort.InferenceSession.create(model, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: threads,
    });
  } catch (e) {
    throw backendError(`building a session for graph '${graph.name}' failed`, e);
  }
  return new OnnxRuntimeRunner(state.ort, session, graph, model);
}

/** The onnxruntime backend (CPU). */
export const onnxruntimeBackend: Backend = {
  name: 'onnxruntime',
  available(): Availability {
    const state = loadOrt();
    return 'error' in state ? { ok: false, reason: `onnxruntime-node cannot be loaded: ${state.error.message}` } : { ok: true };
  },
  build,
  load,
  target: () => 'onnx',
};
