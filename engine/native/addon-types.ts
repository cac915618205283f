/**
 * The contract between TypeScript and the native addon (native/, built by cmake-js into
 * native/build/Release/netdef_native.node). The addon receives the typed graph as the plain IR
 * nodes of dsl/ir (frozen objects, `kind` plus per-kind fields; ParamRef fields carry only names
 * and shapes) and the materialized parameters by name; it never sees a weight file.
 *
 * Errors thrown by the addon are JS Errors with a string `code`: 'ERR_NO_CUDA_DEVICE' (no driver or
 * no GPU), 'ERR_CUDNN_UNAVAILABLE', 'ERR_OUT_OF_MEMORY', 'ERR_ENGINE_FORMAT' (a blob that does not
 * parse), 'ERR_BACKEND' (anything else), 'ERR_INVALID_ARGUMENT' (bad input shape/dtype/name), 'ERR_WEIGHTS_MISMATCH' (refit with weights that
 * do not fit). The
 * TypeScript wrapper turns them into NetdefErrors.
 */
import type { IrNode } from '../../dsl/ir/node.js';

/** A parameter as the addon receives it: raw little-endian bytes in `dtype`. */
export interface NativeParam {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

export interface NativeGraph {
  readonly name: string;
  /** The IR nodes as they are (Constant values and ParamRef inits are HostTensors: {dtype, shape, data}). */
  readonly nodes: readonly IrNode[];
  /** Effective parameters by name (weights/bind.ts materializeParams). */
  readonly params: Readonly<Record<string, NativeParam>>;
}

export interface NativeDevice {
  readonly index: number;
  readonly name: string;
  /** e.g. [9, 0] for an H100 */
  readonly computeCapability: readonly [number, number];
  readonly memoryBytes: number;
}

export interface NativeCapabilities {
  /** The addon's own version string (matches package.json). */
  readonly version: string;
  /** Whether the addon was built with the CUDA engine (native/CMakeLists.txt, NETDEF_WITH_CUDA_ENGINE). */
  readonly cudaEngine: boolean;
  readonly cuda: { readonly ok: boolean; readonly reason?: string; readonly runtimeVersion: number; readonly driverVersion: number; readonly devices: readonly NativeDevice[] };
  readonly cudnn: { readonly ok: boolean; readonly reason?: string; readonly version?: number };
  /**
   * The TensorRT adapter (native/src/tensorrt): `compiled` when the addon was built with TensorRT's
   * headers (NV_TENSORRT_VERSION in `headerVersion`), `ok` when libnvinfer of that major version
   * was found at run time (its getInferLibVersion() and path).
   */
  readonly tensorrt: {
    readonly compiled: boolean; readonly ok: boolean; readonly reason?: string;
    readonly headerVersion?: number; readonly libraryVersion?: number; readonly libraryPath?: string;
  };
}

export interface NativeBuildOptions {
  readonly batch: { readonly min: number; readonly opt: number; readonly max: number };
  readonly device?: number;
  /** Time candidate kernels per layer and keep the fastest (default true). */
  readonly tune?: boolean;
  /** Candidates from cuDNN's FindEx (every algorithm run) and every layout mode tuned (default false: heuristics). */
  readonly exhaustive?: boolean;
  /** float32 convolutions may use TF32 tensor cores (default false: FMA math, exact float32). */
  readonly tf32?: boolean;
  /** A timing cache to start from (the engine's text format); the built engine's `timingCache` adds this build's entries. */
  readonly timingCache?: Uint8Array;
}

/** TensorRT builder settings (trt_api.h TrtBuildOptions). */
export interface NativeTensorrtBuildOptions {
  readonly batch: { readonly min: number; readonly opt: number; readonly max: number };
  readonly device?: number;
  /** IBuilderConfig::setMemoryPoolLimit(kWORKSPACE) in bytes (default 1 GiB). */
  readonly workspaceBytes?: number;
  /** BuilderFlag::kREFIT: weights can be replaced by name later. */
  readonly refit?: boolean;
  /** BuilderFlag::kREFIT_IDENTICAL: refit only with the weights built with (lets TensorRT optimize as for fixed weights). */
  readonly refitIdentical?: boolean;
  /** BuilderFlag::kSTRIP_PLAN: a plan without its weights; refit before running. */
  readonly stripPlan?: boolean;
  /** A serialized timing cache to start from. */
  readonly timingCache?: Uint8Array;
  /** BuilderFlag::kTF32 set (true) or cleared (false); absent: TensorRT's default (set). */
  readonly tf32?: boolean;
}

export interface NativeLayerInfo {
  readonly name: string;
  readonly kind: string;
  /** dtype the layer computed in ('float32', 'float16', ...) */
  readonly dtype: string;
  /** the kernel chosen for it ('cudnn:implicit_gemm', 'netdef:silu_f16', 'view', ...) */
  readonly kernel: string;
  /** milliseconds in the last profiling run (0 before any) */
  readonly timeMs: number;
}

export interface NativeOutput {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/** A decoded image (RGB, HWC) and where the letterbox puts it in the engine's input (engine/image-run.ts). */
export interface NativeLetterboxImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly unpadWidth: number;
  readonly unpadHeight: number;
  readonly padLeft: number;
  readonly padTop: number;
}

/** The candidate pre-filter of runImages (native/src/cuda/ops/candidates.cuh); conf is rounded to float32. */
export interface NativeCandidateQuery {
  readonly conf: number;
  readonly maxNms: number;
  readonly classes?: readonly number[];
}

/** Per image counts[b] records of 28 bytes (cx, cy, w, h, score float32; class, anchor int32; LE), image after image. */
export interface NativeCandidates {
  readonly counts: Int32Array;
  readonly records: Uint8Array;
}

/** runImages' answer: the raw outputs without a query, the candidates with one. */
export interface NativeImageRun {
  readonly outputs?: Record<string, NativeOutput>;
  readonly candidates?: NativeCandidates;
}

export interface NativeCudaEngine {
  /** Runs on a worker thread; `inputs` by graph input name, raw bytes of [batch, ...] tensors. */
  run(inputs: Readonly<Record<string, Uint8Array>>, batch: number): Promise<Record<string, NativeOutput>>;
  /**
   * The CUDA engine only (TensorRT rejects it with ERR_BACKEND): the images (one per batch index;
   * bytes copied before the worker starts) letterboxed into the one image input on the device,
   * the forward, then the raw outputs or the candidates of output0. Bad geometry or a batch
   * outside the range reject with ERR_INVALID_ARGUMENT.
   */
  runImages(images: readonly NativeLetterboxImage[], candidates?: NativeCandidateQuery): Promise<NativeImageRun>;
  /** Runs `iterations` times at `batch` timing each layer with CUDA events; updates layers().timeMs. */
  profile(batch: number, iterations: number): Promise<void>;
  layers(): NativeLayerInfo[];
  /** Median milliseconds of the captured forward at `batch` over `iterations` replays (CUDA events); with the host copies run() adds when `withCopies`. */
  timeForward(batch: number, iterations: number, withCopies: boolean): Promise<number>;
  /**
   * New values for weights by name (as NativeGraph.params: the graph's parameter names), converted
   * to each weight's stored dtype and written over the engine's weights in place (no rebuild; the
   * captured CUDA graphs stay valid). Names that are not weights of the engine, or a different
   * number of values, reject with ERR_WEIGHTS_MISMATCH listing every mismatch, and nothing changes.
   * Weights not given keep their values. Runs on a worker thread after runs in flight.
   */
  refit(params: Readonly<Record<string, NativeParam>>): Promise<void>;
  /** The backend's blob (kernels chosen, weights, plan), for engine files. */
  serialize(): Uint8Array;
  /** Peak device memory the engine holds, in bytes. */
  deviceMemoryBytes(): number;
  dispose(): void;
  /**
   * After a build: the timing cache to save, and the build's log (the CUDA engine: layout modes
   * tried and kept, where the time went, cache use; TensorRT: its warnings and errors).
   */
  readonly timingCache?: Uint8Array;
  readonly buildLog?: readonly string[];
}

/** A TensorRT engine: the same object, plus TensorRT's own description of it. */
export interface NativeTensorrtEngine extends NativeCudaEngine {
  /** IEngineInspector::getEngineInformation(kJSON) (engine/backends/trt-inspector.ts parses it). */
  inspect(): string;
}

/** One op of a planned CUDA engine (cuda::planEngine): fused into another op ('' when it runs), its output's layout ('' when not 4-D), whether the direct convolution kernel takes it. */
export interface NativePlannedOp {
  readonly name: string;
  readonly kind: string;
  readonly fusedInto: string;
  readonly layout: 'nchw' | 'nhwc' | '';
  readonly direct: boolean;
  /** Running convolutions not on the direct kernel: why netdef's igemm kernel could not run it ('' when it could). */
  readonly igemmWhyNot?: string;
  /** The side stream it runs on beside the main one (independent branches), -1 on the main stream. */
  readonly sideStream: number;
}

/** A layout mode a CUDA engine build would consider, as its passes lay the graph out. */
export interface NativePlannedMode {
  readonly mode: string;
  readonly concatInputsInPlace: number;
  readonly ops: readonly NativePlannedOp[];
  /** The activation arena at batch 1 with the side streams as NETDEF_CUDA_STREAMS asks (on unless 0), and with one stream. */
  readonly arenaBytes: number;
  readonly arenaBytesOneStream: number;
  /** The weights' device buffer (each filter once: a channels-last convolution's only as its KRSC copy), and the weights' own bytes. */
  readonly deviceWeightBytes: number;
  readonly weightBytes: number;
}

export interface NativeAddon {
  capabilities(): NativeCapabilities;
  /** The replay into a recording network: one line per call (no GPU needed). */
  recordReplay(graph: NativeGraph): string[];
  /** The CUDA engine's build passes without a GPU (nothing timed): per layout mode, each op's fusion, layout and direct-kernel choice. */
  planCudaEngine(graph: NativeGraph): NativePlannedMode[];
  buildCudaEngine(graph: NativeGraph, options: NativeBuildOptions, onProgress?: (done: number, total: number, layer: string) => void): Promise<NativeCudaEngine>;
  loadCudaEngine(blob: Uint8Array, options: { readonly device?: number }): Promise<NativeCudaEngine>;
  /** Replays the graph into TensorRT's network definition, builds the plan and loads it (ERR_BACKEND without TensorRT). */
  buildTensorrtEngine(graph: NativeGraph, options: NativeTensorrtBuildOptions): Promise<NativeTensorrtEngine>;
  loadTensorrtEngine(plan: Uint8Array, options: { readonly device?: number }): Promise<NativeTensorrtEngine>;
}
