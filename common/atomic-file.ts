/**
 * Writing a file so that it is either the whole new file or not there at all: the content goes to a
 * temporary file beside it, which is renamed over `path` only once complete; on any failure the
 * temporary file is removed and the error is a NetdefError ERR_FILE_WRITE naming what and where.
 */
import { rename, rm } from 'node:fs/promises';
import { ErrorCode, NetdefError } from './errors.js';

/** Runs `write(tmp)` then renames tmp to `path`; `what` names the file in errors ('engine file'). */
export async function writeAtomically(path: string, what: string, write: (tmp: string) => Promise<unknown>): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await write(tmp);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new NetdefError(ErrorCode.FileWrite, `cannot write ${what} ${path}: ${why}`, { cause: e });
  }
}
