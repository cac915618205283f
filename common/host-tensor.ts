import { endianness } from 'node:os';
import { BYTES_PER_ELEMENT, type DType, bfloat16ToFloat, floatToHalf, halfToFloat } from './dtype.js';
import { ErrorCode, fail } from './errors.js';

/**
 * A tensor in host memory: dtype, shape and its raw little-endian bytes (row-major, contiguous).
 * The bytes are kept as stored (an fp16 checkpoint stays fp16 until something asks for float32).
 */
export interface HostTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function hostTensor(dtype: DType, shape: readonly number[], data: Uint8Array): HostTensor {
  const expected = numel(shape) * BYTES_PER_ELEMENT[dtype];
  if (data.byteLength !== expected) {
    fail(ErrorCode.InvalidArgument, `tensor of ${dtype}[${shape.join(', ')}] needs ${expected} bytes, got ${data.byteLength}`);
  }
  return Object.freeze({ dtype, shape: Object.freeze([...shape]), data });
}

/** Values of a floating-point (or integer) tensor as float32. */
export function toFloat32(t: HostTensor): Float32Array {
  const n = numel(t.shape);
  const view = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = new Float32Array(n);
  switch (t.dtype) {
    case 'float32':
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    case 'float16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    case 'bfloat16':
      for (let i = 0; i < n; i++) out[i] = bfloat16ToFloat(view.getUint16(i * 2, true));
      return out;
    case 'float64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    case 'int8': for (let i = 0; i < n; i++) out[i] = view.getInt8(i); return out;
    case 'uint8': case 'bool': for (let i = 0; i < n; i++) out[i] = view.getUint8(i); return out;
    case 'int16': for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true); return out;
    case 'int32': for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true); return out;
    case 'int64': for (let i = 0; i < n; i++) out[i] = Number(view.getBigInt64(i * 8, true)); return out;
  }
}

/** The values as float32: a view of the bytes when they already are aligned little-endian float32, else a copy. */
export function float32View(t: HostTensor): Float32Array {
  if (t.dtype === 'float32' && t.data.byteOffset % Float32Array.BYTES_PER_ELEMENT === 0 && endianness() === 'LE') {
    return new Float32Array(t.data.buffer, t.data.byteOffset, t.data.byteLength / Float32Array.BYTES_PER_ELEMENT);
  }
  return toFloat32(t);
}

/** A float32 or float16 tensor from float values (rounded to nearest even for float16). */
export function fromFloat32(values: Float32Array, shape: readonly number[], dtype: 'float32' | 'float16' = 'float32'): HostTensor {
  if (dtype === 'float32') {
    const copy = new Float32Array(values);
    return hostTensor('float32', shape, new Uint8Array(copy.buffer));
  }
  const half = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) half[i] = floatToHalf(values[i]!);
  return hostTensor('float16', shape, new Uint8Array(half.buffer));
}

/** The tensor converted to another float dtype (a no-op returning the same object if equal). */
export function castFloat(t: HostTensor, dtype: 'float32' | 'float16'): HostTensor {
  return t.dtype === dtype ? t : fromFloat32(toFloat32(t), t.shape, dtype);
}
