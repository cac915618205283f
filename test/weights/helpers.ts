import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll } from 'vitest';

/**
 * Test helpers for the weight readers: a writer of small STORED zip archives (optionally with
 * zip64 end records, as PyTorch writes them), a tiny pickle assembler, and a temp folder that is
 * removed after the suite.
 */

export interface ZipOptions {
  /** Write zip64 end-of-central-directory record and locator (PyTorch always does). */
  readonly zip64?: boolean;
  /** Compression method to claim in the headers (the bytes stay stored). */
  readonly method?: number;
}

/** A zip archive of stored entries. */
export function buildZip(entries: ReadonlyArray<readonly [string, Uint8Array]>, options: ZipOptions = {}): Buffer {
  const method = options.method ?? 0;
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.byteLength, 18);
    local.writeUInt32LE(data.byteLength, 22);
    local.writeUInt16LE(nameBytes.byteLength, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.byteLength, 20);
    central.writeUInt32LE(data.byteLength, 24);
    central.writeUInt16LE(nameBytes.byteLength, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, Buffer.from(data));
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.byteLength + data.byteLength;
  }
  const directory = Buffer.concat(centrals);
  return Buffer.concat([...locals, directory, ...endRecords(entries.length, directory.byteLength, offset, options.zip64 ?? false)]);
}

function endRecords(count: number, size: number, offset: number, zip64: boolean): Buffer[] {
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  if (!zip64) {
    eocd.writeUInt16LE(count, 8);
    eocd.writeUInt16LE(count, 10);
    eocd.writeUInt32LE(size, 12);
    eocd.writeUInt32LE(offset, 16);
    return [eocd];
  }
  eocd.writeUInt16LE(0xffff, 8);
  eocd.writeUInt16LE(0xffff, 10);
  eocd.writeUInt32LE(0xffffffff, 12);
  eocd.writeUInt32LE(0xffffffff, 16);
  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(44n, 4);
  record.writeUInt16LE(45, 12);
  record.writeUInt16LE(45, 14);
  record.writeBigUInt64LE(BigInt(count), 24);
  record.writeBigUInt64LE(BigInt(count), 32);
  record.writeBigUInt64LE(BigInt(size), 40);
  record.writeBigUInt64LE(BigInt(offset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(offset + size), 8);
  locator.writeUInt32LE(1, 16);
  return [record, locator, eocd];
}

/** Assembles a pickle stream opcode by opcode (protocol 2 opcodes, as torch.save writes). */
export class PickleWriter {
  private readonly parts: Buffer[] = [];

  raw(...bytes: number[]): this {
    this.parts.push(Buffer.from(bytes));
    return this;
  }
  proto(version = 2): this {
    return this.raw(0x80, version);
  }
  global(module: string, name: string): this {
    this.parts.push(Buffer.from(`c${module}\n${name}\n`, 'latin1'));
    return this;
  }
  str(value: string): this {
    const bytes = Buffer.from(value, 'utf8');
    const head = Buffer.alloc(5);
    head.writeUInt8(0x58, 0); // BINUNICODE
    head.writeUInt32LE(bytes.byteLength, 1);
    this.parts.push(head, bytes);
    return this;
  }
  int(value: number): this {
    const b = Buffer.alloc(5);
    b.writeUInt8(0x4a, 0); // BININT
    b.writeInt32LE(value, 1);
    this.parts.push(b);
    return this;
  }
  mark(): this {
    return this.raw(0x28);
  }
  tuple(): this {
    return this.raw(0x74);
  }
  emptyTuple(): this {
    return this.raw(0x29);
  }
  emptyDict(): this {
    return this.raw(0x7d);
  }
  setItems(): this {
    return this.raw(0x75);
  }
  reduce(): this {
    return this.raw(0x52);
  }
  persId(): this {
    return this.raw(0x51);
  }
  newFalse(): this {
    return this.raw(0x89);
  }
  stop(): this {
    return this.raw(0x2e);
  }
  /** `(shape...)` as a tuple of ints. */
  ints(values: readonly number[]): this {
    this.mark();
    for (const v of values) this.int(v);
    return this.tuple();
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** A fresh temp folder for this suite, removed after it. */
export function tempDir(prefix = 'netdef-weights-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs `fn` and returns the error it throws (fails the test if it does not throw). */
export async function caught(fn: () => unknown): Promise<{ code?: string; message: string }> {
  try {
    await fn();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected an error, none was thrown');
}
