import { ErrorCode, fail } from '../../common/errors.js';
import { type HostTensor, numel, toFloat32 } from '../../common/host-tensor.js';
import { checkLimit, clip, limits } from '../../common/limits.js';
import { readWeightFile, sha256Hex } from '../io.js';
import type { ModelInfo, WeightStore } from '../store.js';
import { type PyObject, isDict, isPyObject, unpickle } from './pickle.js';
import { torchUnpickleOptions } from './torch.js';
import { ZipArchive } from './zip.js';

/**
 * Loads a PyTorch zip checkpoint (`torch.save`, as Ultralytics writes `yolov8n.pt`) into a
 * WeightStore: the state_dict of the model (`ema` when set, else `model`, or a plain state_dict)
 * under exactly the names `Module.state_dict()` would give, in the stored dtype, plus ModelInfo
 * (class names, scale, strides, config) from the model's attributes.
 */

/** Reads and decodes a `.pt` file. */
export async function loadPt(path: string): Promise<WeightStore> {
  return readPt(path, await readWeightFile(path));
}

/** Decodes a `.pt` file already in memory; tensors are views of `bytes`. */
export function readPt(path: string, bytes: Uint8Array): WeightStore {
  return readPtArchive(ZipArchive.open(path, bytes), sha256Hex(bytes));
}

/**
 * The WeightStore of an opened archive. `pickle` replaces the archive's data.pkl (the fuzzer
 * mutates pickles of a real checkpoint without rebuilding its zip).
 */
export function readPtArchive(archive: ZipArchive, sha256: string, pickle?: Uint8Array): WeightStore {
  const path = archive.path;
  const prefix = archivePrefix(archive);
  const root = unpickle(pickle ?? archive.read(`${prefix}data.pkl`), torchUnpickleOptions(archive, prefix));
  const found = findModel(path, root);
  const tensors = found instanceof Map ? found : stateDict(path, found);
  const info = found instanceof Map ? {} : modelInfo(path, found);
  return { tensors, info, source: { path, format: 'pt', sha256 } };
}

/** The archive's top folder ('yolov8n/', 'archive/', ...) found by its `data.pkl`. */
function archivePrefix(archive: ZipArchive): string {
  const pkls = archive.findBySuffix('data.pkl').filter((name) => name.split('/').length <= 2);
  if (pkls.length !== 1) {
    fail(ErrorCode.CheckpointFormat, `${archive.path}: not a PyTorch checkpoint: expected one '<folder>/data.pkl' record, found ${pkls.length}`);
  }
  const prefix = pkls[0]!.slice(0, -'data.pkl'.length);
  const byteorder = `${prefix}byteorder`;
  if (archive.has(byteorder)) {
    const order = new TextDecoder().decode(archive.read(byteorder)).trim();
    if (order !== 'little') fail(ErrorCode.CheckpointFormat, `${archive.path}: byte order '${order}' is not supported (only little-endian)`);
  }
  return prefix;
}

/** More strides than a detection head could have: such a `stride` attribute is ignored. */
const MAX_STRIDES = 64;
/** Keys of a dict listed in a message. */
const KEYS_IN_MESSAGE = 20;

/** The nn.Module to read (Ultralytics: `ema` if not None, else `model`), or a plain state_dict. */
function findModel(path: string, root: unknown): PyObject | Map<string, HostTensor> {
  if (isModule(root)) return root;
  if (isTensorDict(root)) return root;
  if (isDict(root)) {
    for (const key of ['ema', 'model']) {
      const value = root.get(key);
      if (isModule(value)) return value;
    }
    for (const key of ['state_dict', 'model_state_dict', 'model']) {
      const value = root.get(key);
      if (isTensorDict(value)) return value;
    }
  }
  const keys = isDict(root) ? `a dict with keys [${clip([...root.keys()].slice(0, KEYS_IN_MESSAGE).map((k) => clip(keyText(k))).join(', '))}]` : describe(root);
  return fail(ErrorCode.CheckpointFormat, `${path}: no model or state_dict found (expected 'ema'/'model' holding an nn.Module, or a dict of tensors); the file holds ${keys}`);
}

interface PendingModule {
  readonly module: PyObject;
  readonly prefix: string;
  readonly depth: number;
  readonly parent: PendingModule | null;
}

/**
 * Parameters and persistent buffers, named and ordered as `Module.state_dict()` does. The module
 * tree is walked with an explicit stack (depth-first, children in order). A module may be shared
 * (Ultralytics shares one SiLU), but a module inside itself (a cycle) is refused, as are nesting
 * beyond moduleDepth and more than `modules` visits in all (sharing can multiply them).
 */
