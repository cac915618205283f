/**
 * An annotated video written by an ffmpeg process from raw RGB frames (H.264 in MP4, yuv420p, odd
 * sizes padded by one pixel as H.264 needs). The file appears under its name only when ffmpeg has
 * finished it (temporary file, then rename); `abort` removes it.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { rename, rm } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { ErrorCode, NetdefError } from '../../common/errors.js';
import { ffmpegPath } from './ffmpeg.js';

export class VideoWriter {
  private stderr = '';
  private readonly exited: Promise<number | null>;
  private readonly tmp: string;

  private constructor(private readonly path: string, private readonly child: ChildProcessByStdio<Writable, null, Readable>, readonly width: number, readonly height: number) {
    this.tmp = `${path}.tmp-${process.pid}`;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      this.stderr = (this.stderr + s).slice(-2000);
    });
    child.stdin.on('error', () => undefined); // a dead ffmpeg is reported by close()
    this.exited = new Promise((resolve) => {
      child.on('close', (code) => resolve(code));
      child.on('error', () => resolve(null));
    });
  }

  static open(path: string, width: number, height: number, fps: number): VideoWriter {
    const tmp = `${path}.tmp-${process.pid}`;
    const args = [
      '-hide_banner', '-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps), '-i', 'pipe:0',
      '-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-f', 'mp4', tmp,
    ];
    return new VideoWriter(path, spawn(ffmpegPath(), args, { stdio: ['pipe', 'ignore', 'pipe'] }), width, height);
  }

  /** Appends one frame (width × height × 3 bytes), waiting while ffmpeg's pipe is full. */
  async write(rgb: Uint8Array): Promise<void> {
    if (rgb.byteLength !== this.width * this.height * 3) throw new NetdefError(ErrorCode.InvalidArgument, `${this.path}: a frame of ${this.width}x${this.height} needs ${this.width * this.height * 3} bytes, got ${rgb.byteLength}`);
    if (!this.child.stdin.write(rgb)) await new Promise<void>((resolve) => {
      this.child.stdin.once('drain', resolve);
      this.child.once('close', resolve);
    });
  }

  /** Finishes the file and puts it in place. */
  async close(): Promise<void> {
    this.child.stdin.end();
    const code = await this.exited;
    if (code !== 0) {
      await rm(this.tmp, { force: true });
      throw new NetdefError(ErrorCode.FileWrite, `cannot write annotated video ${this.path}: ffmpeg exited with ${String(code)} (${this.stderr.trim().split('\n').slice(-2).join(' | ')})`);
    }
    await rename(this.tmp, this.path);
  }

  async abort(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
    await rm(this.tmp, { force: true });
  }
}
