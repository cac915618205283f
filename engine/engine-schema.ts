/**
 * The one schema of an engine file's JSON header and metadata. The file's sha256 catches
 * corruption, not tampering (anyone can recompute it), so every field is checked as hostile input:
 * required fields and their types, ranges, sizes against common/limits.ts, and no name that is a
 * key of Object.prototype (`__proto__`, `constructor`, ...), so no lookup keyed by file content
 * can reach a prototype. A mistake is ERR_ENGINE_FORMAT naming the file and the field.
 * Tested in test/engine/engine-schema.test.ts and fuzzed (test/fuzz).
 */
import { BYTES_PER_ELEMENT, DTYPES, type DType } from '../common/dtype.js';
import { ErrorCode, fail } from '../common/errors.js';
import { jsonForMessage } from '../common/json-parse.js';
import { type LimitName, clip, limits } from '../common/limits.js';
import { type PrecisionPolicy, policyFromJson } from '../dsl/precision/policy.js';
import type { EngineMetadata } from './file-format.js';

export interface EngineHeader {
  readonly netdef: string;
  readonly backend: string;
  readonly target: string;
  readonly metadataBytes: number;
  readonly blobBytes: number;
}

type Io = EngineMetadata['inputs'][number];

/** The largest batch an engine may declare. */
const MAX_BATCH = 65_536;
/** The largest image side an engine may declare, in pixels. */
const MAX_IMAGE_SIDE = 65_536;
/** The largest dimension of an input or output (int32, as the native backends take it). */
const MAX_DIMENSION = 2 ** 31 - 1;
/** An input or output at the largest batch may not need more bytes than one typed array holds. */
const MAX_TENSOR_BYTES = 2 ** 31 - 1;
/** Strides a detection head may have. */
const MAX_STRIDES = 64;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const REFIT_MODES: readonly string[] = ['identical', 'none'];

/** Field checks for one JSON object, failing with the file and the field's path. */
class Fields {
  constructor(readonly file: string, readonly path: string, readonly value: Record<string, unknown>) {}

  static of(file: string, path: string, value: unknown): Fields {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) bad(file, path, `must be an object, found ${jsonForMessage(value)}`);
    return new Fields(file, path, value as Record<string, unknown>);
  }

  field(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  has(key: string): boolean {
    return Object.hasOwn(this.value, key) && this.value[key] !== undefined;
  }

  get(key: string): unknown {
    if (!this.has(key)) bad(this.file, this.field(key), 'is missing');
    return this.value[key];
  }

  string(key: string, limit: LimitName = 'nameChars'): string {
    return checkString(this.file, this.field(key), this.get(key), limit);
  }

  integer(key: string, min: number, max: number): number {
    const v = this.get(key);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) bad(this.file, this.field(key), `must be an integer in [${min}, ${max}], found ${jsonForMessage(v)}`);
    return v;
  }

  number(key: string): number {
    const v = this.get(key);
    if (typeof v !== 'number' || !Number.isFinite(v)) bad(this.file, this.field(key), `must be a finite number, found ${jsonForMessage(v)}`);
    return v;
  }

  array(key: string, limit: LimitName): unknown[] {
    const v = this.get(key);
    if (!Array.isArray(v)) bad(this.file, this.field(key), `must be an array, found ${jsonForMessage(v)}`);
    if (v.length > limits()[limit]) bad(this.file, this.field(key), `has ${v.length} items, over the limit ${limit} = ${limits()[limit]}`);
    return v;
  }
}

function bad(file: string, field: string, why: string): never {
  fail(ErrorCode.EngineFormat, `engine file ${file}: ${field} ${why}`);
}

function checkString(file: string, field: string, v: unknown, limit: LimitName): string {
  if (typeof v !== 'string') bad(file, field, `must be a string, found ${jsonForMessage(v)}`);
  if (v.length > limits()[limit]) bad(file, field, `is ${v.length} characters long, over the limit ${limit} = ${limits()[limit]}`);
  return v;
}

