import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ErrorCode, NetdefError } from '../common/errors.js';

/**
 * Small file helpers shared by the weight readers: reading a whole file with a typed error that
 * names the path, and hashing bytes for `WeightSource.sha256`.
 */

/** The whole file; a missing or unreadable path becomes ERR_FILE_NOT_FOUND naming the path. */
export async function readWeightFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw fileError(path, err);
  }
}

/** The typed error for a path that cannot be opened or read. */
export function fileError(path: string, err: unknown): NetdefError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? String(err));
  return new NetdefError(ErrorCode.FileNotFound, `cannot read weights file ${path}: ${why}`, { cause: err });
}

/** Hex sha256 of bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
