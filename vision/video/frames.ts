/**
 * Frames of a video file or stream (anything ffmpeg opens: files, rtsp://, http://, a V4L2 camera),
 * decoded by an ffmpeg process into raw RGB through a pipe. Frames are read as the consumer asks
 * for them (the pipe's back-pressure pauses ffmpeg), so a camera or an endless stream runs in
 * bounded memory. `vidStride` keeps every n-th frame as Ultralytics' loader does (it grabs n frames
 * and keeps the last). A source ffmpeg cannot open, or one that ends early or mid-frame, ends the
 * iteration with ERR_VIDEO_DECODE quoting ffmpeg, after every complete frame decoded before it.
 */
import { spawn } from 'node:child_process';
import { ErrorCode, NetdefError } from '../../common/errors.js';
import { RGB_CHANNELS, rgbImage, type RgbImage } from '../image.js';
import { ffmpegPath } from './ffmpeg.js';

export interface VideoFrame {
  readonly image: RgbImage;
  /** 1-based number of the frame in the source (before striding). */
  readonly frame: number;
  /** Frames per second as ffmpeg reports the stream (for writing an annotated copy). */
  readonly fps: number;
}

export interface FrameOptions {
  /** Keep every n-th frame (Ultralytics `vid_stride`, default 1). */
  readonly vidStride?: number;
}

/** The last lines of ffmpeg's stderr kept for error messages. */
const STDERR_LINES = 3;
/** ffmpeg's fallback when a stream states no rate. */
const DEFAULT_FPS = 30;

interface StreamInfo {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

/** The raw output stream's size and rate, from ffmpeg's `Output #0` section. */
function parseInfo(stderr: string): StreamInfo | undefined {
  const out = stderr.indexOf('Output #0');
  if (out < 0) return undefined;
  const line = /Stream #0:0.*Video: rawvideo.*/.exec(stderr.slice(out))?.[0];
  const size = line && /, (\d+)x(\d+)/.exec(line);
  if (!line || !size) return undefined;
  const rate = /([\d.]+) (?:fps|tbr)/.exec(line);
  return { width: Number(size[1]), height: Number(size[2]), fps: rate ? Number(rate[1]) : DEFAULT_FPS };
}

/** ffmpeg's last words, at most this long: the reason is at the end. */
const STDERR_CHARS = 400;

/** The input's duration in seconds (files; streams and cameras have none). */
function parseDuration(stderr: string): number | undefined {
  const m = /Duration: (\d+):(\d+):([\d.]+)/.exec(stderr);
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined;
}

/** Frames short of the duration's count that still count as complete (rounding of the last frame). */
const FRAME_TOLERANCE = 1;

function lastLines(text: string): string {
  const tail = text.trim().split(/[\r\n]+/).slice(-STDERR_LINES).map((l) => l.trim()).join(' | ');
  return tail.length > STDERR_CHARS ? `…${tail.slice(-STDERR_CHARS)}` : tail;
}

export async function* videoFrames(source: string, options: FrameOptions = {}): AsyncGenerator<VideoFrame> {
  const stride = options.vidStride ?? 1;
  if (!Number.isInteger(stride) || stride < 1) throw new NetdefError(ErrorCode.InvalidArgument, `vid_stride must be a positive integer, got ${String(stride)}`);
  const args = ['-hide_banner', '-nostats', '-nostdin', '-xerror', '-i', source, '-map', '0:v:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-vsync', '0', 'pipe:1'];
  const child = spawn(ffmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    stderr += s;
    // Keep the header (for the stream info) and a tail (for errors), not a whole log.
    if (stderr.length > 1 << 16) stderr = stderr.slice(0, 1 << 14) + stderr.slice(-(1 << 14));
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('close', (code) => resolve(code));
    child.on('error', () => resolve(null));
  });
  const fail = (why: string): NetdefError => new NetdefError(ErrorCode.VideoDecode, `${source}: ${why} (ffmpeg: ${lastLines(stderr)})`);
  let info: StreamInfo | undefined;
  let frameBytes = 0;
  let pending: Uint8Array | undefined;
  let filled = 0;
  let decoded = 0;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      info ??= parseInfo(stderr);
      if (!info) throw fail('ffmpeg wrote frames before saying their size');
      frameBytes = info.width * info.height * RGB_CHANNELS;
      let at = 0;
      while (at < chunk.length) {
        pending ??= new Uint8Array(frameBytes);
        const n = Math.min(frameBytes - filled, chunk.length - at);
        pending.set(chunk.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled < frameBytes) break;
        decoded++;
        const image = pending;
        pending = undefined;
        filled = 0;
        if (decoded % stride === 0) yield { image: rgbImage(info.width, info.height, image, source), frame: decoded, fps: info.fps };
      }
    }
    const code = await exited;
    if (code !== 0) throw fail(decoded === 0 ? 'cannot open or decode it' : `decoding stopped after frame ${decoded}`);
    if (filled > 0) throw fail(`the stream ended inside frame ${decoded + 1}`);
    if (decoded === 0) throw fail('it holds no video frames');
    // ffmpeg ends a truncated file quietly ("Read error", exit 0): compare with the stated duration.
    const duration = parseDuration(stderr);
    const expected = duration !== undefined && info ? Math.round(duration * info.fps) : undefined;
    if (expected !== undefined && decoded < expected - FRAME_TOLERANCE) throw fail(`the video ended after frame ${decoded} of ${expected}`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}
