import { BYTES_PER_ELEMENT, type DType } from '../../common/dtype.js';
import { ErrorCode, fail } from '../../common/errors.js';
import { type HostTensor, hostTensor, numel } from '../../common/host-tensor.js';
import { checkLimit, clip } from '../../common/limits.js';
import { PyGlobal, type UnpickleOptions, inertClass } from './pickle.js';
import type { ZipArchive } from './zip.js';

/**
 * What `torch.save` pickles need beyond plain Python values: the allowlist of globals, storages
 * loaded from the zip's `<prefix>data/<key>` records (persistent ids), and tensors rebuilt from
 * them by `torch._utils._rebuild_tensor_v2`. Tensors keep their stored dtype and, when contiguous,
 * are zero-copy views of the file's bytes.
 *
 * A tensor can never be larger than the storage bytes that back it: a shape of 2^31 elements
 * with stride 0 over a one-element storage is refused before anything is allocated, so a copy of a
 * strided view costs at most its storage's size in the file.
 */

/** A typed storage read from the archive. `numel` counts elements of `dtype`. */
export class TorchStorage {
  constructor(readonly key: string, readonly dtype: DType, readonly numel: number, readonly data: Uint8Array) {}
}

/** A storage class global (`torch.HalfStorage`, ...); it names a dtype and is never called. */
class StorageClass extends PyGlobal {
  constructor(file: string, qualname: string, readonly dtype: DType) {
    super(qualname, () => fail(ErrorCode.PickleFormat, `${file}: storage class ${qualname} cannot be called`));
  }
}

/** Storage classes by qualified name. `UntypedStorage` holds bytes and counts its size in bytes. */
const STORAGE_DTYPES: Readonly<Record<string, DType>> = {
  'torch.HalfStorage': 'float16',
  'torch.FloatStorage': 'float32',
  'torch.DoubleStorage': 'float64',
  'torch.BFloat16Storage': 'bfloat16',
  'torch.LongStorage': 'int64',
  'torch.IntStorage': 'int32',
  'torch.ShortStorage': 'int16',
  'torch.CharStorage': 'int8',
  'torch.ByteStorage': 'uint8',
  'torch.BoolStorage': 'bool',
  'torch.UntypedStorage': 'uint8',
  'torch.storage.UntypedStorage': 'uint8',
};

/** Module prefixes whose classes are rebuilt as inert records (nn modules of torch and Ultralytics). */
const INERT_CLASS_PREFIXES = ['torch.nn.', 'ultralytics.'];
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MODULE_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** Options for `unpickle` that read a PyTorch zip archive whose records live under `prefix`. */
export function torchUnpickleOptions(archive: ZipArchive, prefix: string): UnpickleOptions {
  const file = archive.path;
  const storages = new Map<string, TorchStorage>();
  const functions = torchFunctions(file);
  return {
    file,
    resolveGlobal(module, name) {
      // Protocol 2 streams spell the builtins module the Python 2 way.
      const qualname = `${module === '__builtin__' ? 'builtins' : module}.${name}`;
      const fn = functions.get(qualname);
      if (fn) return fn;
      const dtype = Object.hasOwn(STORAGE_DTYPES, qualname) ? STORAGE_DTYPES[qualname] : undefined;
      if (dtype) return new StorageClass(file, qualname, dtype);
      const inert = IDENTIFIER.test(name) && MODULE_PATH.test(module) && INERT_CLASS_PREFIXES.some((p) => module.startsWith(p));
      return inert ? inertClass(qualname) : undefined;
    },
    persistentLoad(pid) {
      const [kind, cls, key, , count] = Array.isArray(pid) ? pid : [];
      if (kind !== 'storage' || !(cls instanceof StorageClass) || typeof key !== 'string' || !isCount(count)) {
        fail(ErrorCode.PickleFormat, `${file}: unsupported persistent id ${describe(pid)}`);
      }
      let storage = storages.get(key);
      if (!storage) {
        storage = loadStorage(archive, `${prefix}data/${key}`, key, cls.dtype, count);
        storages.set(key, storage);
      }
      return storage;
    },
  };
}

/** The callable globals: each builds its value in TypeScript from the argument tuple. */
function torchFunctions(file: string): Map<string, PyGlobal> {
  const fns: Record<string, (args: readonly unknown[]) => unknown> = {
    'torch._utils._rebuild_tensor_v2': (args) => rebuildTensor(file, args),
    // A Parameter is its tensor; requires_grad and hooks do not matter for inference.
    'torch._utils._rebuild_parameter': (args) => args[0],
    'torch._utils._rebuild_parameter_with_state': (args) => args[0],
    'collections.OrderedDict': (args) => new Map(args.length > 0 ? pairs(file, args[0]) : []),
    'builtins.set': (args) => new Set(args.length > 0 ? iterable(file, args[0]) : []),
    'builtins.frozenset': (args) => new Set(args.length > 0 ? iterable(file, args[0]) : []),
    'torch.Size': (args) => Object.freeze([...iterable(file, args[0])]),
  };
  return new Map(Object.entries(fns).map(([name, fn]) => [name, new PyGlobal(name, fn)]));
}

