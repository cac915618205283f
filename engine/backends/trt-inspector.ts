/**
 * TensorRT's description of a built engine, `IEngineInspector::getEngineInformation(kJSON)`, turned
 * into netdef's per-layer facts (LayerInfo), plus which netdef graph layers each engine layer
 * implements, so a caller can check that the precision policy was honoured.
 *
 * The format, as this parser reads it (sources below):
 *  - The string is a JSON object {"Layers": [...], "Bindings": [...]} (TensorRT 11 replaces
 *    "Bindings" with "I/O Tensors"; neither is read here).
 *  - ProfilingVerbosity::kDETAILED: each layer is an object with "Name", "LayerType" (the engine
 *    layer's implementation: "CaskConvolution", "Reformat", "NoOp", "Myelin", kgen kinds ...),
 *    "Inputs"/"Outputs" (objects with "Name", "Location", "Dimensions", "Format/Datatype"),
 *    "ParameterType", "Origin", "TacticName" and/or "TacticValue" (Myelin layers may have only
 *    TacticName), "StreamId" and, since TensorRT 8.6, "Metadata".
 *  - ProfilingVerbosity::kLAYER_NAMES_ONLY: each layer is a plain string, its name. Parsed here
 *    into names only (kind, dtype and kernel '').
 *  - "Format/Datatype" is a long description ("Row major linear FP32", "Channel major FP16 format
 *    where channel % 8 == 0", "Thirty-two wide channel vectorized row major Int8 format") or, for
 *    kgen/Myelin layers, a bare type name ("Float", "Half", "Int32", "Bool"). The precision is the
 *    type word in it, as trex's activations.py and Polygraphy's backend/trt/util.py read it. A
 *    type netdef has no dtype for (FP8, FP4, Int4, UInt16 ...), "Unknown format", "None", "N/A",
 *    or a missing field gives dtype '' rather than a guess.
 *  - Fused engine layers are named after the network layers they contain, joined with " + ", with
 *    pointwise fusions as "PWN(a, b)", nested: "/model.0/conv/Conv + PWN(PWN(/model.0/act/Sigmoid),
 *    /model.0/act/Mul)" (as in a public trtexec build log of a YOLOv8 ONNX model). Reformat layers TensorRT
 *    inserts are named "Reformatting CopyNode for Input|Output Tensor i to <layer>": they
 *    implement no network layer, so `contains` is empty. Myelin regions appear either as one
 *    layer "{ForeignNode[<first>...<last>]}" (LayerType "Myelin"; the name gives only the first
 *    and last layers) or, in TensorRT 10, as sub-layers named "<layer>_myl<i>_<j>" or, for
 *    generated kernels, "__myl_<Ops>_myl<i>_<j>" (no network layer name at all).
 *  - "Metadata" is the string the network gave each layer (ILayer::setMetadata; the ONNX parser
 *    sets "[ONNX Layer: <node> | ...]"); for a fused layer TensorRT joins its layers' metadata
 *    with the ASCII separators 0x1E / 0x1F (trex's parser.py replaces both). Each non-empty item
 *    is taken as a layer name ("[ONNX Layer: x]" unwrapped to x). netdef's adapter sets each
 *    TensorRT layer's metadata to the graph layer it implements (trt_network.cc), so `contains`
 *    is exact there; when Metadata is empty or absent, names come from the layer's Name as above.
 *
 * Sources: NVIDIA/TensorRT tools/experimental/trt-engine-explorer (trex/parser.py: Metadata
 * separators, layer-names-only detection; trex/activations.py: format strings and precisions;
 * tests/inputs and examples/*.graph.json: detailed layer objects), tools/Polygraphy
 * polygraphy/backend/trt/util.py (TacticName for Myelin layers, format-to-dtype), samples/
 * sampleEditableTimingCache/README.md (Myelin sub-layer names and kgen formats), include/NvInfer.h
 * (ILayer::setMetadata: emitted by the inspector at kDETAILED), TensorRT's developer guide "Engine
 * Inspector" and "Migrating IEngineInspector Usage from TensorRT 10.x to 11.x"; NVIDIA/TensorRT
 * issues #4020 (a TensorRT 10 detailed export: "Metadata": "", "StreamId") and #3876.
 *
 * Not verified: no TensorRT is installed where this was written; the parser is checked only on
 * hand-written samples in the documented format. In particular: the metadata of fused layers
 * with more than one item (separator order), TensorRT 11's layer fields (its migration guide
 * mentions a split of "Format/Datatype"; a "DataType" field is read when "Format/Datatype" is
 * missing, a guess), the Myelin sub-layer naming beyond the sample above, and how formats read
 * when the inspector has a context without input shapes (TensorRT then omits format information;
 * dtype is '').
 */
