/**
 * Checking run() inputs against the graph's Input nodes before any backend sees them: names,
 * dtype, shape with symbolic dimensions bound consistently across inputs, byte length. Shared by
 * every backend; a mistake is a NetdefError(InvalidArgument) naming the input.
 */
import { BYTES_PER_ELEMENT } from '../../common/dtype.js';
import { ErrorCode, NetdefError } from '../../common/errors.js';
import { type HostTensor, numel } from '../../common/host-tensor.js';
import type { InputNode } from '../../dsl/ir/node.js';
import { formatShape } from '../../dsl/ir/tensor-type.js';
import type { TensorMap } from '../backend.js';

function invalid(message: string, details?: Record<string, unknown>): NetdefError {
  return new NetdefError(ErrorCode.InvalidArgument, message, { details });
}

function isHostTensor(value: unknown): value is HostTensor {
  const t = value as Partial<HostTensor> | null;
  return typeof t === 'object' && t !== null && typeof t.dtype === 'string' && Array.isArray(t.shape) && t.data instanceof Uint8Array;
}

/** Checks one input's dims against the declared ones, binding symbols (the same symbol, the same size). */
function checkShape(node: InputNode, t: HostTensor, bindings: Map<string, { size: number; by: string }>): void {
  const expected = `${node.dtype}${formatShape(node.shape)}`;
  const found = `${t.dtype}${formatShape(t.shape)}`;
  const mismatch = () => invalid(`input '${node.name}': expected ${expected}, found ${found}`, { input: node.name, expected, found });
  if (t.dtype !== node.dtype || t.shape.length !== node.shape.length) throw mismatch();
  node.shape.forEach((d, i) => {
    const size = t.shape[i]!;
    if (!Number.isInteger(size) || size < 1) throw mismatch();
    if (typeof d === 'number') {
      if (d !== size) throw mismatch();
      return;
    }
    const bound = bindings.get(d);
    if (bound && bound.size !== size) {
      throw invalid(`input '${node.name}': dimension '${d}' is ${size}, but input '${bound.by}' set it to ${bound.size}`, { input: node.name, dim: d });
    }
    bindings.set(d, { size, by: node.name });
  });
  const bytes = numel(t.shape) * BYTES_PER_ELEMENT[t.dtype];
  if (t.data.byteLength !== bytes) {
    throw invalid(`input '${node.name}': ${found} needs ${bytes} bytes, found ${t.data.byteLength}`, { input: node.name, expected: bytes, found: t.data.byteLength });
  }
}

/** Throws NetdefError(InvalidArgument) naming the input at fault unless `inputs` fits the graph's Input nodes exactly. */
export function checkInputs(graphInputs: readonly InputNode[], inputs: TensorMap): void {
  if (typeof inputs !== 'object' || inputs === null) throw invalid('inputs must be an object of named tensors');
  const names = new Set(graphInputs.map((n) => n.name));
  for (const key of Object.keys(inputs)) {
    if (!names.has(key)) throw invalid(`unknown input '${key}'; the graph's inputs are ${[...names].map((n) => `'${n}'`).join(', ')}`, { input: key });
  }
  const bindings = new Map<string, { size: number; by: string }>();
  for (const node of graphInputs) {
    const t: unknown = inputs[node.name];
    if (t === undefined) throw invalid(`input '${node.name}' is missing`, { input: node.name });
    if (!isHostTensor(t)) throw invalid(`input '${node.name}' is not a tensor ({ dtype, shape, data: Uint8Array })`, { input: node.name });
    checkShape(node, t, bindings);
  }
}
