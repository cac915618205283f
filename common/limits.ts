/**
 * Every limit netdef's parsers apply to files from strangers, in one place (docs/limits.md says
 * why each value was chosen). A limit is checked before the memory it guards is allocated, and a
 * file beyond one fails with a typed error naming the file, the field and the limit.
 *
 * Legitimate inputs are far below the defaults (yolov8x's data.pkl is about 100 kB; COCO
 * val2017's instances JSON 450 MB). To raise a limit: `setLimits({ cocoJsonBytes: 4 << 30 })`
 * from code, or the environment variable NETDEF_LIMITS, read once, e.g.
 * `NETDEF_LIMITS=cocoJsonBytes=4294967296,classes=200000`.
 */
import { open } from 'node:fs/promises';
import { ErrorCode, type ErrorCodeValue, NetdefError, fail } from './errors.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export const DEFAULT_LIMITS = Object.freeze({
  /** Nesting depth of any JSON read from a file (safetensors header, engine metadata, policy, COCO). */
  jsonDepth: 64,
  /** Bytes read from a weights or engine file (Node's largest single read is 2 GiB). */
  fileBytes: 2 * GiB - 1,
  /** A safetensors header (the reference implementation's limit). */
  safetensorsHeaderBytes: 100_000_000,
  /** Tensors in one weights file (yolov8x has 355 in its state_dict). */
  tensors: 100_000,
  /** Dimensions of one tensor (YOLOv8 uses at most 4). */
  tensorRank: 16,
  /** A checkpoint's pickle stream (data.pkl; about 100 kB for every YOLOv8 scale). */
  pickleBytes: 16 * MiB,
  /** Values on the unpickler's stack between two MARKs (torch.save batches items by 1,000). */
  pickleStackItems: 1_000_000,
  /** Nested MARKs open at once. */
  pickleMarkDepth: 10_000,
  /** Entries in the unpickler's memo. */
  pickleMemoEntries: 1_000_000,
  /** Bytes of one LONG1/LONG4 integer (an int64 needs 9). */
  pickleIntBytes: 256,
  /** Characters of a GLOBAL's module or name. */
  pickleGlobalChars: 1024,
  /** Nesting of nn.Module inside nn.Module (YOLOv8: 5). */
  moduleDepth: 256,
  /** nn.Module visits while reading a state_dict (yolov8x: about 400; shared modules count each time). */
  modules: 1_000_000,
  /** Class count of a model (LVIS has 1,203 classes). */
  classes: 100_000,
  /** Characters of one class name. */
  nameChars: 1024,
  /** An engine file's header JSON. */
  engineHeaderBytes: 64 * KiB,
  /** An engine file's metadata JSON (about 60 kB for yolov8x). */
  engineMetadataBytes: 64 * MiB,
  /** Inputs or outputs an engine declares. */
  engineTensors: 1024,
  /** A precision policy's text. */
  policyBytes: 1 * MiB,
  /** Rules of one precision policy. */
  policyRules: 100_000,
  /** Characters of one layer pattern. */
  patternChars: 4096,
  /** A timing cache file (the CUDA engine's holds a line per layer geometry, about 100 bytes each). */
  timingCacheBytes: 256 * MiB,
  /** A calibration file (yolov8x's has about 300 tensors, a few kB). */
  calibrationBytes: 16 * MiB,
  /** A COCO annotations JSON (val2017's is 450 MB; the whole file is held as bytes). */
  cocoJsonBytes: 1 * GiB,
  /** Annotations in one COCO file (train2017 has 860,001). */
  cocoAnnotations: 10_000_000,
  /** Images in one COCO file (train2017 has 118,287). */
  cocoImages: 10_000_000,
  /** Characters of file content quoted in an error message. */
  messageChars: 200,
});

export type Limits = { -readonly [K in keyof typeof DEFAULT_LIMITS]: number };
export type LimitName = keyof Limits;

let current: Limits | undefined;

