import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BYTES_PER_ELEMENT, type DType } from '../common/dtype.js';
import { ErrorCode, fail, NetdefError } from '../common/errors.js';
import { type HostTensor, numel } from '../common/host-tensor.js';

/**
 * The safetensors writer: tensors ordered as the reference implementation orders them, the JSON header space-padded to a multiple of 8
 * bytes (so the data section starts aligned), written to a temporary file beside the target and
 * renamed over it only when complete, so a failure never leaves a half-written target.
 */

/** netdef dtype -> safetensors dtype name. */
const DTYPE_NAMES: Readonly<Record<DType, string>> = {
  float64: 'F64', float32: 'F32', float16: 'F16', bfloat16: 'BF16',
  int64: 'I64', int32: 'I32', int16: 'I16', int8: 'I8', uint8: 'U8', bool: 'BOOL',
};
const HEADER_ALIGN = 8;

export interface WriteSafetensorsOptions {
  /** Called after each tensor's bytes are written. */
  readonly onProgress?: (written: number, total: number) => void;
}

/** Writes `tensors` and string `metadata` to `path` atomically; returns the file's size. */
export async function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, HostTensor>,
  metadata: Readonly<Record<string, string>> = {},
  options: WriteSafetensorsOptions = {},
): Promise<{ bytes: number }> {
  const sorted = checkedTensors(path, tensors);
  const header = encodeHeader(path, sorted, metadata);
  const total = sorted.reduce((sum, [, t]) => sum + t.data.byteLength, header.byteLength);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'wx');
    await writeAll(handle, header);
    let written = header.byteLength;
    for (const [, t] of sorted) {
      await writeAll(handle, t.data);
      written += t.data.byteLength;
      options.onProgress?.(written, total);
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, path);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    if (err instanceof NetdefError) throw err;
    const why = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new NetdefError(ErrorCode.FileWrite, `cannot write ${path}: ${why}`, { cause: err });
  }
  return { bytes: total };
}

/** Writes all of `bytes` at the current position (a single write may be partial). */
async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.byteLength;) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done);
    done += bytesWritten;
  }
}

/** Tensors in file order, each checked before anything is written. */
function checkedTensors(path: string, tensors: ReadonlyMap<string, HostTensor>): [string, HostTensor][] {
  // As the reference implementation orders them: wider elements first (keeps every tensor aligned
  // to its element size), then by name.
  const sorted = [...tensors].sort(([a, ta], [b, tb]) =>
    BYTES_PER_ELEMENT[tb.dtype] - BYTES_PER_ELEMENT[ta.dtype] || (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, t] of sorted) {
    const where = `${path}: cannot write tensor '${name}'`;
    if (name === '__metadata__') fail(ErrorCode.InvalidArgument, `${where}: the name is reserved`);
    if (!(t.dtype in DTYPE_NAMES)) fail(ErrorCode.InvalidArgument, `${where}: dtype ${t.dtype} has no safetensors name`);
    const expected = numel(t.shape) * BYTES_PER_ELEMENT[t.dtype];
    if (!(t.data instanceof Uint8Array) || t.data.byteLength !== expected) {
      fail(ErrorCode.InvalidArgument, `${where}: ${t.dtype}[${t.shape.join(', ')}] needs ${expected} bytes, has ${t.data?.byteLength}`);
    }
  }
  return sorted;
}

/** The 8-byte length followed by the JSON header, padded with spaces to a multiple of 8. */
function encodeHeader(path: string, sorted: [string, HostTensor][], metadata: Readonly<Record<string, string>>): Buffer {
  // No prototype, so a tensor named '__proto__' is an ordinary key.
  const header = Object.create(null) as Record<string, unknown>;
  const metaEntries = Object.entries(metadata);
  for (const [key, value] of metaEntries) {
    if (typeof value !== 'string') fail(ErrorCode.InvalidArgument, `${path}: metadata '${key}' must be a string`);
  }
  if (metaEntries.length > 0) header.__metadata__ = Object.fromEntries(metaEntries);
  let offset = 0;
  for (const [name, t] of sorted) {
    const end = offset + t.data.byteLength;
    header[name] = { dtype: DTYPE_NAMES[t.dtype], shape: t.shape, data_offsets: [offset, end] };
    offset = end;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.byteLength / HEADER_ALIGN) * HEADER_ALIGN;
  const out = Buffer.alloc(8 + padded, 0x20);
  out.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(out, 8);
  return out;
}
