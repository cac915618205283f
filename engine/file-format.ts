/**
 * Engine files: one file holding everything needed to run a built engine.
 *
 *   offset  size  field
 *   0       8     magic "NETDEFE\0"
 *   8       4     format version (u32 LE)
 *   12      4     header JSON length H (u32 LE)
 *   16      H     header JSON: { netdef, backend, target, metadataBytes, blobBytes }
 *   16+H    M     metadata JSON (model, class names, strides, input, precision per layer, weight names, batch range)
 *   ...     B     the backend's blob
 *   end-32  32    sha256 of every byte before it
 *
 * `target` names what the blob was built for (for the CUDA engine the GPU architecture, e.g.
 * 'sm_90'); a file from another format version, netdef version, backend or target is refused with
 * a message naming both sides, as is a truncated or corrupted file (checksum). Written atomically.
 * The checksum catches corruption, not tampering, so the header and the metadata are then checked
 * by one schema (engine-schema.ts) and their sizes by common/limits.ts.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { writeAtomically } from '../common/atomic-file.js';
import { ErrorCode, NetdefError } from '../common/errors.js';
import { parseJson } from '../common/json-parse.js';
import { clip, limits, readFileWithin } from '../common/limits.js';
import { checkEngineHeader, checkEngineMetadata } from './engine-schema.js';
import type { PrecisionPolicy } from '../dsl/precision/policy.js';
import type { Yolov8NmsOptions } from '../models/yolov8/nms.js';

export const ENGINE_MAGIC = 'NETDEFE\0';
export const ENGINE_FORMAT_VERSION = 1;
const FIXED_HEADER_BYTES = 16;
const CHECKSUM_BYTES = 32;

export interface EngineMetadata {
  readonly model: string;
  readonly names: readonly string[];
  readonly strides: readonly number[];
  /** [height, width] the engine was built for. */
  readonly imgsz: readonly [number, number];
  readonly inputs: readonly { name: string; dtype: string; shape: readonly (number | string)[] }[];
  readonly outputs: readonly { name: string; dtype: string; shape: readonly (number | string)[] }[];
  readonly batch: { readonly min: number; readonly opt: number; readonly max: number };
  /** Layer name → dtype the graph gives it. */
  readonly precision: Readonly<Record<string, string>>;
  readonly weights: readonly string[];
  /** What rebuilds the graph for refit: the scale and the precision policy it was typed with. */
  readonly scale?: string;
  readonly policy?: PrecisionPolicy;
  /** The blob holds no weights (TensorRT kSTRIP_PLAN): refit from a weights file after loading. */
  readonly weightless?: boolean;
  /** What refit accepts when not any weights: only the ones built with ('identical'), or none. */
  readonly refit?: 'identical' | 'none';
  /** The NMS the graph ends with (so a rebuild for refit makes the same graph). */
  readonly nms?: Yolov8NmsOptions;
  /** sha256 of the effective parameters the engine holds (weights/digest.ts). */
  readonly weightsDigest?: string;
  /** The activation ranges (tensor → amax) an int8 engine was quantized with; a refit keeps them. */
  readonly activationRanges?: Readonly<Record<string, number>>;
}

export interface EngineFile {
  readonly netdef: string;
  readonly backend: string;
  readonly target: string;
  readonly metadata: EngineMetadata;
  readonly blob: Uint8Array;
}

function formatError(path: string, message: string): NetdefError {
  return new NetdefError(ErrorCode.EngineFormat, `engine file ${path}: ${message}`);
}

