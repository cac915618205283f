import { crc32 } from 'node:zlib';
import { ErrorCode, fail } from '../../common/errors.js';

/**
 * A read-only view of a zip container held in memory, as PyTorch writes it for `torch.save`
 * (every entry STORED, zip64 end records, data descriptors). Entries are zero-copy subarrays of
 * the file's bytes; each entry's CRC-32 is checked the first time it is read. Everything is
 * bounds-checked so a truncated or damaged file gives ERR_ZIP_FORMAT naming the file, never a
 * RangeError or garbage.
 */

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIZE = 56;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
/** The EOCD record may be followed by a comment of up to 65535 bytes. */
const MAX_EOCD_SEARCH = EOCD_SIZE + 0xffff;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;
const ZIP64_EXTRA_ID = 0x0001;
const FLAG_ENCRYPTED = 0x0001;
const METHOD_STORED = 0;

/** One central-directory entry (sizes and CRC from the central directory, which is authoritative). */
export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

export class ZipArchive {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  private readonly verified = new Set<string>();

  private constructor(readonly path: string, private readonly reader: Reader, entries: Map<string, ZipEntry>) {
    this.entries = entries;
  }

  /** Parses the end records and the central directory; entry data is located lazily. */
  static open(path: string, bytes: Uint8Array): ZipArchive {
    const reader = new Reader(path, bytes);
    const dir = readEndOfCentralDirectory(reader);
    return new ZipArchive(path, reader, readCentralDirectory(reader, dir));
  }

  /** Entry names that end with `suffix` (PyTorch's top folder name varies between files). */
  findBySuffix(suffix: string): string[] {
    return [...this.entries.keys()].filter((name) => name === suffix || name.endsWith(`/${suffix}`));
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The entry's bytes as a subarray of the file (CRC-32 checked on first read). */
  read(name: string): Uint8Array {
    const entry = this.entries.get(name);
    if (!entry) fail(ErrorCode.ZipFormat, `${this.path}: zip entry '${name}' not found`);
    if (entry.method !== METHOD_STORED) {
      fail(ErrorCode.ZipFormat, `${this.path}: zip entry '${name}' uses compression method ${entry.method}; only stored (uncompressed) entries are supported`);
    }
    const data = this.reader.localData(entry);
    if (!this.verified.has(name)) {
      const actual = crc32(data) >>> 0;
      if (actual !== entry.crc32) {
        fail(ErrorCode.ZipFormat, `${this.path}: zip entry '${name}' is corrupt: CRC-32 ${hex(actual)} does not match ${hex(entry.crc32)}`);
      }
      this.verified.add(name);
    }
    return data;
  }
}

interface CentralDirectory {
  readonly offset: number;
  readonly size: number;
  readonly count: number;
}

/** Finds the EOCD record (and the zip64 records when present) at the end of the file. */
function readEndOfCentralDirectory(r: Reader): CentralDirectory {
  const eocd = r.findLastSignature(SIG_EOCD, EOCD_SIZE, MAX_EOCD_SEARCH);
  if (eocd < 0) {
    r.fail(`end-of-central-directory record not found in the last ${Math.min(r.length, MAX_EOCD_SEARCH)} bytes: the file is truncated or not a zip archive`);
  }
  let count = r.u16(eocd + 10);
  let size = r.u32(eocd + 12);
  let offset = r.u32(eocd + 16);
  const locator = eocd - ZIP64_LOCATOR_SIZE;
  if (locator >= 0 && r.u32(locator) === SIG_ZIP64_LOCATOR) {
    const at = r.u64(locator + 8, 'zip64 end-of-central-directory offset');
    r.need(at, ZIP64_EOCD_SIZE, 'zip64 end-of-central-directory record');
    if (r.u32(at) !== SIG_ZIP64_EOCD) r.fail(`zip64 end-of-central-directory record missing at offset ${at}`);
    count = r.u64(at + 32, 'zip64 entry count');
    size = r.u64(at + 40, 'zip64 central directory size');
    offset = r.u64(at + 48, 'zip64 central directory offset');
  } else if (count === U16_MAX || size === U32_MAX || offset === U32_MAX) {
    r.fail('zip64 end-of-central-directory locator missing although the end record needs it');
  }
  r.need(offset, size, `central directory (${count} entries)`);
  return { offset, size, count };
}

function readCentralDirectory(r: Reader, dir: CentralDirectory): Map<string, ZipEntry> {
  const entries = new Map<string, ZipEntry>();
  let at = dir.offset;
  const end = dir.offset + dir.size;
  for (let i = 0; i < dir.count; i++) {
    if (at + CENTRAL_SIZE > end) r.fail(`central directory ends after ${i} of ${dir.count} entries`);
    if (r.u32(at) !== SIG_CENTRAL) r.fail(`central directory entry ${i} has a bad signature at offset ${at}`);
    const flags = r.u16(at + 8);
    const nameLen = r.u16(at + 28);
    const extraLen = r.u16(at + 30);
    const commentLen = r.u16(at + 32);
    const next = at + CENTRAL_SIZE + nameLen + extraLen + commentLen;
    if (next > end) r.fail(`central directory entry ${i} runs past the directory's end`);
    const name = r.utf8(at + CENTRAL_SIZE, nameLen);
    if (flags & FLAG_ENCRYPTED) r.fail(`zip entry '${name}' is encrypted`);
    const sizes = { compressedSize: r.u32(at + 20), size: r.u32(at + 24), localHeaderOffset: r.u32(at + 42) };
    applyZip64Extra(r, at + CENTRAL_SIZE + nameLen, extraLen, sizes, name);
    if (entries.has(name)) r.fail(`zip entry '${name}' appears twice`);
    entries.set(name, { name, method: r.u16(at + 10), crc32: r.u32(at + 16), ...sizes });
    at = next;
  }
  return entries;
}

/** Replaces 0xFFFFFFFF fields by their 64-bit values from the zip64 extra field, in spec order. */
function applyZip64Extra(
  r: Reader,
  start: number,
  length: number,
  sizes: { compressedSize: number; size: number; localHeaderOffset: number },
  name: string,
): void {
  const wanted = (['size', 'compressedSize', 'localHeaderOffset'] as const).filter((k) => sizes[k] === U32_MAX);
  if (wanted.length === 0) return;
  for (let at = start; at + 4 <= start + length;) {
    const id = r.u16(at);
    const len = r.u16(at + 2);
    if (at + 4 + len > start + length) break;
    if (id === ZIP64_EXTRA_ID) {
      if (len < wanted.length * 8) r.fail(`zip entry '${name}' has a short zip64 extra field`);
      wanted.forEach((key, i) => (sizes[key] = r.u64(at + 4 + i * 8, `zip64 ${key} of '${name}'`)));
      return;
    }
    at += 4 + len;
  }
  r.fail(`zip entry '${name}' needs a zip64 extra field but has none`);
}

/** Bounds-checked little-endian reads that fail with ERR_ZIP_FORMAT naming the file. */
class Reader {
  private readonly view: DataView;

