/**
 * Argument helpers shared by the commands: typed errors for bad values, naming the option.
 */
import { readFileSync, statSync } from 'node:fs';
import { ErrorCode, fail } from '../common/errors.js';
import { checkLimit } from '../common/limits.js';
import { parsePolicy, parsePrecision, type PrecisionPolicy } from '../dsl/precision/policy.js';
import { POLICY_PRESETS } from '../dsl/precision/presets.js';
import { type Calibration, readCalibration } from '../engine/calibrate/calibration-file.js';
import type { PrepareOptions } from '../engine/prepare.js';

export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') fail(ErrorCode.InvalidArgument, `--${name} needs a value`);
  return v;
}

export function required(values: Values, name: string, what: string): string {
  const v = str(values, name);
  if (!v) fail(ErrorCode.InvalidArgument, `--${name} is required (${what})`);
  return v;
}

export function positiveInt(values: Values, name: string): number | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) fail(ErrorCode.InvalidArgument, `--${name} must be a positive integer, got '${v}'`);
  return n;
}

/** A number in [0, 1] (--conf, --iou). */
export function unitInterval(values: Values, name: string): number | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) fail(ErrorCode.InvalidArgument, `--${name} must be a number in [0, 1], got '${v}'`);
  return n;
}

/** `--imgsz 640` or `--imgsz 480,640` (h,w). */
export function imgsz(values: Values): [number, number] | undefined {
  const v = str(values, 'imgsz');
  if (v === undefined) return undefined;
  const parts = v.split(/[,x]/).map(Number);
  const [h, w] = parts.length === 1 ? [parts[0], parts[0]] : parts;
  if (parts.length > 2 || !Number.isSafeInteger(h) || !Number.isSafeInteger(w) || h! < 1 || w! < 1) {
    fail(ErrorCode.InvalidArgument, `--imgsz must be N or H,W, got '${v}'`);
  }
  return [h!, w!];
}

function isPrecisionName(text: string): boolean {
  try {
    parsePrecision(text, '--precision-policy');
    return true;
  } catch {
    return false;
  }
}

/**
 * The text of `--precision-policy`: a regular file's contents (bounded), an inline policy (JSON,
 * `pattern:precision` entries, or one precision name meaning `*:<precision>`), or, when it is none
 * of these, a file that does not exist: ERR_FILE_NOT_FOUND naming it, not a syntax error.
 */
export function policyText(value: string): string {
  const st = statSync(value, { throwIfNoEntry: false });
  if (st) {
    if (!st.isFile()) fail(ErrorCode.InvalidArgument, `--precision-policy ${value} is not a regular file`);
    // A policy file larger than the policyBytes limit is not a policy (and /dev/zero is not read forever).
    checkLimit('policyBytes', st.size, ErrorCode.InvalidArgument, `--precision-policy ${value}`, 'its size in bytes');
    return readFileSync(value, 'utf8');
  }
  const t = value.trim();
  const preset = POLICY_PRESETS.get(t);
  if (preset !== undefined) return preset;
  if (isPrecisionName(t)) return `*:${t}`;
  if (t.startsWith('{') || t.includes(':')) return t;
  fail(ErrorCode.FileNotFound, `precision policy file ${value} not found (an inline policy is JSON, pattern:precision entries, or one precision such as fp16)`);
}

/** `--precision-policy`, `--half` (fp16 everywhere) or `--int8` (int8 everywhere): at most one. */
export function policy(values: Values): PrecisionPolicy | undefined {
  const given = (['precision-policy', 'half', 'int8'] as const).filter((k) => values[k] !== undefined);
  if (given.length > 1) fail(ErrorCode.InvalidArgument, `--${given[0]} and --${given[1]} both set the precision: give one`);
  if (values.half === true) return parsePolicy('*:fp16');
  if (values.int8 === true) return parsePolicy('*:int8');
  const v = str(values, 'precision-policy');
  return v === undefined ? undefined : parsePolicy(policyText(v));
}

/** `--batch N` or `--batch dynamic` (a symbolic batch dimension, the default). */
export function batch(values: Values): string | number | undefined {
  const v = str(values, 'batch');
  if (v === undefined || v === 'dynamic') return undefined;
  return positiveInt(values, 'batch');
}

/** `--calib FILE`: a calibration file, read and checked (ERR_CALIBRATION naming the file). */
export async function calibrationOf(values: Values): Promise<Calibration | undefined> {
  const path = str(values, 'calib');
  return path === undefined ? undefined : readCalibration(path);
}

/** What selects and types a model: --weights or --model, --imgsz, --precision-policy, --calib, --batch. */
export async function modelOptions(values: Values): Promise<PrepareOptions> {
  const calibration = await calibrationOf(values);
  return { ...modelShape(values), ...(calibration ? { calibration } : {}) };
}

function modelShape(values: Values): PrepareOptions {
  const weights = str(values, 'weights');
  const model = str(values, 'model');
  const size = imgsz(values);
  const prec = policy(values);
  const b = batch(values);
  return {
    ...(weights ? { weights } : {}), ...(model ? { model } : {}), ...(size ? { imgsz: size } : {}),
    ...(prec ? { policy: prec } : {}), ...(b !== undefined ? { batch: b } : {}),
  };
}
