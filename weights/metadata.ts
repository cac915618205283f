import { ErrorCode, fail } from '../common/errors.js';
import { parseJson } from '../common/json-parse.js';
import { checkLimit, clip } from '../common/limits.js';
import type { ModelInfo } from './store.js';

/**
 * The netdef keys of a safetensors `__metadata__` map (all values are strings, as the format
 * requires), and their translation to and from ModelInfo. `format: 'pt'` is the conventional key
 * other safetensors tools write for PyTorch-layout weights.
 */
export const METADATA_KEYS = {
  format: 'format',
  nc: 'netdef.nc',
  names: 'netdef.names',
  scale: 'netdef.scale',
  strides: 'netdef.strides',
  config: 'netdef.config',
  /** sha256 of the original .pt the file was converted from. */
  sourceSha256: 'netdef.source_sha256',
} as const;

/** Metadata strings describing `info`, plus the source .pt's sha256 when known. */
export function metadataFromInfo(info: ModelInfo, sourceSha256?: string): Record<string, string> {
  const meta: Record<string, string> = { [METADATA_KEYS.format]: 'pt' };
  if (info.nc !== undefined) meta[METADATA_KEYS.nc] = String(info.nc);
  if (info.names !== undefined) meta[METADATA_KEYS.names] = JSON.stringify(info.names);
  if (info.scale !== undefined) meta[METADATA_KEYS.scale] = info.scale;
  if (info.strides !== undefined) meta[METADATA_KEYS.strides] = JSON.stringify(info.strides);
  if (info.config !== undefined) meta[METADATA_KEYS.config] = info.config;
  if (sourceSha256 !== undefined) meta[METADATA_KEYS.sourceSha256] = sourceSha256;
  return meta;
}

/**
 * ModelInfo from metadata strings; a netdef key with a malformed value, or one over a limit (class
 * count, name length), is ERR_SAFETENSORS_HEADER naming the key.
 */
export function infoFromMetadata(path: string, meta: Readonly<Record<string, string>>): ModelInfo {
  const get = (key: string): string | undefined => (Object.hasOwn(meta, key) ? meta[key] : undefined);
  const where = `${path}: metadata`;
  const bad = (key: string, why: string): never =>
    fail(ErrorCode.SafetensorsHeader, `${where} '${key}' ${why}: ${JSON.stringify(clip(get(key) ?? ''))}`);
  const info: { -readonly [K in keyof ModelInfo]: ModelInfo[K] } = {};
  const nc = get(METADATA_KEYS.nc);
  if (nc !== undefined) {
    if (!/^\d+$/.test(nc)) bad(METADATA_KEYS.nc, 'is not a non-negative integer');
    checkLimit('classes', BigInt(nc), ErrorCode.SafetensorsHeader, `${where} '${METADATA_KEYS.nc}'`, 'the class count');
    info.nc = Number(nc);
  }
  const names = parseJsonArray(path, METADATA_KEYS.names, get(METADATA_KEYS.names), (v) => typeof v === 'string');
  if (names === null) bad(METADATA_KEYS.names, 'is not a JSON array of strings');
  else if (names) {
    checkLimit('classes', names.length, ErrorCode.SafetensorsHeader, `${where} '${METADATA_KEYS.names}'`, 'the number of class names');
    const longest = (names as string[]).reduce((max, name) => Math.max(max, name.length), 0);
    checkLimit('nameChars', longest, ErrorCode.SafetensorsHeader, `${where} '${METADATA_KEYS.names}'`, 'the longest class name, in characters');
    info.names = names as string[];
  }
  const strides = parseJsonArray(path, METADATA_KEYS.strides, get(METADATA_KEYS.strides), (v) => typeof v === 'number' && v > 0);
  if (strides === null) bad(METADATA_KEYS.strides, 'is not a JSON array of positive numbers');
  else if (strides) info.strides = strides as number[];
  for (const key of [METADATA_KEYS.scale, METADATA_KEYS.config] as const) {
    const value = get(key);
    if (value !== undefined) checkLimit('nameChars', value.length, ErrorCode.SafetensorsHeader, `${where} '${key}'`, 'its length');
  }
  const scale = get(METADATA_KEYS.scale);
  const config = get(METADATA_KEYS.config);
  if (scale !== undefined) info.scale = scale;
  if (config !== undefined) info.config = config;
  return info;
}

/** The parsed array; undefined when absent; null when present but not an array of valid items. */
function parseJsonArray(path: string, key: string, text: string | undefined, valid: (v: unknown) => boolean): unknown[] | undefined | null {
  if (text === undefined) return undefined;
  const value = parseJson(text, { code: ErrorCode.SafetensorsHeader, where: `${path}: metadata '${key}'` });
  return Array.isArray(value) && value.every(valid) ? value : null;
}
