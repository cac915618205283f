/**
 * Loading the native addon (native/build/Release/netdef_native.node, built by `npm run build:native`)
 * and its boundary: every error that comes out of it is a NetdefError.
 *
 * - Not built: ERR_BACKEND saying to run `npm run build:native` (needs cmake and nvcc).
 * - Fails to load (dlopen): ERR_BACKEND with the loader's own message.
 * - Errors from the addon carry a `code` (addon-types.ts lists them); they become NetdefErrors with
 *   that code (ERR_BACKEND for a code netdef does not know).
 * - buildCudaEngine / loadCudaEngine first check the addon's capabilities(): no driver or no GPU is
 *   ERR_NO_CUDA_DEVICE before native code is asked to build anything.
 *
 * - buildTensorrtEngine / loadTensorrtEngine first check that the addon holds the TensorRT adapter and
 *   finds libnvinfer (ERR_BACKEND saying how to get it), then that there is a GPU.
 *
 * `nativeAvailability()` and `tensorrtAvailability()` combine all of this into the backend
 * contract's {ok, reason}.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, type ErrorCodeValue, NetdefError } from '../../common/errors.js';
import type { HostTensor } from '../../common/host-tensor.js';
import type { Graph } from '../../dsl/ir/graph.js';
import type { Availability } from '../backend.js';
import type { NativeAddon, NativeBuildOptions, NativeCapabilities, NativeCudaEngine, NativeGraph, NativeParam, NativeTensorrtEngine } from './addon-types.js';

const ADDON = join('native', 'build', 'Release', 'netdef_native.node');

/** The codes native errors may carry, as NetdefError codes. */
const NATIVE_CODES: Readonly<Record<string, ErrorCodeValue>> = {
  [ErrorCode.NoCudaDevice]: ErrorCode.NoCudaDevice,
  [ErrorCode.CudnnUnavailable]: ErrorCode.CudnnUnavailable,
  [ErrorCode.OutOfMemory]: ErrorCode.OutOfMemory,
  [ErrorCode.EngineFormat]: ErrorCode.EngineFormat,
  [ErrorCode.Backend]: ErrorCode.Backend,
  [ErrorCode.InvalidArgument]: ErrorCode.InvalidArgument,
  [ErrorCode.WeightsMismatch]: ErrorCode.WeightsMismatch,
};

/** The package root: the nearest ancestor of this file holding package.json (from the sources or from dist/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

/** Where the addon is expected. */
export function nativeAddonPath(): string {
  return join(packageRoot(), ADDON);
}

/** A native error (a JS Error with `code`) as a NetdefError; NetdefErrors pass through. */
export function toNetdefError(e: unknown): NetdefError {
  if (e instanceof NetdefError) return e;
  const code = typeof (e as { code?: unknown })?.code === 'string' ? NATIVE_CODES[(e as { code: string }).code] : undefined;
  const message = e instanceof Error ? e.message : String(e);
  return new NetdefError(code ?? ErrorCode.Backend, message, { cause: e });
}

function typed<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw toNetdefError(e);
  }
}

async function typedAsync<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw toNetdefError(e);
  }
}

function wrapTensorrtEngine(raw: NativeTensorrtEngine): NativeTensorrtEngine {
  return {
    ...wrapEngine(raw),
    inspect: () => typed(() => raw.inspect()),
    ...builtReport(raw),
  };
}

/** What a freshly built engine reports besides itself (timing cache, build log). */
function builtReport(raw: NativeCudaEngine): Pick<NativeCudaEngine, 'timingCache' | 'buildLog'> {
  return { ...(raw.timingCache ? { timingCache: raw.timingCache } : {}), ...(raw.buildLog ? { buildLog: raw.buildLog } : {}) };
}

