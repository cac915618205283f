/**
 * Helpers for the ONNX tests: a tiny graph assembler over makeNode, seeded random tensors, running
 * a graph through the onnxruntime backend, and a closeness check with a tolerance.
 */
import { expect } from 'vitest';
import type { DType } from '../../common/dtype.js';
import { fromFloat32, type HostTensor, toFloat32 } from '../../common/host-tensor.js';
import { type Graph, makeGraph } from '../../dsl/ir/graph.js';
import { makeNode } from '../../dsl/ir/infer.js';
import type { NodeFields } from '../../dsl/ir/node-base.js';
import type { IrNode, NodeKind, NodeOfKind } from '../../dsl/ir/node.js';
import type { Dim, TensorValue } from '../../dsl/ir/tensor-type.js';
import { onnxruntimeBackend } from '../../engine/backends/onnxruntime.js';
import { seededRandom } from '../../common/random.js';

/** A node's fields without `kind`, `name` and `inputs` (given separately). */
type Fields<K extends NodeKind> = Omit<NodeFields<NodeOfKind<K>>, 'kind' | 'name' | 'inputs'>;

/** Builds a graph node by node, in order. */
export class GraphAssembler {
  readonly nodes: IrNode[] = [];

  add<K extends NodeKind>(kind: K, name: string, fields: Fields<K>, inputs: readonly TensorValue[] = []): NodeOfKind<K> {
    const node = makeNode<NodeOfKind<K>>({ ...fields, kind, name, inputs: [] } as unknown as NodeFields<NodeOfKind<K>>, inputs);
    this.nodes.push(node);
    return node;
  }

  /** Adds a node and returns its first output. */
  value<K extends NodeKind>(kind: K, name: string, fields: Fields<K>, inputs: readonly TensorValue[] = []): TensorValue {
    return this.add(kind, name, fields, inputs).outputs[0]!;
  }

  input(name: string, dtype: DType, shape: readonly Dim[]): TensorValue {
    return this.value('Input', name, { dtype, shape } as Fields<'Input'>);
  }

  output(name: string, value: TensorValue): void {
    this.add('Output', name, {} as Fields<'Output'>, [value]);
  }

  graph(name = 'test'): Graph {
    return makeGraph(name, this.nodes, { model: 'test' });
  }
}

/** A seeded generator of floats in [0, 1) (common/random.ts). */
export const rng = seededRandom;

export function randomValues(count: number, rand: () => number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: count }, () => lo + (hi - lo) * rand());
}

export function randomTensor(shape: readonly number[], rand: () => number, dtype: 'float32' | 'float16' = 'float32', lo = -1, hi = 1): HostTensor {
  return fromFloat32(randomValues(shape.reduce((a, b) => a * b, 1), rand, lo, hi), shape, dtype);
}

/** Builds the graph on the onnxruntime backend, runs it once, disposes it. */
export async function runOnOrt(graph: Graph, params: ReadonlyMap<string, HostTensor>, inputs: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const runner = await onnxruntimeBackend.build(graph, params, { threads: 1 });
  try {
    return await runner.run(inputs);
  } finally {
    await runner.dispose();
  }
}

/** Asserts |actual - expected| <= atol + rtol·|expected| everywhere, reporting the worst element. */
export function expectClose(actual: HostTensor | Float32Array, expected: Float32Array, tol: { atol: number; rtol: number }): void {
  const a = actual instanceof Float32Array ? actual : toFloat32(actual);
  expect(a.length).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const excess = Math.abs(a[i]! - expected[i]!) - (tol.atol + tol.rtol * Math.abs(expected[i]!));
    if (excess > worstExcess || Number.isNaN(a[i]!)) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) expect.fail(`element ${worst}: got ${a[worst]}, expected ${expected[worst]} (atol ${tol.atol}, rtol ${tol.rtol})`);
}

export const FP32_TOL = { atol: 1e-5, rtol: 1e-5 };
