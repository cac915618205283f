import { ErrorCode, fail } from '../common/errors.js';
import { readWeightFile } from './io.js';
import { readPt } from './pt/checkpoint.js';
import { safetensorsStore } from './safetensors.js';
import type { WeightStore } from './store.js';

/**
 * Loads weights from a path, choosing the reader by the file's first bytes rather than its
 * extension: a zip (`PK\x03\x04`) is a PyTorch checkpoint, anything else is read as safetensors
 * (whose strict header check rejects what it is not).
 */

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
/** Pickle PROTO opcode: the first byte of the legacy (pre-1.6, non-zip) torch.save format. */
const PICKLE_PROTO = 0x80;

export async function loadWeights(path: string): Promise<WeightStore> {
  const bytes = await readWeightFile(path);
  if (ZIP_MAGIC.every((b, i) => bytes[i] === b)) return readPt(path, bytes);
  if (bytes[0] === PICKLE_PROTO) {
    fail(ErrorCode.CheckpointFormat, `${path}: legacy (non-zip) torch.save format is not supported; re-save it with torch >= 1.6`);
  }
  return safetensorsStore(path, bytes);
}
