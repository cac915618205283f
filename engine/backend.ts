import type { HostTensor } from '../common/host-tensor.js';
import type { Graph } from '../dsl/ir/graph.js';

/** Named tensors in and out of an engine. */
export type TensorMap = Readonly<Record<string, HostTensor>>;

/** A built engine: runs the graph on named inputs. Asynchronous, safe to call concurrently. */
export interface EngineRunner {
  readonly backend: string;
  run(inputs: TensorMap): Promise<Record<string, HostTensor>>;
  dispose(): Promise<void>;
}

export interface BuildOptions {
  /** Threads for CPU backends (0 = the backend's default). */
  readonly threads?: number;
}

export type Availability = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * The backend contract: whether it can run here (with the reason when not), and build a runner
 * from a typed graph and its materialized parameters (effective weights by name, in the dtype of
 * the layer that uses them).
 */
export interface Backend {
  readonly name: string;
  available(): Availability;
  build(graph: Graph, params: ReadonlyMap<string, HostTensor>, options?: BuildOptions): Promise<EngineRunner>;
}
