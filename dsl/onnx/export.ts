/**
 * Exports a typed netdef Graph to an ONNX model (bytes), written with protobufjs and no other
 * dependency. One handler per node kind (handlers/*.ts), gathered in a KindTable, so a new IR kind
 * does not compile until it can be exported. Names carry over: ONNX node names are the IR layer
 * names (helper nodes get `<layer>/<OpType>`), ONNX value names are the IR tensor names, graph
 * inputs and outputs keep their names (`images`, `output0`), and parameters become initializers
 * named by their state_dict names. Every IR tensor inside the graph gets a value_info entry.
 */
import { ErrorCode, NetdefError } from '../../common/errors.js';
import type { HostTensor } from '../../common/host-tensor.js';
import { type Graph, tensorIndex } from '../ir/graph.js';
import { dispatch, type KindTable } from '../ir/node.js';
import { verifyGraph } from '../ir/verify.js';
import { OnnxGraphBuilder } from './builder.js';
import { convHandlers } from './handlers/conv.js';
import { detectionHandlers } from './handlers/detection.js';
import { ioHandlers } from './handlers/io.js';
import { layoutHandlers } from './handlers/layout.js';
import { mathHandlers } from './handlers/math.js';
import { precisionHandlers } from './handlers/precision.js';
import { encodeModel, type ModelProtoObject } from './proto.js';

export interface OnnxExportOptions {
  /** The default-domain opset, 13 to 23 (default 17). */
  readonly opset?: number;
  /** ModelProto.producer_name (default 'netdef'). */
  readonly producer?: string;
  /** ModelProto.producer_version. */
  readonly producerVersion?: string;
  /** ModelProto.metadata_props. */
  readonly metadata?: Readonly<Record<string, string>>;
}

export const DEFAULT_OPSET = 17;

/** The ONNX IR version that goes with each supported opset (ONNX release table). */
const IR_VERSION: Readonly<Record<number, number>> = { 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10, 22: 10, 23: 11 };

function irVersionFor(opset: number): number {
  const ir = IR_VERSION[opset];
  if (ir === undefined) {
    throw new NetdefError(ErrorCode.InvalidArgument, `ONNX opset ${opset} is not supported; use one of ${Object.keys(IR_VERSION).join(', ')}`);
  }
  return ir;
}

function handlerTable(b: OnnxGraphBuilder): KindTable<void> {
  return { ...ioHandlers(b), ...convHandlers(b), ...layoutHandlers(b), ...mathHandlers(b), ...precisionHandlers(b), ...detectionHandlers(b) };
}

function metadataProps(metadata: Readonly<Record<string, string>> | undefined): { key: string; value: string }[] {
  return Object.entries(metadata ?? {}).map(([key, value]) => {
    if (typeof value !== 'string') {
      throw new NetdefError(ErrorCode.InvalidArgument, `ONNX metadata '${key}' must be a string, found ${typeof value}`);
    }
    return { key, value };
  });
}

/** The int8 tensors inside the graph (not read by an Output), which ONNX carries as uint8 + 128 (OnnxGraphBuilder.isOffsetInt8). */
function offsetInt8Tensors(graph: Graph): Set<string> {
  const outputs = new Set(graph.nodes.filter((n) => n.kind === 'Output').flatMap((n) => n.inputs));
  return new Set(graph.nodes.flatMap((n) => n.outputs).filter((o) => o.type.dtype === 'int8' && !outputs.has(o.name)).map((o) => o.name));
}

/** The model as plain protobuf objects (what `exportOnnx` encodes). */
export function buildOnnxModel(graph: Graph, params: ReadonlyMap<string, HostTensor>, options: OnnxExportOptions = {}): ModelProtoObject {
  const opset = options.opset ?? DEFAULT_OPSET;
  const irVersion = irVersionFor(opset);
  verifyGraph(graph);
  const b = new OnnxGraphBuilder(params, tensorIndex(graph), opset, offsetInt8Tensors(graph));
  const table = handlerTable(b);
  for (const node of graph.nodes) {
    dispatch(table, node);
    if (node.kind === 'Input' || node.kind === 'Output' || node.kind === 'Constant') continue;
    for (const out of node.outputs) b.valueInfo(out.name, out.type);
  }
  return {
    ir_version: irVersion,
    opset_import: [{ domain: '', version: opset }],
    producer_name: options.producer ?? 'netdef',
    ...(options.producerVersion ? { producer_version: options.producerVersion } : {}),
    graph: b.toGraphProto(graph.name),
    metadata_props: metadataProps(options.metadata),
  };
}

/**
 * Exports `graph` to ONNX bytes. `params` holds the effective parameters by name (a Convolution's
 * `weight.name` and `bias?.name`, a BatchNorm's gamma/beta/mean/var names) in the dtype of the
 * layer's input. A missing parameter, or one whose shape or dtype differs from what the layer
 * needs, is a NetdefError (ErrorCode.Backend) naming the layer and the parameter.
 */
export function exportOnnx(graph: Graph, params: ReadonlyMap<string, HostTensor>, options: OnnxExportOptions = {}): Uint8Array {
  const model = buildOnnxModel(graph, params, options);
  try {
    return encodeModel(model);
  } catch (e) {
    throw new NetdefError(ErrorCode.Backend, `ONNX export of graph '${graph.name}' failed to encode: ${(e as Error).message}`, { cause: e });
  }
}