function wrapEngine(raw: NativeCudaEngine): NativeCudaEngine {
  return {
    run: (inputs, batch) => typedAsync(() => raw.run(inputs, batch)),
    runImages: (images, candidates) => typedAsync(async () => {
      if (typeof raw.runImages !== 'function') throw new NetdefError(ErrorCode.Backend, 'this build of the native addon has no runImages: rebuild it with `npm run build:native`');
      return raw.runImages(images, candidates);
    }),
    profile: (batch, iterations) => typedAsync(() => raw.profile(batch, iterations)),
    layers: () => typed(() => raw.layers()),
    timeForward: (batch, iterations, withCopies) => typedAsync(async () => {
      if (typeof raw.timeForward !== 'function') throw new NetdefError(ErrorCode.Backend, 'this build of the native addon has no timeForward: rebuild it with `npm run build:native`');
      return raw.timeForward(batch, iterations, withCopies);
    }),
    refit: (params) => typedAsync(async () => {
      if (typeof raw.refit !== 'function') throw new NetdefError(ErrorCode.Backend, 'this build of the native addon has no refit: rebuild it with `npm run build:native`');
      return raw.refit(params);
    }),
    serialize: () => typed(() => raw.serialize()),
    deviceMemoryBytes: () => typed(() => raw.deviceMemoryBytes()),
    dispose: () => typed(() => raw.dispose()),
  };
}

/** ERR_BACKEND unless the addon holds the TensorRT adapter and finds libnvinfer; then as requireCuda. */
function requireTensorrt(raw: NativeAddon, what: string): void {
  const status = tensorrtStatus(typed(() => raw.capabilities()));
  if (!status.ok) throw new NetdefError(status.code ?? ErrorCode.Backend, `${what}: ${status.reason}`);
}

/** ERR_NO_CUDA_DEVICE unless the addon sees a driver and a GPU. */
function requireCuda(raw: NativeAddon, what: string): void {
  const status = cudaStatus(typed(() => raw.capabilities()));
  if (!status.ok) throw new NetdefError(ErrorCode.NoCudaDevice, `${what}: ${status.reason}`);
}

async function buildEngine(raw: NativeAddon, graph: NativeGraph, options: NativeBuildOptions, onProgress?: (done: number, total: number, layer: string) => void): Promise<NativeCudaEngine> {
  requireCuda(raw, `building a CUDA engine for graph '${graph.name}'`);
  // The callback's own errors must not reach native code; the first one fails the build afterwards.
  let progressError: unknown;
  const report = onProgress && ((done: number, total: number, layer: string) => {
    try {
      onProgress(done, total, layer);
    } catch (e) {
      progressError ??= e;
    }
  });
  const built = await typedAsync(() => raw.buildCudaEngine(graph, options, report));
  const engine = { ...wrapEngine(built), ...builtReport(built) };
  if (progressError !== undefined) {
    engine.dispose();
    throw new NetdefError(ErrorCode.InvalidArgument, `the onProgress callback threw: ${progressError instanceof Error ? progressError.message : String(progressError)}`, { cause: progressError });
  }
  return engine;
}

function wrapAddon(raw: NativeAddon): NativeAddon {
  return {
    capabilities: () => typed(() => raw.capabilities()),
    recordReplay: (graph) => typed(() => raw.recordReplay(graph)),
    planCudaEngine: (graph) => typed(() => raw.planCudaEngine(graph)),
    buildCudaEngine: (graph, options, onProgress) => typedAsync(() => buildEngine(raw, graph, options, onProgress)),
    loadCudaEngine: (blob, options) => typedAsync(async () => {
      requireCuda(raw, 'loading a CUDA engine');
      return wrapEngine(await raw.loadCudaEngine(blob, options));
    }),
    buildTensorrtEngine: (graph, options) => typedAsync(async () => {
      requireTensorrt(raw, `building a TensorRT engine for graph '${graph.name}'`);
      return wrapTensorrtEngine(await raw.buildTensorrtEngine(graph, options));
    }),
    loadTensorrtEngine: (plan, options) => typedAsync(async () => {
      requireTensorrt(raw, 'loading a TensorRT engine');
      return wrapTensorrtEngine(await raw.loadTensorrtEngine(plan, options));
    }),
  };
}

