import { BYTES_PER_ELEMENT, type DType } from '../common/dtype.js';
import { ErrorCode, fail } from '../common/errors.js';
import { type HostTensor, hostTensor, numel } from '../common/host-tensor.js';
import { jsonForMessage, parseJson } from '../common/json-parse.js';
import { checkLimit, clip, limits } from '../common/limits.js';
import { readWeightFile, sha256Hex } from './io.js';
import { METADATA_KEYS, infoFromMetadata } from './metadata.js';
import type { WeightStore } from './store.js';

export { writeSafetensors, type WriteSafetensorsOptions } from './safetensors-write.js';

/**
 * A strict safetensors reader (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian header length N, N bytes of UTF-8 JSON (maybe space-padded), then the data
 * section. Every tensor's dtype, shape and offsets are checked, and the tensors must tile the
 * data section exactly (no overlap, no hole, nothing left over). Tensors are zero-copy views.
 * The header's size, nesting and tensor count are limited (common/limits.ts) and every lookup
 * keyed by its content is an own-property lookup.
 */

const LENGTH_BYTES = 8;
const OPEN_BRACE = 0x7b;

/** safetensors dtype names <-> netdef dtypes. */
export const SAFETENSORS_DTYPES: Readonly<Record<string, DType>> = {
  F64: 'float64', F32: 'float32', F16: 'float16', BF16: 'bfloat16',
  I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};

export interface SafetensorsFile {
  readonly tensors: Map<string, HostTensor>;
  readonly metadata: Record<string, string>;
}

interface Entry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

/** Reads and checks a safetensors file. */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  return parseSafetensors(path, await readWeightFile(path));
}

/**
 * A WeightStore from a safetensors file; netdef metadata becomes ModelInfo. `source.sha256` is
 * the original .pt's sha256 when the file records one (`netdef.source_sha256`), else the file's.
 */
export async function loadSafetensors(path: string): Promise<WeightStore> {
  return safetensorsStore(path, await readWeightFile(path));
}

/** `loadSafetensors` for bytes already in memory. */
export function safetensorsStore(path: string, bytes: Uint8Array): WeightStore {
  const { tensors, metadata } = parseSafetensors(path, bytes);
  const sha256 = metadata[METADATA_KEYS.sourceSha256] ?? sha256Hex(bytes);
  return { tensors, info: infoFromMetadata(path, metadata), source: { path, format: 'safetensors', sha256 } };
}

/** Parses a safetensors file held in memory (`path` is only used in messages). */
export function parseSafetensors(path: string, bytes: Uint8Array): SafetensorsFile {
  const { header, dataStart } = readHeader(path, bytes);
  const metadata = readMetadata(path, Object.hasOwn(header, '__metadata__') ? header.__metadata__ : undefined);
  const names = Object.keys(header).filter((name) => name !== '__metadata__');
  checkLimit('tensors', names.length, ErrorCode.SafetensorsHeader, `${path}: bad safetensors header`, 'the number of tensors');
  const entries = names.map((name) => readEntry(path, name, header[name]));
  const data = bytes.subarray(dataStart);
  checkCoverage(path, entries, data.byteLength);
  const tensors = new Map<string, HostTensor>();
  for (const e of entries) tensors.set(e.name, hostTensor(e.dtype, e.shape, data.subarray(e.begin, e.end)));
  return { tensors, metadata };
}

function readHeader(path: string, bytes: Uint8Array): { header: Record<string, unknown>; dataStart: number } {
  const bad = (why: string): never => fail(ErrorCode.SafetensorsHeader, `${path}: bad safetensors header: ${why}`);
  if (bytes.byteLength < LENGTH_BYTES) bad(`the file is ${bytes.byteLength} bytes, too short for the 8-byte header length`);
  const length = new DataView(bytes.buffer, bytes.byteOffset, LENGTH_BYTES).getBigUint64(0, true);
  const max = limits().safetensorsHeaderBytes;
  if (length > BigInt(max)) bad(`header length ${length} is over the limit safetensorsHeaderBytes = ${max} (raise it with NETDEF_LIMITS)`);
  const available = bytes.byteLength - LENGTH_BYTES;
  if (length > BigInt(available)) bad(`header length ${length} exceeds the ${available} bytes after the length field (file truncated?)`);
  const dataStart = LENGTH_BYTES + Number(length);
  const text = bytes.subarray(LENGTH_BYTES, dataStart);
  if (text[0] !== OPEN_BRACE) bad('header does not start with "{"');
  const header = parseJson(text, { code: ErrorCode.SafetensorsHeader, where: `${path}: bad safetensors header` });
  if (typeof header !== 'object' || header === null || Array.isArray(header)) bad('header is not a JSON object');
  return { header: header as Record<string, unknown>, dataStart };
}