import { ErrorCode, fail } from '../../common/errors.js';
import type { DType } from '../../common/dtype.js';
import type { LayerInfo } from '../backend.js';

/** One engine layer as TensorRT describes it. */
export interface TrtLayer extends LayerInfo {
  /** The network (netdef) layer names this engine layer implements, in TensorRT's order. */
  readonly contains: readonly string[];
  /** Each output's "Format/Datatype" as TensorRT wrote it ('' where it wrote none). */
  readonly outputFormats: readonly string[];
}

/** Type words in a format description, lower-cased, and the netdef dtype each names. */
const FORMAT_TYPE_WORDS: ReadonlyMap<string, DType> = new Map<string, DType>([
  ['fp32', 'float32'], ['float', 'float32'],
  ['fp16', 'float16'], ['half', 'float16'],
  ['bfloat16', 'bfloat16'], ['bf16', 'bfloat16'],
  ['double', 'float64'], ['fp64', 'float64'],
  ['int8', 'int8'], ['uint8', 'uint8'], ['int16', 'int16'], ['int32', 'int32'], ['int64', 'int64'],
  ['bool', 'bool'],
]);
/** What separates the words of a format description ("Channel major FP16 format where channel % 8 == 0"). */
const FORMAT_WORD_SEPARATOR = /[^A-Za-z0-9]+/;

/** Joins the network layers of a fused engine layer's name. */
const FUSION_SEPARATOR = ' + ';
/** A pointwise fusion in a name: "PWN(a, b)", arguments separated by PWN_ARG_SEPARATOR. */
const PWN_OPEN = 'PWN(';
const PWN_CLOSE = ')';
const PWN_ARG_SEPARATOR = ', ';
/** Names of the reformat layers TensorRT inserts between layers. */
const REFORMAT_PREFIX = 'Reformatting CopyNode for ';
/** A whole Myelin region in one layer: "{ForeignNode[first...last]}". */
const FOREIGN_NODE = /^\{ForeignNode\[(.*)\]\}$/s;
const FOREIGN_NODE_ELLIPSIS = '...';
/** A Myelin sub-layer of TensorRT 10: "<layer>_myl0_3". */
const MYELIN_SUFFIX = /_myl\d+_\d+$/;
/** A kernel Myelin generated, named after its operations, not after a layer: "__myl_DivMul_myl0_2". */
const MYELIN_GENERATED_PREFIX = '__myl_';
/** ASCII record (0x1E) and unit (0x1F) separators between the items of a fused layer's Metadata (and, per trex, in names). */
const METADATA_SEPARATORS = /[\u001e\u001f]/;
/** The ONNX parser's metadata: "[ONNX Layer: <node>]" or "[ONNX Layer: <node> | <function> ...]". */
const ONNX_LAYER_ITEM = /\[ONNX Layer: ([^\]|]*?)(?: \|[^\]]*)?\]/g;
const ONNX_LAYER_PREFIX = '[ONNX Layer: ';

const BRACKETS_OPEN = '([{';
const BRACKETS_CLOSE = ')]}';

type JsonObject = Readonly<Record<string, unknown>>;