export function encodeEngine(file: EngineFile): Uint8Array {
  const metadata = Buffer.from(JSON.stringify(file.metadata), 'utf8');
  const header = Buffer.from(JSON.stringify({ netdef: file.netdef, backend: file.backend, target: file.target, metadataBytes: metadata.length, blobBytes: file.blob.byteLength }), 'utf8');
  const fixed = Buffer.alloc(FIXED_HEADER_BYTES);
  fixed.write(ENGINE_MAGIC, 0, 'latin1');
  fixed.writeUInt32LE(ENGINE_FORMAT_VERSION, 8);
  fixed.writeUInt32LE(header.length, 12);
  const body = Buffer.concat([fixed, header, metadata, file.blob]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

/** Whether bytes start like an engine file (to tell engines from weights). */
export function isEngineFile(bytes: Uint8Array): boolean {
  return bytes.byteLength >= ENGINE_MAGIC.length && Buffer.from(bytes.subarray(0, ENGINE_MAGIC.length)).toString('latin1') === ENGINE_MAGIC;
}

interface Expectation {
  readonly netdef: string;
  readonly backend?: string;
  readonly target?: string;
}

export function decodeEngine(bytes: Uint8Array, path: string, expect: Expectation): EngineFile {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!isEngineFile(buf)) throw formatError(path, 'not a netdef engine (bad magic)');
  if (buf.length < FIXED_HEADER_BYTES + CHECKSUM_BYTES) throw formatError(path, `truncated (${buf.length} bytes)`);
  const version = buf.readUInt32LE(8);
  if (version !== ENGINE_FORMAT_VERSION) throw formatError(path, `format version ${version}, this netdef reads version ${ENGINE_FORMAT_VERSION}`);
  const headerBytes = buf.readUInt32LE(12);
  if (headerBytes > limits().engineHeaderBytes) {
    throw formatError(path, `header of ${headerBytes} bytes is over the limit engineHeaderBytes = ${limits().engineHeaderBytes}`);
  }
  if (FIXED_HEADER_BYTES + headerBytes + CHECKSUM_BYTES > buf.length) throw formatError(path, 'truncated (header runs past the end)');
  const header = checkEngineHeader(path, json(path, 'header', buf.subarray(FIXED_HEADER_BYTES, FIXED_HEADER_BYTES + headerBytes)));
  const expected = FIXED_HEADER_BYTES + headerBytes + header.metadataBytes + header.blobBytes + CHECKSUM_BYTES;
  if (buf.length !== expected) throw formatError(path, `${buf.length} bytes, the header says ${expected}: truncated or corrupted`);
  const body = buf.subarray(0, buf.length - CHECKSUM_BYTES);
  if (!createHash('sha256').update(body).digest().equals(buf.subarray(buf.length - CHECKSUM_BYTES))) throw formatError(path, 'checksum mismatch: the file is corrupted');
  checkExpectation(path, header, expect);
  const metaStart = FIXED_HEADER_BYTES + headerBytes;
  const metadata = checkEngineMetadata(path, json(path, 'metadata', buf.subarray(metaStart, metaStart + header.metadataBytes)));
  const blob = new Uint8Array(buf.subarray(metaStart + header.metadataBytes, metaStart + header.metadataBytes + header.blobBytes));
  return { netdef: header.netdef, backend: header.backend, target: header.target, metadata, blob };
}

function json(path: string, part: string, bytes: Uint8Array): unknown {
  return parseJson(bytes, { code: ErrorCode.EngineFormat, where: `engine file ${path}: ${part}` });
}

/** Refuses a file made by another netdef version, for another backend or another target. */
export function checkExpectation(path: string, header: Pick<EngineFile, 'netdef' | 'backend' | 'target'>, expect: Expectation): void {
  if (header.netdef !== expect.netdef) throw formatError(path, `built by netdef ${clip(header.netdef)}, this is netdef ${expect.netdef}; rebuild it`);
  if (expect.backend && header.backend !== expect.backend) throw formatError(path, `built for backend '${clip(header.backend)}', not '${expect.backend}'`);
  if (expect.target && header.target !== expect.target) throw formatError(path, `built for ${clip(header.target)}, this machine is ${expect.target}; rebuild it here`);
}

export async function writeEngineFile(path: string, file: EngineFile): Promise<void> {
  await writeAtomically(path, 'engine file', (tmp) => writeFile(tmp, encodeEngine(file)));
}

export async function readEngineFile(path: string, expect: Expectation): Promise<EngineFile> {
  return decodeEngine(await readFileWithin(path, 'engine file', 'fileBytes', ErrorCode.EngineFormat), path, expect);
}