function loadStorage(archive: ZipArchive, record: string, key: string, dtype: DType, count: number): TorchStorage {
  if (!archive.has(record)) fail(ErrorCode.CheckpointFormat, `${archive.path}: storage record '${clip(record)}' is missing`);
  const data = archive.read(record);
  const bytes = count * BYTES_PER_ELEMENT[dtype];
  if (data.byteLength < bytes) {
    fail(ErrorCode.CheckpointFormat, `${archive.path}: storage '${clip(key)}' should hold ${count} ${dtype} (${bytes} bytes) but its record has ${data.byteLength} bytes`);
  }
  return new TorchStorage(key, dtype, count, data.subarray(0, bytes));
}

/** `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`. */
function rebuildTensor(file: string, args: readonly unknown[]): HostTensor {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof TorchStorage)) fail(ErrorCode.PickleFormat, `${file}: _rebuild_tensor_v2 without a storage`);
  const shape = intList(file, size, 'size');
  const strides = intList(file, stride, 'stride');
  checkLimit('tensorRank', shape.length, ErrorCode.PickleFormat, `${file}: tensor on storage '${clip(storage.key)}'`, 'its rank');
  if (!isCount(offset) || strides.length !== shape.length) {
    fail(ErrorCode.PickleFormat, `${file}: _rebuild_tensor_v2 on storage '${storage.key}' has a bad offset or stride`);
  }
  return tensorView(file, storage, offset, shape, strides);
}

/** The tensor's bytes: a subarray when contiguous, a copy otherwise; bounds-checked. */
function tensorView(file: string, storage: TorchStorage, offset: number, shape: number[], strides: number[]): HostTensor {
  const { dtype } = storage;
  const count = numel(shape);
  const es = BYTES_PER_ELEMENT[dtype];
  if (count === 0) return hostTensor(dtype, shape, new Uint8Array(0));
  if (count > storage.numel) {
    fail(ErrorCode.CheckpointFormat, `${file}: tensor [${clip(shape.join(', '))}] has ${count} elements but its storage '${clip(storage.key)}' holds ${storage.numel}: a tensor cannot be larger than the bytes that back it`);
  }
  const last = shape.reduce((end, dim, i) => end + (dim - 1) * strides[i]!, offset);
  if (last >= storage.numel) {
    fail(ErrorCode.CheckpointFormat, `${file}: tensor [${shape.join(', ')}] at offset ${offset} with strides [${strides.join(', ')}] reaches element ${last} of storage '${clip(storage.key)}', which holds ${storage.numel}`);
  }
  if (isContiguous(shape, strides)) {
    return hostTensor(dtype, shape, storage.data.subarray(offset * es, (offset + count) * es));
  }
  return hostTensor(dtype, shape, gather(storage.data, es, offset, shape, strides));
}

function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && strides[d] !== expected) return false;
    expected *= shape[d]!;
  }
  return true;
}

/** Copies a strided view into contiguous bytes, a row at a time when the last dim is dense. */
function gather(src: Uint8Array, es: number, offset: number, shape: readonly number[], strides: readonly number[]): Uint8Array {
  const rank = shape.length;
  const denseRow = rank > 0 && strides[rank - 1] === 1;
  const rowElems = denseRow ? shape[rank - 1]! : 1;
  const outer = denseRow ? shape.slice(0, -1) : [...shape];
  const out = new Uint8Array(numel(shape) * es);
  const index = new Array<number>(outer.length).fill(0);
  for (let written = 0; written < out.byteLength; written += rowElems * es) {
    const start = outer.reduce((at, _, d) => at + index[d]! * strides[d]!, offset) * es;
    out.set(src.subarray(start, start + rowElems * es), written);
    for (let d = outer.length - 1; d >= 0 && ++index[d]! === outer[d]; d--) index[d] = 0;
  }
  return out;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function intList(file: string, v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every(isCount)) fail(ErrorCode.PickleFormat, `${file}: tensor ${what} is not a tuple of non-negative integers`);
  return [...v];
}

function iterable(file: string, v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v instanceof Set) return [...v];
  return fail(ErrorCode.PickleFormat, `${file}: expected a list or tuple, got ${describe(v)}`);
}

function pairs(file: string, v: unknown): [unknown, unknown][] {
  if (v instanceof Map) return [...v.entries()];
  return iterable(file, v).map((p) => {
    if (!Array.isArray(p) || p.length !== 2) fail(ErrorCode.PickleFormat, `${file}: OrderedDict item is not a pair`);
    return [p[0], p[1]];
  });
}

/** The deepest nesting `describe` renders; deeper tuples (and cycles) print as `(...)`. */
const DESCRIBE_DEPTH = 3;
/** Items of a tuple `describe` renders before `...`. */
const DESCRIBE_ITEMS = 8;

/** A short rendering of an unpickled value for messages; cycles and depth are cut, length clipped. */
function describe(v: unknown, depth = 0): string {
  if (v instanceof PyGlobal) return clip(v.qualname);
  if (Array.isArray(v)) {
    if (depth >= DESCRIBE_DEPTH) return '(...)';
    const items = v.slice(0, DESCRIBE_ITEMS).map((x: unknown) => describe(x, depth + 1));
    return clip(`(${items.join(', ')}${v.length > DESCRIBE_ITEMS ? ', ...' : ''})`);
  }
  if (typeof v === 'string') return `'${clip(v)}'`;
  if (v === null || typeof v !== 'object') return clip(String(v));
  return v instanceof Map ? 'a dict' : v instanceof Set ? 'a set' : 'an object';
}
