import type { ErrorCodeValue } from '../common/errors.js';
import type { HostTensor } from '../common/host-tensor.js';
import type { Graph } from '../dsl/ir/graph.js';
import type { CandidateQuery, DeviceImage, ImageRun } from './image-run.js';

/** Named tensors in and out of an engine. */
export type TensorMap = Readonly<Record<string, HostTensor>>;

/** What an engine says about one of its layers. */
export interface LayerInfo {
  readonly name: string;
  readonly kind: string;
  /** The dtype the layer computed in. */
  readonly dtype: string;
  /** The kernel or implementation chosen for it. */
  readonly kernel: string;
  /** Milliseconds in the last profiling run (0 when not profiled). */
  readonly timeMs: number;
}

/** A built engine: runs the graph on named inputs. Asynchronous, safe to call concurrently. */
export interface EngineRunner {
  readonly backend: string;
  run(inputs: TensorMap): Promise<Record<string, HostTensor>>;
  /**
   * Decoded images letterboxed on the device, then the raw outputs or (with a query) the NMS
   * candidates selected there (engine/image-run.ts); only backends that can (cuda) have it.
   * `input` is the image input's [height, width]; the images are checked before native code.
   */
  runImages?(images: readonly DeviceImage[], input: readonly [number, number], candidates?: CandidateQuery): Promise<ImageRun>;
  /** The backend's blob, which `Backend.load` turns back into a runner. */
  serialize(): Uint8Array;
  /** The blob holds no weights (TensorRT stripped plans): a loaded engine is refitted before it runs. */
  readonly weightless?: boolean;
  /**
   * What refit() accepts: any weights of the graph's shapes (default), only the weights the engine
   * was built from (TensorRT kREFIT_IDENTICAL, stripped plans), or none (TensorRT without refit flags).
   */
  readonly refitMode?: RefitMode;
  /** Per-layer facts, where the backend knows them. */
  layers?(): LayerInfo[];
  /** Times each layer over `iterations` runs at `batch` (updates layers().timeMs). */
  profile?(batch: number, iterations: number): Promise<void>;
  /** Median milliseconds of the whole forward at `batch` (GPU backends: CUDA graph replays, device-resident inputs unless withCopies). */
  timeForward?(batch: number, iterations: number, withCopies: boolean): Promise<number>;
  /** Device memory the engine holds, in bytes (GPU backends). */
  deviceMemoryBytes?(): number;
  /** Replaces the weights in place (same names, shapes and dtypes); backends without it are rebuilt. */
  refit?(params: ReadonlyMap<string, HostTensor>): Promise<void>;
  dispose(): Promise<void>;
}

/** TensorRT builder settings (the `tensorrt` backend; docs/tensorrt.md). */
export interface TensorrtOptions {
  /** IBuilderConfig's workspace limit in bytes (default 1 GiB). */
  readonly workspaceBytes?: number;
  /**
   * 'refittable' (default, BuilderFlag::kREFIT): weights can be swapped by name later;
   * 'fixed': no refit (TensorRT may fold weights into kernels); 'identical' (kREFIT_IDENTICAL):
   * refit only with the same weights; 'stripped' (kSTRIP_PLAN + kREFIT_IDENTICAL): the saved plan
   * holds no weights and is refitted from the weights file when loaded.
   */
  readonly weights?: 'refittable' | 'fixed' | 'identical' | 'stripped';
}

/** How the CUDA engine finds each convolution's candidates before timing them (docs/benchmarks.md, build time). */
export type TacticSearch = 'heuristic' | 'exhaustive';

/** How float32 layers multiply: exactly ('fma') or on TF32 tensor cores ('tf32', inputs rounded to 10-bit mantissas). */
export type Fp32Math = 'fma' | 'tf32';

export type RefitMode = 'any' | 'identical' | 'none';

export interface BuildOptions {
  /** Threads for CPU backends (0 = the backend's default). */
  readonly threads?: number;
  /** Batch sizes the engine must accept (GPU backends build for this range). */
  readonly batch?: { readonly min: number; readonly opt: number; readonly max: number };
  /** Progress while building (GPU backends tune kernels per layer). */
  readonly onProgress?: (done: number, total: number, layer: string) => void;
  /**
   * GPU backends' timing cache file (the CUDA engine's own text format, or TensorRT's): read when
   * it exists, written atomically after the build with what the build measured.
   */
  readonly timingCache?: string;
  /**
   * The CUDA engine's candidate search: 'heuristic' (default: cuDNN's ranking, nothing run before
   * timing; layout modes that an untuned build shows cannot win are not tuned) or 'exhaustive'
   * (cuDNN runs every algorithm first, and every layout mode is tuned). Other backends refuse it.
   */
  readonly search?: TacticSearch;
  /**
   * float32 layers' math: the CUDA engine defaults to 'fma' (exact float32), TensorRT to 'tf32'
   * (BuilderFlag::kTF32 is on unless cleared); PyTorch's convolutions use TF32 by default too.
   */
  readonly fp32Math?: Fp32Math;
  /** What the build reports besides progress: modes tried and kept, where its time went, cache use, TensorRT's warnings. */
  readonly onLog?: (line: string) => void;
  /** Settings only the TensorRT backend reads. */
  readonly tensorrt?: TensorrtOptions;
}

/** Whether a backend can run here; when not, why, and the error code to report (default ERR_BACKEND). */
export type Availability = { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly code?: ErrorCodeValue };

/**
 * The backend contract: whether it can run here (with the reason when not), and build a runner
 * from a typed graph and its materialized parameters (effective weights by name, in the dtype of
 * the layer that uses them).
 */
export interface Backend {
  readonly name: string;
  available(): Availability;
  build(graph: Graph, params: ReadonlyMap<string, HostTensor>, options?: BuildOptions): Promise<EngineRunner>;
  /** A runner from a serialized blob; `io` is a graph holding just the Input and Output nodes. */
  load(blob: Uint8Array, io: Graph, options?: BuildOptions): Promise<EngineRunner>;
  /** What this machine's blobs are built for ('onnx' for the CPU backend, 'sm_90' for an H100 …). */
  target(): string;
}
