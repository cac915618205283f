/**
 * The `tensorrt` backend: the typed graph replayed into TensorRT's INetworkDefinition by the native
 * adapter (native/src/tensorrt), built into a plan (strongly typed: each layer's precision is the
 * policy's), loaded and run with named tensors and a CUDA graph where TensorRT allows one; the plan
 * is the engine file's blob. Weights are refittable by name unless asked otherwise, so `netdef
 * refit` swaps them without a rebuild; `layers()` is TensorRT's own description of the engine
 * (IEngineInspector), with the netdef layers each fused engine layer implements.
 *
 * Not run in this project: TensorRT cannot be installed on its machines, so this backend is only
 * compiled against TensorRT's public headers (docs/tensorrt.md). Where the addon was built without
 * them, or libnvinfer is not found, available() says so and nothing is attempted.
 */
import { ErrorCode, fail } from '../../common/errors.js';
import type { HostTensor } from '../../common/host-tensor.js';
import type { Graph } from '../../dsl/ir/graph.js';
import type { Backend, BuildOptions, EngineRunner, RefitMode, TensorrtOptions } from '../backend.js';
import type { NativeTensorrtBuildOptions, NativeTensorrtEngine } from '../native/addon-types.js';
import { deviceArchitecture, loadNativeAddon, tensorrtAvailability, toNativeGraph, toNetdefError } from '../native/load.js';
import { checkFp32Math, readTimingCache, reportBuild } from './build-report.js';
import { NativeRunner } from './native-runner.js';
import { parseInspectorJson, type TrtLayer } from './trt-inspector.js';

const DEFAULT_BATCH = { min: 1, opt: 1, max: 1 } as const;

/** The builder flags each weights mode asks for (docs/tensorrt.md, "Refit"). */
const WEIGHT_FLAGS: Readonly<Record<NonNullable<TensorrtOptions['weights']>, Pick<NativeTensorrtBuildOptions, 'refit' | 'refitIdentical' | 'stripPlan'>>> = {
  refittable: { refit: true },
  fixed: {},
  identical: { refitIdentical: true },
  stripped: { refitIdentical: true, stripPlan: true },
};

class TensorrtRunner extends NativeRunner<NativeTensorrtEngine> {
  /** From the build's flags; a loaded plan says nothing, and the engine file's metadata keeps the mode. */
  readonly refitMode: RefitMode;
  readonly weightless: boolean;

  constructor(native: NativeTensorrtEngine, io: Graph, built?: NativeTensorrtBuildOptions) {
    super('tensorrt', native, io);
    this.weightless = built?.stripPlan === true;
    this.refitMode = built === undefined || built.refit ? 'any' : built.refitIdentical ? 'identical' : 'none';
  }

  /** Engine layers as TensorRT built them, with the last profile's times (IProfiler) by layer name. */
  override layers(): TrtLayer[] {
    const times = new Map(this.native.layers().map((l) => [l.name, l.timeMs]));
    return parseInspectorJson(this.native.inspect()).map((l) => ({ ...l, timeMs: times.get(l.name) ?? 0 }));
  }
}

/** The native build options from the backend's: batch range, workspace, weight flags, timing cache. */
export async function tensorrtBuildOptions(options: BuildOptions): Promise<NativeTensorrtBuildOptions> {
  const trt = options.tensorrt ?? {};
  const mode = trt.weights ?? 'refittable';
  const flags = WEIGHT_FLAGS[mode];
  if (!flags) fail(ErrorCode.InvalidArgument, `unknown TensorRT weights mode '${mode}' (${Object.keys(WEIGHT_FLAGS).join(', ')})`);
  if (trt.workspaceBytes !== undefined && !(Number.isSafeInteger(trt.workspaceBytes) && trt.workspaceBytes > 0)) {
    fail(ErrorCode.InvalidArgument, `the TensorRT workspace must be a positive number of bytes, got ${trt.workspaceBytes}`);
  }
  if (options.search !== undefined) fail(ErrorCode.InvalidArgument, `search '${options.search}' is the CUDA engine's tactic search: TensorRT chooses its own (leave it out with the tensorrt backend)`);
  const cache = await readTimingCache(options.timingCache);
  const tf32 = options.fp32Math === undefined ? {} : { tf32: checkFp32Math(options.fp32Math) };
  return {
    batch: options.batch ?? DEFAULT_BATCH, ...flags,
    ...(trt.workspaceBytes !== undefined ? { workspaceBytes: trt.workspaceBytes } : {}),
    ...(cache ? { timingCache: cache } : {}), ...tf32,
  };
}

export const tensorrtBackend: Backend = {
  name: 'tensorrt',
  available: tensorrtAvailability,
  async build(graph: Graph, params: ReadonlyMap<string, HostTensor>, options: BuildOptions = {}): Promise<EngineRunner> {
    const native = await tensorrtBuildOptions(options);
    let engine: NativeTensorrtEngine;
    try {
      engine = await loadNativeAddon().buildTensorrtEngine(toNativeGraph(graph, params), native);
    } catch (e) {
      throw toNetdefError(e);
    }
    const runner = new TensorrtRunner(engine, graph, native);
    try {
      // A stripped plan runs only once refitted: with the weights it was built from.
      if (native.stripPlan) await runner.refit(params);
      await reportBuild(options, 'TensorRT timing cache', engine);
    } catch (e) {
      await runner.dispose();
      throw e;
    }
    return runner;
  },
  async load(blob: Uint8Array, io: Graph): Promise<EngineRunner> {
    try {
      return new TensorrtRunner(await loadNativeAddon().loadTensorrtEngine(blob, {}), io);
    } catch (e) {
      throw toNetdefError(e);
    }
  },
  /** The GPU architecture and TensorRT version plans are built for here ('sm_90+trt10.16.0'); plans are tied to both. */
  target(): string {
    try {
      const trt = loadNativeAddon().capabilities().tensorrt;
      return `${deviceArchitecture()}+trt${versionText(trt.libraryVersion ?? trt.headerVersion ?? 0)}`;
    } catch {
      return 'none';
    }
  },
};

/** getInferLibVersion()-style numbers (major·10000 + minor·100 + patch) as '10.16.0'. */
export function versionText(version: number): string {
  const MAJOR = 10000, MINOR = 100;
  return `${Math.floor(version / MAJOR)}.${Math.floor((version % MAJOR) / MINOR)}.${version % MINOR}`;
}