/** `__metadata__`, when present, must map strings to strings. */
function readMetadata(path: string, value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(ErrorCode.SafetensorsHeader, `${path}: bad safetensors header: __metadata__ is not an object`);
  }
  const entries = Object.entries(value);
  for (const [key, v] of entries) {
    if (typeof v !== 'string') {
      fail(ErrorCode.SafetensorsHeader, `${path}: bad safetensors header: __metadata__ value of '${clip(key)}' is ${jsonForMessage(v)}, not a string`);
    }
  }
  // fromEntries defines own properties, so a key named '__proto__' stays an ordinary key.
  return Object.fromEntries(entries) as Record<string, string>;
}

function readEntry(path: string, name: string, value: unknown): Entry {
  const where = `${path}: tensor '${clip(name)}'`;
  const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
  if (typeof info !== 'object' || info === null || Array.isArray(info)) {
    fail(ErrorCode.SafetensorsHeader, `${where}: header entry is not an object`);
  }
  const dtype = typeof info.dtype === 'string' && Object.hasOwn(SAFETENSORS_DTYPES, info.dtype) ? SAFETENSORS_DTYPES[info.dtype] : undefined;
  if (!dtype) fail(ErrorCode.SafetensorsDtype, `${where}: unknown or unsupported dtype ${jsonForMessage(info.dtype)}`);
  if (!isIntArray(info.shape)) fail(ErrorCode.SafetensorsHeader, `${where}: shape ${jsonForMessage(info.shape)} is not a list of non-negative integers`);
  checkLimit('tensorRank', info.shape.length, ErrorCode.SafetensorsHeader, where, 'its rank');
  const offsets = info.data_offsets;
  if (!isIntArray(offsets) || offsets.length !== 2 || offsets[0]! > offsets[1]!) {
    fail(ErrorCode.SafetensorsOffsets, `${where}: data_offsets ${jsonForMessage(offsets)} is not [begin, end] with begin <= end`);
  }
  const [begin, end] = offsets as [number, number];
  const expected = numel(info.shape) * BYTES_PER_ELEMENT[dtype];
  if (end - begin !== expected) {
    fail(ErrorCode.SafetensorsOffsets, `${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes but ${info.dtype}[${info.shape.join(', ')}] needs ${expected}`);
  }
  return { name, dtype, shape: info.shape, begin, end };
}

/** Tensors, sorted by offset, must tile [0, dataLength) exactly. */
function checkCoverage(path: string, entries: Entry[], dataLength: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: Entry | undefined;
  for (const e of sorted) {
    if (e.end > dataLength) {
      fail(ErrorCode.SafetensorsOffsets, `${path}: tensor '${clip(e.name)}' data_offsets [${e.begin}, ${e.end}] lie outside the ${dataLength}-byte data section`);
    }
    if (e.begin < cursor) {
      fail(ErrorCode.SafetensorsOffsets, `${path}: tensors '${clip(previous?.name ?? '')}' and '${clip(e.name)}' overlap (byte ${e.begin} is before ${cursor})`);
    }
    if (e.begin > cursor) {
      const after = previous ? `after tensor '${clip(previous.name)}'` : 'at the start of the data section';
      fail(ErrorCode.SafetensorsOffsets, `${path}: hole of ${e.begin - cursor} bytes ${after}, before tensor '${clip(e.name)}'`);
    }
    cursor = e.end;
    previous = e;
  }
  if (cursor !== dataLength) {
    const last = previous ? `after the last tensor '${clip(previous.name)}'` : 'with no tensors';
    fail(ErrorCode.SafetensorsOffsets, `${path}: ${dataLength - cursor} bytes of the data section are not covered ${last}`);
  }
}

function isIntArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => Number.isSafeInteger(x) && x >= 0);
}
