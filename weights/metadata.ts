import { ErrorCode, fail } from '../common/errors.js';
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

/** ModelInfo from metadata strings; a netdef key with a malformed value is ERR_SAFETENSORS_HEADER. */
export function infoFromMetadata(path: string, meta: Readonly<Record<string, string>>): ModelInfo {
  const bad = (key: string, why: string): never =>
    fail(ErrorCode.SafetensorsHeader, `${path}: metadata '${key}' ${why}: ${JSON.stringify(meta[key])}`);
  const info: { -readonly [K in keyof ModelInfo]: ModelInfo[K] } = {};
  const nc = meta[METADATA_KEYS.nc];
  if (nc !== undefined) {
    if (!/^\d+$/.test(nc)) bad(METADATA_KEYS.nc, 'is not a non-negative integer');
    info.nc = Number(nc);
  }
  const names = parseJsonArray(meta[METADATA_KEYS.names], (v) => typeof v === 'string');
  if (names === null) bad(METADATA_KEYS.names, 'is not a JSON array of strings');
  else if (names) info.names = names as string[];
  const strides = parseJsonArray(meta[METADATA_KEYS.strides], (v) => typeof v === 'number' && v > 0);
  if (strides === null) bad(METADATA_KEYS.strides, 'is not a JSON array of positive numbers');
  else if (strides) info.strides = strides as number[];
  if (meta[METADATA_KEYS.scale] !== undefined) info.scale = meta[METADATA_KEYS.scale];
  if (meta[METADATA_KEYS.config] !== undefined) info.config = meta[METADATA_KEYS.config];
  return info;
}

/** The parsed array; undefined when absent; null when present but not an array of valid items. */
function parseJsonArray(text: string | undefined, valid: (v: unknown) => boolean): unknown[] | undefined | null {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.every(valid) ? value : null;
  } catch {
    return null;
  }
}