/** A name that must not be a key of Object.prototype (it becomes a key of a lookup table). */
function checkName(file: string, field: string, v: unknown): string {
  const name = checkString(file, field, v, 'nameChars');
  if (name in Object.prototype) bad(file, field, `'${clip(name)}' is a reserved name`);
  return name;
}

function checkDtype(file: string, field: string, v: unknown): DType {
  if (typeof v !== 'string' || !(DTYPES as readonly string[]).includes(v)) bad(file, field, `must be one of ${DTYPES.join(', ')}, found ${jsonForMessage(v)}`);
  return v as DType;
}

export function checkEngineHeader(file: string, value: unknown): EngineHeader {
  const f = Fields.of(file, 'header', value);
  return {
    netdef: f.string('netdef'),
    backend: f.string('backend'),
    target: f.string('target'),
    metadataBytes: f.integer('metadataBytes', 0, limits().engineMetadataBytes),
    blobBytes: f.integer('blobBytes', 0, limits().fileBytes),
  };
}

function checkIo(file: string, f: Fields, key: 'inputs' | 'outputs', maxBatch: number): Io[] {
  const list = f.array(key, 'engineTensors');
  if (list.length === 0) bad(file, f.field(key), 'is empty');
  const seen = new Set<string>();
  return list.map((item, i) => {
    const t = Fields.of(file, `${f.field(key)}[${i}]`, item);
    const name = checkName(file, t.field('name'), t.get('name'));
    if (seen.has(name)) bad(file, t.field('name'), `'${clip(name)}' appears twice`);
    seen.add(name);
    const dtype = checkDtype(file, t.field('dtype'), t.get('dtype'));
    const shape = t.array('shape', 'tensorRank').map((d, j) => {
      if (typeof d === 'string') return checkName(file, `${t.field('shape')}[${j}]`, d);
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0 || d > MAX_DIMENSION) {
        bad(file, `${t.field('shape')}[${j}]`, `must be a symbol or an integer in [0, ${MAX_DIMENSION}], found ${jsonForMessage(d)}`);
      }
      return d;
    });
    const bytes = shape.reduce<number>((n, d) => n * (typeof d === 'number' ? d : maxBatch), BYTES_PER_ELEMENT[dtype]);
    if (bytes > MAX_TENSOR_BYTES) bad(file, t.field('shape'), `[${shape.join(', ')}] needs ${bytes} bytes at batch ${maxBatch}, more than ${MAX_TENSOR_BYTES}`);
    return { name, dtype, shape };
  });
}

function checkBatch(file: string, f: Fields): EngineMetadata['batch'] {
  const b = Fields.of(file, f.field('batch'), f.get('batch'));
  const batch = { min: b.integer('min', 1, MAX_BATCH), opt: b.integer('opt', 1, MAX_BATCH), max: b.integer('max', 1, MAX_BATCH) };
  if (batch.min > batch.opt || batch.opt > batch.max) bad(file, f.field('batch'), `must satisfy min <= opt <= max, found ${jsonForMessage(batch)}`);
  return batch;
}

function checkPrecision(file: string, f: Fields): Record<string, string> {
  const p = Fields.of(file, f.field('precision'), f.get('precision'));
  const entries = Object.entries(p.value);
  if (entries.length > limits().tensors) bad(file, p.path, `has ${entries.length} layers, over the limit tensors = ${limits().tensors}`);
  const out: Record<string, string> = {};
  for (const [layer, dtype] of entries) {
    const name = checkName(file, `${p.path} key`, layer);
    out[name] = dtype === '' ? '' : checkDtype(file, `${p.path}['${clip(layer)}']`, dtype);
  }
  return out;
}