/** The limits in force: the defaults, raised or lowered by NETDEF_LIMITS and setLimits(). */
export function limits(): Readonly<Limits> {
  current ??= { ...DEFAULT_LIMITS, ...fromEnvironment(process.env.NETDEF_LIMITS) };
  return current;
}

/** Changes limits for this process (e.g. a larger cocoJsonBytes); returns the previous values. */
export function setLimits(changes: Partial<Limits>): Readonly<Limits> {
  const previous = { ...limits() };
  for (const [name, value] of Object.entries(changes)) current![checkName(name, 'setLimits')] = checkValue(name, value, 'setLimits');
  return previous;
}

function checkName(name: string, where: string): LimitName {
  if (!Object.hasOwn(DEFAULT_LIMITS, name)) {
    fail(ErrorCode.InvalidArgument, `${where}: unknown limit '${clip(name)}' (known: ${Object.keys(DEFAULT_LIMITS).join(', ')})`);
  }
  return name as LimitName;
}

function checkValue(name: string, value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    fail(ErrorCode.InvalidArgument, `${where}: limit '${name}' must be a positive integer, got ${clip(String(value))}`);
  }
  return value;
}

/** `name=value,name=value` as in NETDEF_LIMITS. */
function fromEnvironment(text: string | undefined): Partial<Limits> {
  const out: Partial<Limits> = {};
  for (const item of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name = '', value = ''] = item.split('=', 2).map((s) => s.trim());
    out[checkName(name, 'NETDEF_LIMITS')] = checkValue(name, /^\d+$/.test(value) ? Number(value) : value, 'NETDEF_LIMITS');
  }
  return out;
}

/**
 * Text from a file as it may appear in a message: at most `messageChars` characters, the rest
 * replaced by the count of what was cut.
 */
export function clip(text: string): string {
  const max = current?.messageChars ?? DEFAULT_LIMITS.messageChars;
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/**
 * Fails with `code` when `value` exceeds the limit `name`: "<where>: <what> is <value>, over the
 * limit <name> = <limit> (raise it with NETDEF_LIMITS)".
 */
export function checkLimit(name: LimitName, value: number | bigint, code: ErrorCodeValue, where: string, what: string): void {
  const limit = limits()[name];
  if (value > limit) {
    fail(code, `${where}: ${what} is ${value}, over the limit ${name} = ${limit} (raise it with NETDEF_LIMITS=${name}=<n>)`);
  }
}

/** Bytes read at a time from something that is not a regular file (a pipe, a device). */
const CHUNK_BYTES = 1 << 20;

/**
 * A whole file, refused before it is read when it is larger than the limit `name` (code `code`),
 * a directory, or missing (ERR_FILE_NOT_FOUND naming the path). Something that is not a regular
 * file (`/dev/zero`, a pipe) is read in chunks and refused as soon as it passes the limit.
 */
export async function readFileWithin(path: string, what: string, name: LimitName, code: ErrorCodeValue): Promise<Buffer> {
  const unreadable = (err: unknown): NetdefError => {
    const errno = (err as NodeJS.ErrnoException | undefined)?.code;
    const why = errno === 'ENOENT' ? 'no such file' : errno === 'EISDIR' ? 'is a directory' : (errno ?? String(err));
    return new NetdefError(ErrorCode.FileNotFound, `cannot read ${what} ${path}: ${why}`, { cause: err });
  };
  const handle = await open(path, 'r').catch((err: unknown) => {
    throw unreadable(err);
  });
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw new NetdefError(ErrorCode.FileNotFound, `cannot read ${what} ${path}: is a directory`);
    const where = `${what} ${path}`;
    if (stat.isFile()) {
      checkLimit(name, stat.size, code, where, 'its size in bytes');
      return await handle.readFile();
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(CHUNK_BYTES), 0, CHUNK_BYTES, null);
      if (bytesRead === 0) return Buffer.concat(chunks, total);
      total += bytesRead;
      checkLimit(name, total, code, where, 'its size in bytes (at least)');
      chunks.push(buffer.subarray(0, bytesRead));
    }
  } catch (err) {
    throw err instanceof NetdefError ? err : unreadable(err);
  } finally {
    await handle.close();
  }
}
