/**
 * Engine files crafted for the regression inputs: a minimal valid metadata object (the fields
 * engine-schema.ts requires) and an encoder whose header, metadata and backend can be replaced,
 * with a correct sha256 (tampering, not corruption).
 */
import { createHash } from 'node:crypto';
import { NETDEF_VERSION } from '../../common/version.js';
import { ENGINE_FORMAT_VERSION, ENGINE_MAGIC } from '../../engine/file-format.js';

const FIXED_HEADER_BYTES = 16;

export function minimalMetadata(): Record<string, unknown> {
  return {
    model: 'yolov8n', names: ['a'], strides: [8, 16, 32], imgsz: [64, 64],
    inputs: [{ name: 'images', dtype: 'float32', shape: ['batch', 3, 64, 64] }],
    outputs: [{ name: 'output0', dtype: 'float32', shape: ['batch', 5, 84] }],
    batch: { min: 1, opt: 1, max: 1 }, precision: { '/model.0/conv/Conv': 'float32' }, weights: ['model.0.conv.weight'],
  };
}

export interface EngineParts {
  readonly metadata?: Record<string, unknown>;
  readonly metadataText?: string;
  readonly headerText?: string;
  readonly backend?: string;
}

export function engineBytes(parts: EngineParts): Uint8Array {
  const metadataText = parts.metadataText ?? JSON.stringify({ ...minimalMetadata(), ...parts.metadata });
  const blob = new Uint8Array(8);
  const headerText = parts.headerText ?? JSON.stringify({
    netdef: NETDEF_VERSION, backend: parts.backend ?? 'onnxruntime', target: 'onnx', metadataBytes: Buffer.byteLength(metadataText), blobBytes: blob.byteLength,
  });
  const header = Buffer.from(headerText);
  const fixed = Buffer.alloc(FIXED_HEADER_BYTES);
  fixed.write(ENGINE_MAGIC, 0, 'latin1');
  fixed.writeUInt32LE(ENGINE_FORMAT_VERSION, 8);
  fixed.writeUInt32LE(header.length, 12);
  const body = Buffer.concat([fixed, header, Buffer.from(metadataText), blob]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}