/** Tensor name → amax of an int8 engine (finite, >= 0; names are not prototype keys). */
function checkRanges(file: string, f: Fields): Record<string, number> {
  const r = Fields.of(file, f.field('activationRanges'), f.get('activationRanges'));
  const entries = Object.keys(r.value);
  if (entries.length > limits().tensors) bad(file, r.path, `has ${entries.length} entries, over the limit tensors = ${limits().tensors}`);
  const out: Record<string, number> = {};
  for (const key of entries) {
    checkName(file, r.field(key), key);
    const v = r.number(key);
    if (v < 0) bad(file, r.field(key), `must be >= 0, found ${v}`);
    out[key] = v;
  }
  return out;
}

function checkNms(file: string, f: Fields): EngineMetadata['nms'] {
  const n = Fields.of(file, f.field('nms'), f.get('nms'));
  return {
    iouThreshold: n.number('iouThreshold'), scoreThreshold: n.number('scoreThreshold'), maxPerClass: n.integer('maxPerClass', 1, MAX_DIMENSION),
    ...(n.has('topK') ? { topK: n.integer('topK', 1, MAX_DIMENSION) } : {}),
  };
}

function checkPolicy(file: string, f: Fields): PrecisionPolicy {
  try {
    return policyFromJson(f.get('policy'));
  } catch (e) {
    return bad(file, f.field('policy'), `is not a precision policy: ${(e as Error).message}`);
  }
}

/** The metadata, checked field by field; unknown fields are dropped. */
export function checkEngineMetadata(file: string, value: unknown): EngineMetadata {
  const f = Fields.of(file, 'metadata', value);
  const batch = checkBatch(file, f);
  const names = f.array('names', 'classes').map((n, i) => checkString(file, `${f.field('names')}[${i}]`, n, 'nameChars'));
  const strides = f.array('strides', 'engineTensors').map((s, i) => {
    if (typeof s !== 'number' || !(s > 0) || !Number.isFinite(s)) bad(file, `${f.field('strides')}[${i}]`, `must be a positive number, found ${jsonForMessage(s)}`);
    return s;
  });
  if (strides.length > MAX_STRIDES) bad(file, f.field('strides'), `has ${strides.length} items, more than ${MAX_STRIDES}`);
  const imgsz = f.array('imgsz', 'tensorRank');
  if (imgsz.length !== 2) bad(file, f.field('imgsz'), `must be [height, width], found ${jsonForMessage(imgsz)}`);
  const side = (i: number): number => {
    const v = imgsz[i];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > MAX_IMAGE_SIDE) bad(file, `${f.field('imgsz')}[${i}]`, `must be an integer in [0, ${MAX_IMAGE_SIDE}], found ${jsonForMessage(v)}`);
    return v;
  };
  const meta: { -readonly [K in keyof EngineMetadata]: EngineMetadata[K] } = {
    model: f.string('model'), names, strides, imgsz: [side(0), side(1)],
    inputs: checkIo(file, f, 'inputs', batch.max), outputs: checkIo(file, f, 'outputs', batch.max), batch,
    precision: checkPrecision(file, f),
    weights: f.array('weights', 'tensors').map((w, i) => checkString(file, `${f.field('weights')}[${i}]`, w, 'nameChars')),
  };
  if (f.has('scale')) meta.scale = f.string('scale');
  if (f.has('policy')) meta.policy = checkPolicy(file, f);
  if (f.has('weightless')) {
    if (typeof f.get('weightless') !== 'boolean') bad(file, f.field('weightless'), 'must be a boolean');
    meta.weightless = f.get('weightless') as boolean;
  }
  if (f.has('refit')) {
    const refit = f.string('refit');
    if (!REFIT_MODES.includes(refit)) bad(file, f.field('refit'), `must be one of ${REFIT_MODES.join(', ')}, found '${clip(refit)}'`);
    meta.refit = refit as 'identical' | 'none';
  }
  if (f.has('nms')) meta.nms = checkNms(file, f);
  if (f.has('weightsDigest')) {
    const digest = f.string('weightsDigest');
    if (!SHA256_HEX.test(digest)) bad(file, f.field('weightsDigest'), 'must be a sha256 in hex');
    meta.weightsDigest = digest;
  }
  if (f.has('activationRanges')) meta.activationRanges = checkRanges(file, f);
  return meta;
}
