/**
 * The mutable state of one ONNX export: nodes, initializers, graph inputs/outputs and value_info,
 * with checks that every value and node name is unique and every parameter fits the layer that
 * reads it. Handlers (handlers/*.ts) call it; export.ts turns it into a GraphProto.
 */
import type { DType } from '../../common/dtype.js';
import { ErrorCode, NetdefError } from '../../common/errors.js';
import { type HostTensor, hostTensor, toFloat32 } from '../../common/host-tensor.js';
import type { ParamRef } from '../ir/param.js';
import { formatShape, type TensorType, type TensorValue } from '../ir/tensor-type.js';
import {
  type AttributeProtoObject, AttributeType, type GraphProtoObject, type NodeProtoObject, ONNX_DATA_TYPE,
  type TensorProtoObject, type ValueInfoProtoObject,
} from './proto.js';

/** The shift that carries int8 q as uint8 q + 128. */
const INT8_OFFSET = 128;
const BYTE_MASK = 0xff;

/** What a handler knows about the layer it exports. */
export interface LayerRef {
  readonly name: string;
  readonly kind: string;
}

export interface NodeSpec {
  readonly opType: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes?: readonly AttributeProtoObject[];
}

/** An error about exporting one layer, naming it and its kind. */
export function exportError(layer: LayerRef, message: string, details?: Record<string, unknown>): NetdefError {
  return new NetdefError(ErrorCode.Backend, `ONNX export of ${layer.kind} layer '${layer.name}': ${message}`, {
    details: { layer: layer.name, kind: layer.kind, ...details },
  });
}

export class OnnxGraphBuilder {
  readonly opset: number;
  readonly #params: ReadonlyMap<string, HostTensor>;
  readonly #tensors: ReadonlyMap<string, TensorValue>;
  readonly #nodes: NodeProtoObject[] = [];
  readonly #nodeNames = new Set<string>();
  readonly #values = new Set<string>();
  readonly #initializers: TensorProtoObject[] = [];
  /** Parameters already written, with the tensor written, so a shared parameter is written once. */
  readonly #paramsWritten = new Map<string, HostTensor>();
  readonly #inputs: ValueInfoProtoObject[] = [];
  readonly #outputs: ValueInfoProtoObject[] = [];
  readonly #valueInfo: ValueInfoProtoObject[] = [];
  readonly #offsetInt8: ReadonlySet<string>;

  /**
   * `tensors`: every IR tensor by name (graph.tensorIndex), for handlers that need an input's type.
   * `offsetInt8`: the int8 IR tensors carried as uint8 with offset 128 (see `isOffsetInt8`).
   */
  constructor(params: ReadonlyMap<string, HostTensor>, tensors: ReadonlyMap<string, TensorValue>, opset: number, offsetInt8: ReadonlySet<string> = new Set()) {
    this.#params = params;
    this.#tensors = tensors;
    this.opset = opset;
    this.#offsetInt8 = offsetInt8;
  }

  /**
   * Whether an int8 IR tensor is carried in ONNX as uint8 q + 128. ONNX Runtime's CPU ConvInteger
   * takes only uint8 data and weights, so the int8 values inside a graph travel shifted by 128
   * (QuantizeLinear/DequantizeLinear with a uint8 zero point of 128, which is the same saturating
   * arithmetic); max pooling, resize, split and concat are indifferent to the shift. Graph outputs
   * keep int8.
   */
  isOffsetInt8(tensor: string): boolean {
    return this.#offsetInt8.has(tensor);
  }

  /** The zero point of an int8 tensor: uint8 128 when it is carried with an offset, else int8 0. */
  int8ZeroPoint(layer: LayerRef, name: string, tensor: string, shape: readonly number[]): string {
    if (!this.isOffsetInt8(tensor)) return this.int8Zeros(layer, name, shape);
    const count = shape.reduce((a, c) => a * c, 1);
    return this.initializer(layer, name, hostTensor('uint8', shape, new Uint8Array(count).fill(INT8_OFFSET)));
  }

  /** An int8 parameter written as uint8 q + 128 (the weights of an int8 convolution for ConvInteger). */
  offsetInt8Param(layer: LayerRef, ref: ParamRef): string {
    const tensor = this.#params.get(ref.name);
    if (!tensor) throw exportError(layer, `parameter '${ref.name}' is missing`, { param: ref.name });
    if (tensor.dtype !== 'int8' || tensor.shape.length !== ref.shape.length || tensor.shape.some((d, i) => d !== ref.shape[i])) {
      throw exportError(layer, `parameter '${ref.name}' must be int8${formatShape(ref.shape)}, found ${tensor.dtype}${formatShape(tensor.shape)}`, { param: ref.name });
    }
    const shifted = new Uint8Array(tensor.data.length);
    for (let i = 0; i < shifted.length; i++) shifted[i] = (tensor.data[i]! + INT8_OFFSET) & BYTE_MASK;
    return this.initializer(layer, ref.name, hostTensor('uint8', tensor.shape, shifted));
  }

  /** A float32 parameter by name (per-channel scales, a quantized convolution's bias), checked for its element count. */
  float32Param(layer: LayerRef, name: string, count: number): Float32Array {
    const tensor = this.#params.get(name);
    if (!tensor || tensor.dtype !== 'float32' || tensor.data.byteLength !== count * 4) {
      throw exportError(layer, `parameter '${name}' must be float32 with ${count} values, found ${tensor ? `${tensor.dtype}${formatShape(tensor.shape)}` : 'none'}`, { param: name });
    }
    return toFloat32(tensor);
  }

