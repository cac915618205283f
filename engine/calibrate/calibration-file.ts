/**
 * The calibration file: versioned JSON keyed by netdef tensor names, holding the method, the image
 * count and size, digests of the graph structure and of the weights it was made with, and each
 * tensor's amax (the int8 scale is amax / 127). Written atomically. Read as hostile input: every
 * field is checked, and a mistake is ERR_CALIBRATION naming the file and the field.
 *
 * Also writes TensorRT's calibration-cache text (`TRT-<version>-<Algorithm>` then one
 * `<tensor>: <float32 scale as 8 hex digits>` line per tensor), for TensorRT 10's implicit
 * quantization of netdef's fp32 ONNX export, whose value names are these tensor names.
 */
import { writeFile } from 'node:fs/promises';
import { writeAtomically } from '../../common/atomic-file.js';
import { ErrorCode, fail } from '../../common/errors.js';
import { jsonForMessage, parseJson } from '../../common/json-parse.js';
import { clip, readFileWithin } from '../../common/limits.js';
import { NETDEF_VERSION } from '../../common/version.js';
import type { ActivationRanges } from '../../dsl/passes/quantize-int8.js';
import { symmetricScale } from '../../weights/quantize.js';
import { type CalibrationMethod, describeMethod, parseCalibrationMethod } from './methods.js';

export const CALIBRATION_FORMAT = 'netdef-calibration';
export const CALIBRATION_VERSION = 1;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface Calibration extends ActivationRanges {
  readonly method: CalibrationMethod;
  /** Images the ranges were collected on. */
  readonly images: number;
  /** The input size [h, w] calibration ran at. */
  readonly imgsz: readonly [number, number];
  /** The model's graph name (yolov8n). */
  readonly model: string;
  /** sha256 of the graph's structure (calibrate/graph-digest.ts). */
  readonly graphDigest: string;
  /** sha256 of the fp32 parameters (weights/digest.ts). */
  readonly weightsDigest: string;
}

interface CalibrationJson {
  format: string;
  version: number;
  netdef: string;
  model: string;
  graph: string;
  weights: string;
  imgsz: [number, number];
  method: string;
  images: number;
  tensors: Record<string, number>;
}

export function calibrationJson(c: Calibration): string {
  const json: CalibrationJson = {
    format: CALIBRATION_FORMAT, version: CALIBRATION_VERSION, netdef: NETDEF_VERSION, model: c.model, graph: c.graphDigest, weights: c.weightsDigest,
    imgsz: [c.imgsz[0], c.imgsz[1]], method: describeMethod(c.method), images: c.images, tensors: Object.fromEntries(c.amax),
  };
  return `${JSON.stringify(json, null, 1)}\n`;
}

export async function writeCalibration(path: string, c: Calibration): Promise<void> {
  await writeAtomically(path, 'calibration file', (tmp) => writeFile(tmp, calibrationJson(c)));
}

function bad(path: string, field: string, problem: string): never {
  return fail(ErrorCode.Calibration, `calibration file ${path}: ${field} ${problem}`, { file: path, field });
}

/** The calibration in `text` (the content of `path`, named in errors). */
export function parseCalibration(text: string | Uint8Array, path: string): Calibration {
  const value = parseJson(text, { code: ErrorCode.Calibration, where: `calibration file ${path} (truncated or not JSON?)` });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad(path, 'the content', `must be a JSON object, found ${jsonForMessage(value)}`);
  const o = value as Record<string, unknown>;
  const get = (key: string): unknown => (Object.hasOwn(o, key) ? o[key] : bad(path, `"${key}"`, 'is missing'));
  if (get('format') !== CALIBRATION_FORMAT) bad(path, '"format"', `must be "${CALIBRATION_FORMAT}", found ${jsonForMessage(o.format)}`);
  if (get('version') !== CALIBRATION_VERSION) bad(path, '"version"', `${jsonForMessage(o.version)} is not supported (this netdef reads version ${CALIBRATION_VERSION})`);
  const text64 = (key: string): string => {
    const v = get(key);
    if (typeof v !== 'string' || !SHA256_HEX.test(v)) bad(path, `"${key}"`, 'must be a sha256 in hex');
    return v;
  };
  const model = get('model');
  if (typeof model !== 'string' || model.length === 0) bad(path, '"model"', 'must be a graph name such as "yolov8n"');
  const imgsz = get('imgsz');
  if (!Array.isArray(imgsz) || imgsz.length !== 2 || imgsz.some((d) => !Number.isInteger(d) || (d as number) < 1)) bad(path, '"imgsz"', 'must be [height, width] in pixels');
  const images = get('images');
  if (!Number.isInteger(images) || (images as number) < 1) bad(path, '"images"', 'must be a positive image count');
  const methodText = get('method');
  if (typeof methodText !== 'string') bad(path, '"method"', 'must be a string');
  let method: CalibrationMethod;
  try {
    method = parseCalibrationMethod(methodText);
  } catch {
    bad(path, '"method"', `'${clip(methodText)}' is not entropy, minmax or percentile[=p]`);
  }
  const tensors = get('tensors');
  if (typeof tensors !== 'object' || tensors === null || Array.isArray(tensors)) bad(path, '"tensors"', 'must map tensor names to ranges');
  const amax = new Map<string, number>();
  for (const [name, a] of Object.entries(tensors)) {
    if (typeof a !== 'number' || !Number.isFinite(a) || a < 0) bad(path, `tensor '${clip(name)}'`, `has range ${jsonForMessage(a)}; ranges are finite numbers >= 0`);
    amax.set(name, a);
  }
  return {
    source: path, method, images: images as number, imgsz: [imgsz[0] as number, imgsz[1] as number], model,
    graphDigest: text64('graph'), weightsDigest: text64('weights'), amax,
  };
}

export async function readCalibration(path: string): Promise<Calibration> {
  const bytes = await readFileWithin(path, 'calibration file', 'calibrationBytes', ErrorCode.Calibration);
  return parseCalibration(bytes, path);
}

/** TensorRT's name for the calibrator whose cache this is (percentile has none; its ranges are written as entropy's). */
const TRT_ALGORITHM: Readonly<Record<CalibrationMethod['name'], string>> = {
  entropy: 'EntropyCalibration2', percentile: 'EntropyCalibration2', minmax: 'MinMaxCalibration',
};

/** A float32's bits as 8 hex digits, most significant first, as TensorRT's cache writes scales. */
function float32Hex(x: number): string {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, x, false);
  return view.getUint32(0, false).toString(16).padStart(8, '0');
}

/** TensorRT's calibration cache for `c`; `trtVersion` as TensorRT prints NV_TENSORRT_VERSION (e.g. 100300 for 10.3.0). */
export function trtCalibrationCache(c: Calibration, trtVersion: number): string {
  const lines = [`TRT-${trtVersion}-${TRT_ALGORITHM[c.method.name]}`];
  for (const [name, amax] of c.amax) lines.push(`${name}: ${float32Hex(symmetricScale(amax))}`);
  return `${lines.join('\n')}\n`;
}

export async function writeTrtCalibrationCache(path: string, c: Calibration, trtVersion: number): Promise<void> {
  await writeAtomically(path, 'TensorRT calibration cache', (tmp) => writeFile(tmp, trtCalibrationCache(c, trtVersion)));
}

