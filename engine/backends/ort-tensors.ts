/**
 * The boundary between netdef's HostTensor and onnxruntime-node's Tensor: checking run() inputs
 * against the graph's Input nodes before ORT sees them (name, dtype, shape with symbolic dims bound
 * consistently, byte length), and converting in both directions (float16 travels as Uint16Array
 * bit patterns, which onnxruntime-node accepts on every Node version).
 */
import { BYTES_PER_ELEMENT, type DType } from '../../common/dtype.js';
import { ErrorCode, NetdefError } from '../../common/errors.js';
import { type HostTensor, hostTensor, numel } from '../../common/host-tensor.js';
import type { InputNode } from '../../dsl/ir/node.js';
import { formatShape } from '../../dsl/ir/tensor-type.js';
import type { Tensor as OrtTensor } from 'onnxruntime-node';
import type { TensorMap } from '../backend.js';

type TypedArrayCtor =
  | Float32ArrayConstructor | Float64ArrayConstructor | Uint16ArrayConstructor | Int8ArrayConstructor | Uint8ArrayConstructor
  | Int16ArrayConstructor | Int32ArrayConstructor | BigInt64ArrayConstructor;

/** The typed array onnxruntime-node takes for each dtype it supports (it has no bfloat16). */
const ORT_ARRAY: Readonly<Partial<Record<DType, TypedArrayCtor>>> = {
  float32: Float32Array, float16: Uint16Array, float64: Float64Array, int8: Int8Array, uint8: Uint8Array,
  int16: Int16Array, int32: Int32Array, int64: BigInt64Array, bool: Uint8Array,
};

export function ortSupports(dtype: DType): boolean {
  return ORT_ARRAY[dtype] !== undefined;
}

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

/** A view of the tensor's bytes as the typed array ORT wants (copied only when misaligned). */
export function ortData(t: HostTensor): InstanceType<TypedArrayCtor> {
  const Ctor = ORT_ARRAY[t.dtype];
  if (!Ctor) throw new NetdefError(ErrorCode.Backend, `onnxruntime-node has no ${t.dtype} tensors`);
  const bytes = t.data.byteOffset % Ctor.BYTES_PER_ELEMENT === 0 ? t.data : t.data.slice();
  return new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / Ctor.BYTES_PER_ELEMENT);
}

/** An ORT output as a HostTensor of the dtype the graph declares (its bytes copied out). */
export function fromOrtTensor(name: string, value: OrtTensor, dtype: DType): HostTensor {
  if (value.type !== dtype) {
    throw new NetdefError(ErrorCode.Backend, `onnxruntime returned output '${name}' as ${value.type}, the graph declares ${dtype}`);
  }
  const data = value.data as unknown as ArrayBufferView;
  if (!ArrayBuffer.isView(data)) throw new NetdefError(ErrorCode.Backend, `onnxruntime output '${name}' holds no numeric data`);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return hostTensor(dtype, value.dims, bytes);
}
