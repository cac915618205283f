import { createHash } from 'node:crypto';
import { ErrorCode, NetdefError } from '../common/errors.js';
import { readFileWithin } from '../common/limits.js';

/**
 * Small file helpers shared by the weight readers: reading a whole file with a typed error that
 * names the path, and hashing bytes for `WeightSource.sha256`.
 */

/**
 * The whole file; a missing or unreadable path, or a directory, becomes ERR_FILE_NOT_FOUND naming
 * the path; a file over the limit fileBytes is ERR_INVALID_ARGUMENT before it is read.
 */
export async function readWeightFile(path: string): Promise<Buffer> {
  return readFileWithin(path, 'weights file', 'fileBytes', ErrorCode.InvalidArgument);
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
