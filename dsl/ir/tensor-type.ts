import type { DType } from '../../common/dtype.js';

/** A dimension: a fixed size, or a symbol (such as 'batch') bound when an engine runs. */
export type Dim = number | string;

export interface TensorType {
  readonly dtype: DType;
  readonly shape: readonly Dim[];
}

/** A named value in the graph: the output of exactly one node. */
export interface TensorValue {
  readonly name: string;
  readonly type: TensorType;
}

export function tensorType(dtype: DType, shape: readonly Dim[]): TensorType {
  return Object.freeze({ dtype, shape: Object.freeze([...shape]) });
}

export function formatShape(shape: readonly Dim[]): string {
  return `[${shape.join(', ')}]`;
}

export function formatType(t: TensorType): string {
  return `${t.dtype}${formatShape(t.shape)}`;
}

export function sameShape(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function sameType(a: TensorType, b: TensorType): boolean {
  return a.dtype === b.dtype && sameShape(a.shape, b.shape);
}

/** Number of elements when every dimension is fixed, with symbols bound by `bindings`. */
export function concreteShape(shape: readonly Dim[], bindings: Readonly<Record<string, number>>): number[] {
  return shape.map((d) => {
    if (typeof d === 'number') return d;
    const v = bindings[d];
    if (v === undefined) throw new Error(`symbolic dimension '${d}' is not bound`);
    return v;
  });
}