function stateDict(path: string, root: PyObject): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  const pending: PendingModule[] = [{ module: root, prefix: '', depth: 0, parent: null }];
  const maxDepth = limits().moduleDepth;
  let visits = 0;
  while (pending.length > 0) {
    const entry = pending.pop()!;
    const { module, prefix, depth } = entry;
    checkLimit('modules', ++visits, ErrorCode.CheckpointFormat, path, 'the number of modules visited');
    if (depth > maxDepth) checkLimit('moduleDepth', depth, ErrorCode.CheckpointFormat, path, `the nesting of module ${clip(prefix)}`);
    for (let up = entry.parent; up; up = up.parent) {
      if (up.module === module) fail(ErrorCode.CheckpointFormat, `${path}: module ${clip(prefix)} contains itself (a cycle in the module tree)`);
    }
    const state = module.__state__ as Map<unknown, unknown>;
    const skip = state.get('_non_persistent_buffers_set');
    for (const [field, isBuffer] of [['_parameters', false], ['_buffers', true]] as const) {
      for (const [name, value] of entries(state.get(field))) {
        if (value === null || (isBuffer && skip instanceof Set && skip.has(name))) continue;
        if (!isHostTensor(value)) fail(ErrorCode.CheckpointFormat, `${path}: ${clip(prefix + name)} in ${clip(module.__class__)} is not a tensor`);
        out.set(`${prefix}${name}`, value);
        checkLimit('tensors', out.size, ErrorCode.CheckpointFormat, path, 'the number of tensors');
      }
    }
    const children: PendingModule[] = [];
    for (const [name, child] of entries(state.get('_modules'))) {
      if (child === null) continue;
      if (!isModule(child)) fail(ErrorCode.CheckpointFormat, `${path}: submodule ${clip(prefix + name)} is not a module`);
      children.push({ module: child, prefix: `${prefix}${name}.`, depth: depth + 1, parent: entry });
    }
    pending.push(...children.reverse());
  }
  if (out.size === 0) fail(ErrorCode.CheckpointFormat, `${path}: the model ${clip(root.__class__)} has no parameters or buffers`);
  return out;
}

/** What the Ultralytics model's attributes say: names, nc, scale, strides, config. */
function modelInfo(path: string, module: PyObject): ModelInfo {
  const state = module.__state__ as Map<unknown, unknown>;
  const yaml = isDict(state.get('yaml')) ? (state.get('yaml') as Map<unknown, unknown>) : new Map<unknown, unknown>();
  const names = classNames(path, state.get('names'));
  const yamlNc = yaml.get('nc');
  if (typeof yamlNc === 'number' || typeof yamlNc === 'bigint') checkLimit('classes', yamlNc, ErrorCode.CheckpointFormat, path, "the model's yaml.nc");
  const nc = names?.length ?? (typeof yamlNc === 'number' && Number.isSafeInteger(yamlNc) && yamlNc >= 0 ? yamlNc : undefined);
  const config = firstString(state.get('yaml_file'), yaml.get('yaml_file'));
  const scale = firstString(yaml.get('scale')) ?? scaleFromConfig(config);
  checkLimit('nameChars', Math.max(config?.length ?? 0, scale?.length ?? 0), ErrorCode.CheckpointFormat, path, "the model's yaml_file or scale length");
  const stride = state.get('stride');
  const strides = isHostTensor(stride) && numel(stride.shape) <= MAX_STRIDES ? Array.from(toFloat32(stride)) : undefined;
  const info: Record<string, unknown> = { scale, nc, names, strides, config };
  for (const key of Object.keys(info)) if (info[key] === undefined) delete info[key];
  return info as ModelInfo;
}

/** `names` as Ultralytics stores it: a dict {0: 'person', ...} or a list; within the class limits. */
function classNames(path: string, value: unknown): string[] | undefined {
  const size = Array.isArray(value) ? value.length : isDict(value) ? value.size : 0;
  checkLimit('classes', size, ErrorCode.CheckpointFormat, path, "the number of the model's class names");
  let out: string[] | undefined;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out = [...value];
  else if (isDict(value)) {
    out = [];
    for (let i = 0; i < value.size; i++) {
      const name = value.get(i);
      if (typeof name !== 'string') return undefined;
      out.push(name);
    }
  }
  const longest = out?.reduce((max, name) => Math.max(max, name.length), 0) ?? 0;
  checkLimit('nameChars', longest, ErrorCode.CheckpointFormat, path, 'the longest class name, in characters');
  return out;
}

/** 'yolov8n.yaml' -> 'n', 'yolov8s-p2.yaml' -> 's', 'yolo11m.yaml' -> 'm'. */
export function scaleFromConfig(config: string | undefined): string | undefined {
  const base = config?.split(/[\\/]/).pop() ?? '';
  return /^yolo[a-z]*\d+([nsmlx])(?![a-z0-9])/i.exec(base)?.[1]?.toLowerCase();
}

function isModule(v: unknown): v is PyObject {
  return isPyObject(v) && isDict(v.__state__) && isDict(v.__state__.get('_modules'));
}

function isHostTensor(v: unknown): v is HostTensor {
  const t = v as Partial<HostTensor> | null;
  return typeof t === 'object' && t !== null && t.data instanceof Uint8Array && Array.isArray(t.shape) && typeof t.dtype === 'string';
}

function isTensorDict(v: unknown): v is Map<string, HostTensor> {
  if (!isDict(v) || v.size === 0) return false;
  for (const [key, value] of v) if (typeof key !== 'string' || !isHostTensor(value)) return false;
  return true;
}

function entries(v: unknown): [string, unknown][] {
  return isDict(v) ? [...v.entries()].map(([k, value]) => [keyText(k), value]) : [];
}

/** A dict key as text, without walking into a (maybe cyclic or deeply nested) value. */
function keyText(k: unknown): string {
  return typeof k === 'string' || typeof k === 'number' || typeof k === 'bigint' ? String(k) : `<${describe(k)}>`;
}

function firstString(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === 'string' && v.length > 0);
}

function describe(v: unknown): string {
  if (isPyObject(v)) return `an object of class ${clip(v.__class__)}`;
  return v === null ? 'None' : `a ${Array.isArray(v) ? 'list' : typeof v}`;
}