  constructor(readonly path: string, readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.byteLength;
  }

  fail(what: string): never {
    fail(ErrorCode.ZipFormat, `${this.path}: not a valid zip archive (${this.length} bytes): ${what}`);
  }

  need(offset: number, size: number, what: string): void {
    if (offset < 0 || size < 0 || offset + size > this.length) {
      this.fail(`${what} at offset ${offset} (${size} bytes) lies beyond the end of the file: the file is truncated`);
    }
  }

  u16(at: number): number {
    this.need(at, 2, 'field');
    return this.view.getUint16(at, true);
  }

  u32(at: number): number {
    this.need(at, 4, 'field');
    return this.view.getUint32(at, true);
  }

  u64(at: number, what: string): number {
    this.need(at, 8, what);
    const value = this.view.getBigUint64(at, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} ${value} is too large`);
    return Number(value);
  }

  utf8(at: number, length: number): string {
    this.need(at, length, 'name');
    return new TextDecoder().decode(this.bytes.subarray(at, at + length));
  }

  /** Offset of the last `sig` that leaves `minSize` bytes, searching at most `window` bytes. */
  findLastSignature(sig: number, minSize: number, window: number): number {
    const stop = Math.max(0, this.length - window);
    for (let at = this.length - minSize; at >= stop; at--) {
      if (this.view.getUint32(at, true) === sig) return at;
    }
    return -1;
  }

  /** The stored bytes of an entry, located through its local header. */
  localData(entry: ZipEntry): Uint8Array {
    const at = entry.localHeaderOffset;
    this.need(at, LOCAL_SIZE, `local header of '${entry.name}'`);
    if (this.u32(at) !== SIG_LOCAL) this.fail(`local header of '${entry.name}' has a bad signature at offset ${at}`);
    const nameLen = this.u16(at + 26);
    const extraLen = this.u16(at + 28);
    if (this.utf8(at + LOCAL_SIZE, nameLen) !== entry.name) this.fail(`local header at offset ${at} does not name '${entry.name}'`);
    const start = at + LOCAL_SIZE + nameLen + extraLen;
    if (entry.compressedSize !== entry.size) this.fail(`stored entry '${entry.name}' has different compressed and uncompressed sizes`);
    this.need(start, entry.size, `data of '${entry.name}'`);
    return this.bytes.subarray(start, start + entry.size);
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
