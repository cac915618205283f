/**
 * What the two native backends share: a runner over an engine object of the addon (the CUDA engine
 * or TensorRT; engine/native/addon-types.ts). Inputs are checked against the graph's Input nodes
 * before native code sees them; the addon's errors are NetdefErrors already (engine/native/load.ts).
 */
import type { DType } from '../../common/dtype.js';
import type { HostTensor } from '../../common/host-tensor.js';
import { type Graph, graphInputs } from '../../dsl/ir/graph.js';
import type { InputNode } from '../../dsl/ir/node.js';
import type { EngineRunner, LayerInfo, TensorMap } from '../backend.js';
import type { NativeCudaEngine } from '../native/addon-types.js';
import { toNativeParams } from '../native/load.js';
import { checkInputs } from './check-inputs.js';

export class NativeRunner<E extends NativeCudaEngine = NativeCudaEngine> implements EngineRunner {
  readonly #inputs: readonly InputNode[];

  /** `io`: a graph holding at least the Input nodes. */
  constructor(readonly backend: string, protected readonly native: E, io: Graph) {
    this.#inputs = graphInputs(io);
  }

  async run(inputs: TensorMap): Promise<Record<string, HostTensor>> {
    checkInputs(this.#inputs, inputs);
    const batch = inputs[this.#inputs[0]!.name]!.shape[0]!;
    const raw = Object.fromEntries(this.#inputs.map((n) => [n.name, inputs[n.name]!.data]));
    const out = await this.native.run(raw, batch);
    return Object.fromEntries(Object.entries(out).map(([name, o]) => [name, { dtype: o.dtype as DType, shape: [...o.shape], data: o.data }]));
  }

  serialize(): Uint8Array {
    return this.native.serialize();
  }

  layers(): LayerInfo[] {
    return this.native.layers();
  }

  async profile(batch: number, iterations: number): Promise<void> {
    await this.native.profile(batch, iterations);
  }

  async timeForward(batch: number, iterations: number, withCopies: boolean): Promise<number> {
    return this.native.timeForward(batch, iterations, withCopies);
  }

  deviceMemoryBytes(): number {
    return this.native.deviceMemoryBytes();
  }

  /** New weights by name, in place (NativeCudaEngine.refit). */
  async refit(params: ReadonlyMap<string, HostTensor>): Promise<void> {
    await this.native.refit(toNativeParams(params));
  }

  async dispose(): Promise<void> {
    this.native.dispose();
  }
}
