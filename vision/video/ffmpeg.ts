/**
 * Where ffmpeg is: $NETDEF_FFMPEG when set (and then only there), else the binary that the
 * @ffmpeg-installer/ffmpeg npm package ships for this platform, else `ffmpeg` on PATH. None of these:
 * ERR_FFMPEG_NOT_FOUND, saying how to get one.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { ErrorCode, NetdefError } from '../../common/errors.js';

export const FFMPEG_ENV = 'NETDEF_FFMPEG';

let found: string | undefined;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function fromPackage(): string | undefined {
  try {
    const installer = createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path?: string };
    return installer.path && executable(installer.path) ? installer.path : undefined;
  } catch {
    return undefined; // no binary for this platform, or the optional package was not installed
  }
}

function onPath(): string | undefined {
  const probe = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' });
  return probe.status === 0 ? 'ffmpeg' : undefined;
}

/** The ffmpeg to run (looked up once). */
export function ffmpegPath(): string {
  const env = process.env[FFMPEG_ENV];
  if (env !== undefined) {
    if (!executable(env)) throw new NetdefError(ErrorCode.FfmpegMissing, `${FFMPEG_ENV}=${env} is not an executable file`);
    return env;
  }
  found ??= fromPackage() ?? onPath();
  if (!found) {
    throw new NetdefError(ErrorCode.FfmpegMissing, `videos and streams need ffmpeg: none found (the @ffmpeg-installer/ffmpeg package has no binary for ${process.platform}-${process.arch} here, and there is no ffmpeg on PATH); install one or set ${FFMPEG_ENV}`);
  }
  return found;
}