  /** The type of an IR tensor (an input of the layer being exported). */
  typeOf(layer: LayerRef, tensor: string): TensorType {
    const t = this.#tensors.get(tensor);
    if (!t) throw exportError(layer, `reads tensor '${tensor}', which no layer produces`);
    return t.type;
  }

  /** Adds a node; its node name and output names must be new. */
  node(layer: LayerRef, spec: NodeSpec): void {
    if (this.#nodeNames.has(spec.name)) throw exportError(layer, `ONNX node name '${spec.name}' is used twice`);
    this.#nodeNames.add(spec.name);
    for (const o of spec.outputs) this.#claim(layer, o);
    this.#nodes.push({
      name: spec.name,
      op_type: spec.opType,
      input: [...spec.inputs],
      output: [...spec.outputs],
      attribute: [...(spec.attributes ?? [])],
    });
  }

  /** Declares the type of a tensor produced inside the graph (value_info, for tools like Netron). */
  valueInfo(name: string, type: TensorType): void {
    this.#valueInfo.push(valueInfoProto(name, this.isOffsetInt8(name) ? { ...type, dtype: 'uint8' } : type));
  }

  graphInput(layer: LayerRef, name: string, type: TensorType): void {
    this.#claim(layer, name);
    this.#inputs.push(valueInfoProto(name, type));
  }

  graphOutput(name: string, type: TensorType): void {
    this.#outputs.push(valueInfoProto(name, type));
  }

  /** Adds an initializer holding `tensor` under `name` (a new value name). */
  initializer(layer: LayerRef, name: string, tensor: HostTensor): string {
    this.#claim(layer, name);
    this.#initializers.push({ name, dims: [...tensor.shape], data_type: ONNX_DATA_TYPE[tensor.dtype], raw_data: tensor.data });
    return name;
  }

  /** An int64 initializer, a vector unless `shape` says otherwise ([] makes a scalar). */
  int64Initializer(layer: LayerRef, name: string, values: readonly number[], shape: readonly number[] = [values.length]): string {
    const view = new DataView(new ArrayBuffer(values.length * 8));
    values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
    return this.initializer(layer, name, hostTensor('int64', shape, new Uint8Array(view.buffer)));
  }

  /** A float32 initializer; `shape` [] makes a scalar. */
  float32Initializer(layer: LayerRef, name: string, values: readonly number[], shape: readonly number[]): string {
    const view = new DataView(new ArrayBuffer(values.length * 4));
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    return this.initializer(layer, name, hostTensor('float32', shape, new Uint8Array(view.buffer)));
  }

  /** An int8 initializer of zeros; `shape` [] makes a scalar. */
  int8Zeros(layer: LayerRef, name: string, shape: readonly number[]): string {
    const count = shape.reduce((a, b) => a * b, 1);
    return this.initializer(layer, name, hostTensor('int8', shape, new Uint8Array(count)));
  }

  /**
   * Writes the parameter `ref` as an initializer named after it (once, however many layers read
   * it) after checking it exists with the shape `ref` declares and the dtype the layer computes in.
   */
  param(layer: LayerRef, ref: ParamRef, dtype: DType): string {
    const tensor = this.#params.get(ref.name);
    if (!tensor) throw exportError(layer, `parameter '${ref.name}' is missing`, { param: ref.name });
    const shapeOk = tensor.shape.length === ref.shape.length && tensor.shape.every((d, i) => d === ref.shape[i]);
    if (!shapeOk || tensor.dtype !== dtype) {
      throw exportError(layer, `parameter '${ref.name}' must be ${dtype}${formatShape(ref.shape)}, found ${tensor.dtype}${formatShape(tensor.shape)}`, { param: ref.name });
    }
    const written = this.#paramsWritten.get(ref.name);
    if (written === tensor) return ref.name;
    this.#paramsWritten.set(ref.name, tensor);
    return this.initializer(layer, ref.name, tensor);
  }

  toGraphProto(name: string, docString?: string): GraphProtoObject {
    return {
      name,
      node: this.#nodes,
      initializer: this.#initializers,
      input: this.#inputs,
      output: this.#outputs,
      value_info: this.#valueInfo,
      ...(docString ? { doc_string: docString } : {}),
    };
  }

  #claim(layer: LayerRef, value: string): void {
    if (this.#values.has(value)) throw exportError(layer, `ONNX value name '${value}' is produced twice`);
    this.#values.add(value);
  }
}

export function valueInfoProto(name: string, type: TensorType): ValueInfoProtoObject {
  const dim = type.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name, type: { tensor_type: { elem_type: ONNX_DATA_TYPE[type.dtype], shape: { dim } } } };
}

// Attribute constructors.

export const attr = {
  int: (name: string, i: number): AttributeProtoObject => ({ name, type: AttributeType.INT, i }),
  ints: (name: string, ints: readonly number[]): AttributeProtoObject => ({ name, type: AttributeType.INTS, ints: [...ints] }),
  float: (name: string, f: number): AttributeProtoObject => ({ name, type: AttributeType.FLOAT, f }),
  string: (name: string, s: string): AttributeProtoObject => ({ name, type: AttributeType.STRING, s: new TextEncoder().encode(s) }),
};

/** The name of a helper value made for a layer: `<layer>/<label>_output_0`. */
export function helperValue(layer: LayerRef, label: string): string {
  return `${layer.name}/${label}_output_0`;
}

/** The name of a constant (initializer) made for a layer: `<layer>/<label>`. */
export function helperConst(layer: LayerRef, label: string): string {
  return `${layer.name}/${label}`;
}

/** The name of a helper node made for a layer: `<layer>/<label>`. */
export function helperNode(layer: LayerRef, label: string): string {
  return `${layer.name}/${label}`;
}
