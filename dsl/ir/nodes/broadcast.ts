import type { Dim } from '../tensor-type.js';

/** NumPy-style broadcasting of two shapes, or null if they are incompatible. */
export function broadcastShapes(a: readonly Dim[], b: readonly Dim[]): Dim[] | null {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)]!;
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)]!;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else return null;
  }
  return out;
}
