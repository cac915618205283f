/**
 * Argument helpers shared by the commands: typed errors for bad values, naming the option.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ErrorCode, fail } from '../common/errors.js';
import { parsePolicy, type PrecisionPolicy } from '../dsl/precision/policy.js';
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
  if (!Number.isInteger(n) || n < 1) fail(ErrorCode.InvalidArgument, `--${name} must be a positive integer, got '${v}'`);
  return n;
}

/** `--imgsz 640` or `--imgsz 480,640` (h,w). */
/** A number in [0, 1] (--conf, --iou). */
export function unitInterval(values: Values, name: string): number | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) fail(ErrorCode.InvalidArgument, `--${name} must be a number in [0, 1], got '${v}'`);
  return n;
}

export function imgsz(values: Values): [number, number] | undefined {
  const v = str(values, 'imgsz');
  if (v === undefined) return undefined;
  const parts = v.split(/[,x]/).map(Number);
  const [h, w] = parts.length === 1 ? [parts[0], parts[0]] : parts;
  if (parts.length > 2 || !Number.isInteger(h) || !Number.isInteger(w) || h! < 1 || w! < 1) {
    fail(ErrorCode.InvalidArgument, `--imgsz must be N or H,W, got '${v}'`);
  }
  return [h!, w!];
}

/** `--precision-policy` as a file path, a JSON object or trtexec `--layerPrecisions` text. */
export function policy(values: Values): PrecisionPolicy | undefined {
  const v = str(values, 'precision-policy');
  if (v === undefined) return undefined;
  return parsePolicy(existsSync(v) ? readFileSync(v, 'utf8') : v);
}

/** `--batch N` or `--batch dynamic` (a symbolic batch dimension, the default). */
export function batch(values: Values): string | number | undefined {
  const v = str(values, 'batch');
  if (v === undefined || v === 'dynamic') return undefined;
  return positiveInt(values, 'batch');
}

/** What selects and types a model: --weights or --model, --imgsz, --precision-policy, --batch. */
export function modelOptions(values: Values): PrepareOptions {
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
