/**
 * `netdef detect` on videos: a clip made here, with the same ffmpeg, from coco128 pictures gives
 * frame by frame the detections of the same pictures run as stills (the clip is lossless, PNG in
 * Matroska, and the stills are PNGs written by the same ffmpeg, so the pixels are the same);
 * --vid-stride keeps every n-th frame; the annotated video is written; an unreadable or truncated
 * video and a missing ffmpeg give typed errors, with the frames decoded before the error reported.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpegPath } from '../../vision/video/ffmpeg.js';
import { videoFrames } from '../../vision/video/frames.js';
import { dataPath } from '../data.js';
import { netdef, netdefWith } from './run.js';

const WEIGHTS = dataPath('weights', 'yolov8n.pt');
const FRAMES = 6;
const dir = mkdtempSync(join(tmpdir(), 'netdef-video-'));
const clip = join(dir, 'clip.mkv');
let stills: string[] = [];

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const ffmpeg = ffmpegPath();
  const pictures = readdirSync(dataPath('coco128', 'images')).sort().map((f) => dataPath('coco128', 'images', f));
  const sized: string[] = [];
  for (const p of pictures) {
    const m = await sharp(p).metadata();
    if (m.width === 640 && m.height === 480 && (m.orientation ?? 1) === 1) sized.push(p);
    if (sized.length === FRAMES) break;
  }
  stills = sized.map((p, i) => {
    const png = join(dir, `still_${i + 1}.png`);
    execFileSync(ffmpeg, ['-v', 'error', '-y', '-i', p, '-pix_fmt', 'rgb24', png]);
    return png;
  });
  execFileSync(ffmpeg, ['-v', 'error', '-y', '-framerate', '5', '-i', join(dir, 'still_%d.png'), '-c:v', 'png', '-pix_fmt', 'rgb24', clip]);
}, 60_000);

interface Entry {
  readonly image: string;
  readonly frame?: number;
  readonly detections?: unknown[];
  readonly error?: { code: string; message: string };
}

const lines = (stdout: string): Entry[] => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Entry);

describe('detect on videos', () => {
  it('gives, frame by frame, the detections of the same pictures as stills', async () => {
    const still = await netdef('detect', ...stills, '--weights', WEIGHTS, '--no-save', '--json');
    expect(still.code, still.stderr).toBe(0);
    const expected = (JSON.parse(still.stdout) as Entry[]).map((e) => e.detections);
    expect(expected.some((d) => d!.length > 0)).toBe(true);
    const video = await netdef('detect', clip, '--weights', WEIGHTS, '--no-save', '--json', '--batch', '4');
    expect(video.code, video.stderr).toBe(0);
    const frames = lines(video.stdout);
    expect(frames.map((f) => f.frame)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(frames.map((f) => f.detections)).toEqual(expected);
    const strided = lines((await netdef('detect', clip, '--weights', WEIGHTS, '--no-save', '--json', '--vid-stride', '2')).stdout);
    expect(strided.map((f) => f.frame)).toEqual([2, 4, 6]);
    expect(strided.map((f) => f.detections)).toEqual([expected[1], expected[3], expected[5]]);
  });

  it('writes the annotated video and per-frame labels, with Ultralytics\' lines', async () => {
    const out = join(dir, 'run');
    const res = await netdef('detect', clip, '--weights', WEIGHTS, '--save-dir', out, '--save-txt');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^video 1\/1 \(frame 1\) .*clip\.mkv: 480x640 /m);
    let count = 0;
    for await (const f of videoFrames(join(out, 'clip.mp4'))) {
      expect([f.image.width, f.image.height]).toEqual([640, 480]);
      count++;
    }
    expect(count).toBe(FRAMES);
    expect(readdirSync(join(out, 'labels')).filter((f) => f.startsWith('clip_')).length).toBeGreaterThan(0);
  });

  it('reports the frames of a truncated video, then ERR_VIDEO_DECODE, and goes on with the next source', async () => {
    const bytes = readFileSync(clip);
    const truncated = join(dir, 'truncated.mkv');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const res = await netdef('detect', truncated, stills[0]!, '--weights', WEIGHTS, '--no-save', '--json');
    expect(res.code).toBe(1);
    const entries = lines(res.stdout);
    const frames = entries.filter((e) => e.frame !== undefined);
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.length).toBeLessThan(FRAMES);
    const failure = entries[frames.length]!;
    expect(failure.error?.code).toBe('ERR_VIDEO_DECODE');
    expect(failure.error?.message).toContain(`ended after frame ${frames.length} of ${FRAMES}`);
    expect(entries[frames.length + 1]!.image).toBe(stills[0]);
  });

  it('refuses a file that is not a video, naming it', async () => {
    const fake = join(dir, 'notes.mp4');
    writeFileSync(fake, 'not a video\n');
    const res = await netdef('detect', fake, '--weights', WEIGHTS, '--no-save');
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/ERR_VIDEO_DECODE: .*notes\.mp4: cannot open or decode it/);
  });

  it('says when there is no ffmpeg', async () => {
    const res = await netdefWith({ env: { NETDEF_FFMPEG: join(dir, 'no-ffmpeg') } }, 'detect', clip, '--weights', WEIGHTS, '--no-save');
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('ERR_FFMPEG_NOT_FOUND');
    expect(res.stderr).toContain('NETDEF_FFMPEG');
  });
});
