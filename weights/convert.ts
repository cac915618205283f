import { isFloat } from '../common/dtype.js';
import { ErrorCode, fail } from '../common/errors.js';
import { type HostTensor, castFloat } from '../common/host-tensor.js';
import { metadataFromInfo } from './metadata.js';
import { loadPt } from './pt/checkpoint.js';
import { writeSafetensors } from './safetensors-write.js';
import type { ModelInfo } from './store.js';

/**
 * `.pt` -> safetensors: every tensor of the checkpoint's state_dict under its Ultralytics name
 * (num_batches_tracked included), in the stored dtype or cast to float32 / float16 (integer
 * tensors are never cast), with the model's info and the .pt's sha256 as metadata.
 */

export type ConvertDType = 'keep' | 'float32' | 'float16';
const CONVERT_DTYPES: readonly ConvertDType[] = ['keep', 'float32', 'float16'];

export interface ConvertProgress {
  readonly phase: 'read' | 'cast' | 'write';
  /** Units done in this phase (tensors for read/cast, bytes for write). */
  readonly done: number;
  readonly total: number;
}

export interface ConvertOptions {
  /** Floating-point dtype of the output; 'keep' (default) keeps each tensor's stored dtype. */
  readonly dtype?: ConvertDType;
  readonly onProgress?: (progress: ConvertProgress) => void;
}

export interface ConvertSummary {
  /** The safetensors file written. */
  readonly path: string;
  /** Number of tensors written. */
  readonly tensors: number;
  /** Size of the written file in bytes. */
  readonly bytes: number;
  readonly info: ModelInfo;
  /** sha256 of the source .pt, also stored as `netdef.source_sha256`. */
  readonly sourceSha256: string;
}

export async function convertPtToSafetensors(ptPath: string, outPath: string, options: ConvertOptions = {}): Promise<ConvertSummary> {
  const dtype = options.dtype ?? 'keep';
  if (!CONVERT_DTYPES.includes(dtype)) {
    fail(ErrorCode.InvalidArgument, `convert dtype must be one of ${CONVERT_DTYPES.join(', ')}, got ${JSON.stringify(dtype)}`);
  }
  const progress = options.onProgress;
  const store = await loadPt(ptPath);
  const count = store.tensors.size;
  progress?.({ phase: 'read', done: count, total: count });
  const tensors = castAll(store.tensors, dtype, (done) => progress?.({ phase: 'cast', done, total: count }));
  const sourceSha256 = store.source.sha256 ?? '';
  const metadata = metadataFromInfo(store.info, sourceSha256);
  const { bytes } = await writeSafetensors(outPath, tensors, metadata, {
    onProgress: (done, total) => progress?.({ phase: 'write', done, total }),
  });
  return { path: outPath, tensors: tensors.size, bytes, info: store.info, sourceSha256 };
}

/** Float tensors cast to `dtype` ('keep': unchanged); other tensors kept as they are. */
function castAll(tensors: ReadonlyMap<string, HostTensor>, dtype: ConvertDType, onTensor: (done: number) => void): ReadonlyMap<string, HostTensor> {
  if (dtype === 'keep') return tensors;
  const out = new Map<string, HostTensor>();
  for (const [name, t] of tensors) {
    out.set(name, isFloat(t.dtype) ? castFloat(t, dtype) : t);
    onTensor(out.size);
  }
  return out;
}
