/**
 * The `cuda` backend: netdef's own CUDA engine in the native addon (native/src/cuda), reached
 * through the replay of the typed graph. Inputs are validated here before native code sees them;
 * native errors become NetdefErrors (no CUDA device, cuDNN missing, out of memory, bad engine blob).
 */
import { ErrorCode, fail } from '../../common/errors.js';
import type { HostTensor } from '../../common/host-tensor.js';
import type { DType } from '../../common/dtype.js';
import { type Graph, graphInputs } from '../../dsl/ir/graph.js';
import type { InputNode } from '../../dsl/ir/node.js';
import type { Backend, BuildOptions, EngineRunner, LayerInfo, TensorMap } from '../backend.js';
import type { NativeCudaEngine } from '../native/addon-types.js';
import { loadNativeAddon, nativeAvailability, toNativeGraph, toNativeParams, toNetdefError } from '../native/load.js';
import { checkInputs } from './check-inputs.js';

const DEFAULT_BATCH = { min: 1, opt: 1, max: 1 } as const;

class CudaRunner implements EngineRunner {
  readonly backend = 'cuda';
  readonly #inputs: readonly InputNode[];

  constructor(private readonly native: NativeCudaEngine, io: Graph) {
    this.#inputs = graphInputs(io);
  }

  async run(inputs: TensorMap): Promise<Record<string, HostTensor>> {
    checkInputs(this.#inputs, inputs);
    const batch = inputs[this.#inputs[0]!.name]!.shape[0]!;
    const raw = Object.fromEntries(this.#inputs.map((n) => [n.name, inputs[n.name]!.data]));
    try {
      const out = await this.native.run(raw, batch);
      return Object.fromEntries(Object.entries(out).map(([name, o]) => [name, { dtype: o.dtype as DType, shape: [...o.shape], data: o.data }]));
    } catch (e) {
      throw toNetdefError(e);
    }
  }

  /** In place: the engine keeps its kernels, memory plan and captured graphs (see NativeCudaEngine.refit). */
  async refit(params: ReadonlyMap<string, HostTensor>): Promise<void> {
    try {
      await this.native.refit(toNativeParams(params));
    } catch (e) {
      throw toNetdefError(e);
    }
  }

  serialize(): Uint8Array {
    return this.native.serialize();
  }

  layers(): LayerInfo[] {
    return this.native.layers();
  }

  async profile(batch: number, iterations: number): Promise<void> {
    try {
      await this.native.profile(batch, iterations);
    } catch (e) {
      throw toNetdefError(e);
    }
  }

  async timeForward(batch: number, iterations: number, withCopies: boolean): Promise<number> {
    try {
      return await this.native.timeForward(batch, iterations, withCopies);
    } catch (e) {
      throw toNetdefError(e);
    }
  }

  deviceMemoryBytes(): number {
    return this.native.deviceMemoryBytes();
  }

  async dispose(): Promise<void> {
    this.native.dispose();
  }
}

/** The GPU architecture this machine's first device builds for ('sm_90'), or 'none'. */
function target(): string {
  try {
    const device = loadNativeAddon().capabilities().cuda.devices[0];
    return device ? `sm_${device.computeCapability[0]}${device.computeCapability[1]}` : 'none';
  } catch {
    return 'none';
  }
}

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
      return new CudaRunner(native, graph);
    } catch (e) {
      throw toNetdefError(e);
    }
  },
  async load(blob: Uint8Array, io: Graph): Promise<EngineRunner> {
    try {
      return new CudaRunner(await loadNativeAddon().loadCudaEngine(blob, {}), io);
    } catch (e) {
      throw toNetdefError(e);
    }
  },
  target,
};
