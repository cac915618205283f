/**
 * The `cuda` backend: netdef's own CUDA engine in the native addon (native/src/cuda), reached
 * through the replay of the typed graph, run by NativeRunner (inputs validated before native code
 * sees them; native errors are NetdefErrors: no CUDA device, cuDNN missing, out of memory, bad blob).
 */
import { ErrorCode, fail } from '../../common/errors.js';
import type { HostTensor } from '../../common/host-tensor.js';
import type { Graph } from '../../dsl/ir/graph.js';
import type { Backend, BuildOptions, EngineRunner } from '../backend.js';
import { deviceArchitecture, loadNativeAddon, nativeAvailability, toNativeGraph, toNetdefError } from '../native/load.js';
import { CudaRunner } from './cuda-runner.js';

const DEFAULT_BATCH = { min: 1, opt: 1, max: 1 } as const;

export const cudaBackend: Backend = {
  name: 'cuda',
  available: nativeAvailability,
  async build(graph: Graph, params: ReadonlyMap<string, HostTensor>, options: BuildOptions = {}): Promise<EngineRunner> {
    const nms = graph.nodes.find((n) => n.kind === 'NMS');
    if (nms) {
      fail(ErrorCode.InvalidArgument, `NMS layer '${nms.name}': the CUDA engine does not run NMS inside the graph; build without NMS (the Detector runs it on the host) or use the tensorrt or onnxruntime backend`);
    }
    try {
      const native = await loadNativeAddon().buildCudaEngine(toNativeGraph(graph, params), { batch: options.batch ?? DEFAULT_BATCH, tune: true }, options.onProgress);
      return new CudaRunner('cuda', native, graph);
    } catch (e) {
      throw toNetdefError(e);
    }
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
