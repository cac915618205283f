/**
 * The `cuda` backend: netdef's own CUDA engine in the native addon (native/src/cuda), reached
 * through the replay of the typed graph, run by NativeRunner (inputs validated before native code
 * sees them; native errors are NetdefErrors: no CUDA device, cuDNN missing, out of memory, bad blob).
 */
import { ErrorCode, fail, NetdefError } from '../../common/errors.js';
import type { HostTensor } from '../../common/host-tensor.js';
import type { Graph } from '../../dsl/ir/graph.js';
import type { Backend, BuildOptions, EngineRunner, TacticSearch } from '../backend.js';
import type { NativeCudaEngine } from '../native/addon-types.js';
import { deviceArchitecture, loadNativeAddon, nativeAvailability, toNativeGraph, toNetdefError } from '../native/load.js';
import { checkFp32Math, readTimingCache, reportBuild } from './build-report.js';
import { CudaRunner } from './cuda-runner.js';

const DEFAULT_BATCH = { min: 1, opt: 1, max: 1 } as const;
const SEARCHES: readonly TacticSearch[] = ['heuristic', 'exhaustive'];
const DEFAULT_SEARCH: TacticSearch = 'heuristic';
/** How the CUDA engine's timing cache begins (native/src/cuda/timing_cache.h). */
const CACHE_MAGIC = Buffer.from('netdef-cuda-timing-cache ');

/** Printed when float32 convolutions run with the default 'fma': a deliberate difference from TensorRT's and PyTorch's defaults. */
const FP32_NOTE = 'float32 convolutions run in exact float32 (FMA); TensorRT and PyTorch let float32 convolutions use TF32 by default: fp32Math \'tf32\' (--fp32-math tf32) allows it here';

function hasFloat32Convolutions(graph: Graph): boolean {
  return graph.nodes.some((n) => n.kind === 'Convolution' && n.outputs[0]!.type.dtype === 'float32');
}

/** A native error about the timing cache's text (ERR_ENGINE_FORMAT "timing cache line N: ...") names its file. */
function namingCache(e: NetdefError, path: string | undefined): NetdefError {
  if (path === undefined || e.code !== ErrorCode.EngineFormat || !e.message.startsWith('timing cache')) return e;
  return new NetdefError(e.code, `${path}: ${e.message} (delete the file to start a new cache)`, { cause: e });
}

export const cudaBackend: Backend = {
  name: 'cuda',
  available: nativeAvailability,
  async build(graph: Graph, params: ReadonlyMap<string, HostTensor>, options: BuildOptions = {}): Promise<EngineRunner> {
    const nms = graph.nodes.find((n) => n.kind === 'NMS');
    if (nms) {
      fail(ErrorCode.InvalidArgument, `NMS layer '${nms.name}': the CUDA engine does not run NMS inside the graph; build without NMS (the Detector runs it on the host) or use the tensorrt or onnxruntime backend`);
    }
    const search = options.search ?? DEFAULT_SEARCH;
    if (!(SEARCHES as readonly string[]).includes(search)) fail(ErrorCode.InvalidArgument, `search must be one of ${SEARCHES.join(', ')}, got '${search}'`);
    const tf32 = checkFp32Math(options.fp32Math);
    const timingCache = await readTimingCache(options.timingCache);
    if (timingCache && !Buffer.from(timingCache.subarray(0, CACHE_MAGIC.length)).equals(CACHE_MAGIC)) {
      fail(ErrorCode.EngineFormat, `${options.timingCache}: not a netdef CUDA timing cache (it does not start with '${CACHE_MAGIC}'; a TensorRT cache?): delete it or name another file`);
    }
    let native: NativeCudaEngine;
    try {
      native = await loadNativeAddon().buildCudaEngine(toNativeGraph(graph, params), {
        batch: options.batch ?? DEFAULT_BATCH, tune: true, exhaustive: search === 'exhaustive', tf32, ...(timingCache ? { timingCache } : {}),
      }, options.onProgress);
    } catch (e) {
      throw namingCache(toNetdefError(e), options.timingCache);
    }
    const runner = new CudaRunner('cuda', native, graph);
    try {
      if (options.fp32Math === undefined && hasFloat32Convolutions(graph)) options.onLog?.(FP32_NOTE);
      await reportBuild(options, 'CUDA engine timing cache', native);
    } catch (e) {
      await runner.dispose();
      throw e;
    }
    return runner;
  },
  async load(blob: Uint8Array, io: Graph): Promise<EngineRunner> {
    try {
      return new CudaRunner('cuda', await loadNativeAddon().loadCudaEngine(blob, {}), io);
    } catch (e) {
      throw toNetdefError(e);
    }
  },
  target: deviceArchitecture,
};
