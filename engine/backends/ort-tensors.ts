/**
 * The boundary between netdef's HostTensor and onnxruntime-node's Tensor, converting in both
 * directions (float16 travels as Uint16Array bit patterns, which onnxruntime-node accepts on every
 * Node version). Inputs are checked before (engine/backends/check-inputs.ts).
 */
import type { DType } from '../../common/dtype.js';
import { ErrorCode, NetdefError } from '../../common/errors.js';
import { type HostTensor, hostTensor } from '../../common/host-tensor.js';
import type { Tensor as OrtTensor } from 'onnxruntime-node';

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