function formatError(message: string): never {
  fail(ErrorCode.EngineFormat, `TensorRT engine information: ${message}`);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The netdef dtype a TensorRT "Format/Datatype" string names ('float16' for "Channel major FP16
 * format where channel % 8 == 0", 'float32' for "Float"), or '' when it names none, a type netdef
 * does not have, or more than one.
 */
export function dtypeFromFormat(format: string): string {
  const found = new Set<DType>();
  for (const word of format.split(FORMAT_WORD_SEPARATOR)) {
    const dtype = FORMAT_TYPE_WORDS.get(word.toLowerCase());
    if (dtype) found.add(dtype);
  }
  return found.size === 1 ? [...found][0]! : '';
}

/** Splits `text` at `separator` where it is outside (), [] and {}. */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (BRACKETS_OPEN.includes(c)) depth++;
    else if (BRACKETS_CLOSE.includes(c)) depth = Math.max(0, depth - 1);
    else if (depth === 0 && text.startsWith(separator, i)) {
      parts.push(text.slice(start, i));
      start = i + separator.length;
      i = start - 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** The layer names in a fused name: "a + PWN(PWN(b), c)" gives a, b, c. */
function namesInFusion(text: string, out: string[]): void {
  for (const raw of splitTopLevel(text, FUSION_SEPARATOR)) {
    const part = raw.trim();
    if (part.startsWith(PWN_OPEN) && part.endsWith(PWN_CLOSE)) {
      const inner = part.slice(PWN_OPEN.length, -PWN_CLOSE.length);
      for (const arg of splitTopLevel(inner, PWN_ARG_SEPARATOR)) namesInFusion(arg, out);
    } else if (part) {
      out.push(part);
    }
  }
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}

/**
 * The network layer names an engine layer's Name gives: the parts of a fused name, the first and
 * last layers of a ForeignNode, the layer of a Myelin sub-layer; none for a reformat TensorRT
 * inserted or a kernel Myelin generated.
 */
export function namesFromLayerName(name: string): string[] {
  if (name.startsWith(REFORMAT_PREFIX)) return [];
  const out: string[] = [];
  for (const item of name.split(METADATA_SEPARATORS)) {
    const text = item.trim();
    const foreign = FOREIGN_NODE.exec(text);
    if (foreign) {
      for (const end of foreign[1]!.split(FOREIGN_NODE_ELLIPSIS)) namesInFusion(end, out);
    } else if (MYELIN_SUFFIX.test(text)) {
      if (!text.startsWith(MYELIN_GENERATED_PREFIX)) namesInFusion(text.replace(MYELIN_SUFFIX, ''), out);
    } else {
      namesInFusion(text, out);
    }
  }
  return unique(out);
}

/** The layer names in a Metadata string (items separated by 0x1E / 0x1F; ONNX parser items unwrapped). */
function namesFromMetadata(metadata: string): string[] {
  const out: string[] = [];
  for (const raw of metadata.split(METADATA_SEPARATORS)) {
    const item = raw.trim();
    if (item.startsWith(ONNX_LAYER_PREFIX)) {
      for (const m of item.matchAll(ONNX_LAYER_ITEM)) if (m[1]!.trim()) out.push(m[1]!.trim());
    } else if (item) {
      out.push(item);
    }
  }
  return unique(out);
}

function optionalString(layer: JsonObject, key: string, where: string): string {
  const value = layer[key];
  if (value === undefined) return '';
  if (typeof value !== 'string') formatError(`${where}: expected "${key}" to be a string, found ${JSON.stringify(value)}`);
  return value;
}

/** A tensor's format and the dtype it gives; TensorRT 10 writes "Format/Datatype" (11.x: see the header). */
function tensorFormat(tensor: unknown, where: string): { readonly format: string; readonly dtype: string } {
  if (!isObject(tensor)) formatError(`${where}: expected a tensor object, found ${JSON.stringify(tensor)}`);
  const combined = optionalString(tensor, 'Format/Datatype', where);
  if (combined) return { format: combined, dtype: dtypeFromFormat(combined) };
  const dataType = optionalString(tensor, 'DataType', where);
  const format = optionalString(tensor, 'Format', where);
  return { format: format || dataType, dtype: dtypeFromFormat(dataType || format) };
}

function tensors(layer: JsonObject, key: 'Inputs' | 'Outputs', where: string): { readonly format: string; readonly dtype: string }[] {
  const value = layer[key];
  if (value === undefined) return [];
  if (!Array.isArray(value)) formatError(`${where}: expected "${key}" to be an array of tensors, found ${JSON.stringify(value)}`);
  return value.map((t, i) => tensorFormat(t, `${where}, ${key}[${i}]`));
}

function detailedLayer(layer: JsonObject, index: number): TrtLayer {
  const name = layer['Name'];
  if (typeof name !== 'string') formatError(`layer ${index}: expected a string "Name", found ${JSON.stringify(name)}`);
  const where = `layer ${index} ('${name}')`;
  const kind = optionalString(layer, 'LayerType', where);
  const kernel = optionalString(layer, 'TacticName', where) || optionalString(layer, 'TacticValue', where);
  const metadata = optionalString(layer, 'Metadata', where);
  const inputs = tensors(layer, 'Inputs', where);
  const outputs = tensors(layer, 'Outputs', where);
  const fromMetadata = name.startsWith(REFORMAT_PREFIX) ? [] : namesFromMetadata(metadata);
  return {
    name,
    kind,
    // The dtype the layer computes in is taken as its first output's (its input's if it has none);
    // trex reports the first input's instead, which differs for casts and reformats.
    dtype: (outputs[0] ?? inputs[0])?.dtype ?? '',
    kernel,
    timeMs: 0,
    contains: fromMetadata.length > 0 ? fromMetadata : namesFromLayerName(name),
    outputFormats: outputs.map((t) => t.format),
  };
}

function namesOnlyLayer(name: string): TrtLayer {
  return { name, kind: '', dtype: '', kernel: '', timeMs: 0, contains: namesFromLayerName(name), outputFormats: [] };
}

/**
 * Parses `IEngineInspector::getEngineInformation(LayerInformationFormat::kJSON)`: one TrtLayer per
 * engine layer, in TensorRT's order. Layers given as plain names (kLAYER_NAMES_ONLY) have kind,
 * dtype and kernel ''. timeMs is 0 (the inspector does not time layers). Throws NetdefError
 * ERR_ENGINE_FORMAT when the string is not JSON or not of the documented shape.
 */
export function parseInspectorJson(json: string): TrtLayer[] {
  let root: unknown;
  try {
    root = JSON.parse(json);
  } catch (e) {
    formatError(`expected JSON, but it does not parse (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isObject(root) || !Array.isArray(root['Layers'])) {
    formatError('expected a JSON object with a "Layers" array (IEngineInspector::getEngineInformation with LayerInformationFormat::kJSON)');
  }
  return (root['Layers'] as unknown[]).map((layer, i) => {
    if (typeof layer === 'string') return namesOnlyLayer(layer);
    if (isObject(layer)) return detailedLayer(layer, i);
    return formatError(`layer ${i}: expected an object (ProfilingVerbosity::kDETAILED) or a name (kLAYER_NAMES_ONLY), found ${JSON.stringify(layer)}`);
  });
}

/**
 * The netdef layer a contained name belongs to: itself when the graph has it, else its nearest
 * "/"-prefix the graph has (netdef's TensorRT adapter names the extra TensorRT layers of one netdef
 * layer "<layer>/<suffix>", e.g. SiLU's "<layer>/mul"); undefined when none.
 */
function graphLayerOf(name: string, graphLayers: ReadonlySet<string>): { readonly layer: string; readonly direct: boolean } | undefined {
  if (graphLayers.has(name)) return { layer: name, direct: true };
  for (let cut = name.lastIndexOf('/'); cut > 0; cut = name.lastIndexOf('/', cut - 1)) {
    const prefix = name.slice(0, cut);
    if (graphLayers.has(prefix)) return { layer: prefix, direct: false };
  }
  return undefined;
}

/**
 * For each layer name the engine layers contain, the dtype TensorRT chose for it: the dtype of the
 * engine layer that contains it ('' when TensorRT did not say). With `graphLayers` (the netdef
 * graph's layer names), the keys are those names only: a contained "<layer>/<suffix>" counts for
 * <layer>, an engine layer containing <layer> itself takes precedence over one containing only its
 * extra parts, and names of no graph layer are left out. Where several engine layers qualify, the
 * last in engine order (the one producing the layer's output) wins, and '' never replaces a dtype.
 */
export function precisionByGraphLayer(layers: readonly TrtLayer[], graphLayers?: Iterable<string>): Map<string, string> {
  const graph = graphLayers === undefined ? undefined : new Set(graphLayers);
  const result = new Map<string, string>();
  const direct = new Set<string>();
  for (const engineLayer of layers) {
    for (const name of engineLayer.contains) {
      const target = graph ? graphLayerOf(name, graph) : { layer: name, direct: true };
      if (!target) continue;
      if (!target.direct && direct.has(target.layer)) continue;
      const known = result.get(target.layer);
      if (engineLayer.dtype === '' && known !== undefined) continue;
      if (target.direct && engineLayer.dtype !== '') direct.add(target.layer);
      result.set(target.layer, engineLayer.dtype);
    }
  }
  return result;
}