let loaded: NativeAddon | undefined;

/** The addon, loaded once; throws ERR_BACKEND when it is not built or cannot be loaded. */
export function loadNativeAddon(): NativeAddon {
  if (loaded) return loaded;
  const path = nativeAddonPath();
  if (!existsSync(path)) {
    throw new NetdefError(ErrorCode.Backend, `the native addon is not built (${path} does not exist): run \`npm run build:native\` (it needs cmake and nvcc from the CUDA toolkit)`);
  }
  try {
    loaded = wrapAddon(createRequire(import.meta.url)(path) as NativeAddon);
  } catch (e) {
    throw new NetdefError(ErrorCode.Backend, `the native addon ${path} cannot be loaded: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return loaded;
}

/** The addon's capabilities, or why the addon cannot be had. */
function capabilitiesOr(): NativeCapabilities | Availability {
  try {
    return loadNativeAddon().capabilities();
  } catch (e) {
    return { ok: false, reason: toNetdefError(e).message };
  }
}

/**
 * Why CUDA is unusable, in words: the addon's reason, and the CUDA_VISIBLE_DEVICES in force (which
 * `--device N` sets) since a GPU index that does not exist hides every GPU.
 */
function noCudaReason(reason: string | undefined): string {
  const why = reason ?? 'unknown reason';
  const text = why.startsWith('no CUDA device') ? why : `no CUDA device: ${why}`;
  const visible = process.env['CUDA_VISIBLE_DEVICES'];
  const hidden = visible !== undefined && text.startsWith('no CUDA device');
  return !hidden ? text : `${text} (CUDA_VISIBLE_DEVICES=${visible}; --device N sets it: is GPU ${visible} present? nvidia-smi lists them)`;
}

function cudaStatus(caps: NativeCapabilities): Availability {
  if (!caps.cuda.ok) return { ok: false, reason: noCudaReason(caps.cuda.reason), code: ErrorCode.NoCudaDevice };
  return { ok: true };
}

function tensorrtStatus(caps: NativeCapabilities): Availability {
  const trt = caps.tensorrt as NativeCapabilities['tensorrt'] | undefined;
  if (!trt) return { ok: false, reason: 'this build of the native addon predates the TensorRT backend: rebuild it with `npm run build:native`' };
  if (!trt.ok) return { ok: false, reason: trt.reason ?? 'TensorRT is not available' };
  return cudaStatus(caps);
}

/** Whether the CUDA engine can run here, and why not. */
export function nativeAvailability(): Availability {
  const caps = capabilitiesOr();
  if ('ok' in caps) return caps;
  if (!caps.cuda.ok) return cudaStatus(caps);
  if (!caps.cudaEngine) return { ok: false, reason: 'the native addon was built without the CUDA engine (native/src/cuda/engine.cc missing or NETDEF_WITH_CUDA_ENGINE=OFF)' };
  return { ok: true };
}

/** Parameters by name as the addon takes them (nothing is copied). */
export function toNativeParams(params: ReadonlyMap<string, HostTensor>): Record<string, NativeParam> {
  return Object.fromEntries([...params].map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape, data: t.data }]));
}

/** The GPU architecture this machine's first device builds for ('sm_90'), or 'none'. */
export function deviceArchitecture(): string {
  try {
    const device = loadNativeAddon().capabilities().cuda.devices[0];
    return device ? `sm_${device.computeCapability[0]}${device.computeCapability[1]}` : 'none';
  } catch {
    return 'none';
  }
}

/** Whether the TensorRT backend can run here, and why not. */
export function tensorrtAvailability(): Availability {
  const caps = capabilitiesOr();
  return 'ok' in caps ? caps : tensorrtStatus(caps);
}

/** The addon's view of a typed graph and its materialized parameters (nothing is copied). */
export function toNativeGraph(graph: Graph, params: ReadonlyMap<string, HostTensor>): NativeGraph {
  return { name: graph.name, nodes: graph.nodes, params: toNativeParams(params) };
}
