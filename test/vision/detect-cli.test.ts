import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NetdefError } from '../../common/errors.js';
import { Detector } from '../../engine/detector.js';
import { netdef } from '../cli/run.js';
import { dataPath } from '../data.js';

const dir = mkdtempSync(join(tmpdir(), 'netdef-detect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const WEIGHTS = dataPath('weights', 'yolov8n.pt');

function folderWithOneBadImage(): string {
  const folder = join(dir, 'mixed');
  mkdirSync(folder, { recursive: true });
  copyFileSync(dataPath('images', 'bus.jpg'), join(folder, 'a-bus.jpg'));
  writeFileSync(join(folder, 'b-broken.jpg'), readFileSync(dataPath('images', 'zidane.jpg')).subarray(0, 20_000));
  writeFileSync(join(folder, 'c-text.jpg'), 'this is not an image');
  copyFileSync(dataPath('images', 'zidane.jpg'), join(folder, 'd-zidane.jpg'));
  writeFileSync(join(folder, 'notes.txt'), 'ignored: not an image extension');
  return folder;
}

describe('netdef detect', () => {
  it('prints one JSON array and nothing else with --json, and saves annotated pictures', async () => {
    const saveDir = join(dir, 'annotated');
    const res = await netdef('detect', dataPath('images', 'bus.jpg'), dataPath('images', 'zidane.jpg'), '--weights', WEIGHTS, '--json', '--save-dir', saveDir);
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { image: string; width: number; height: number; detections: { box: number[]; score: number; classId: number; label: string }[] }[];
    expect(out.map((o) => [o.width, o.height])).toEqual([[810, 1080], [1280, 720]]);
    expect(out[0]!.detections.filter((d) => d.label === 'person').length).toBe(4);
    expect(out[1]!.detections.map((d) => d.label).sort()).toEqual(['person', 'person', 'tie']);
    expect(Object.keys(out[0]!.detections[0]!).sort()).toEqual(['box', 'classId', 'label', 'score']);
    expect(readdirSync(saveDir).sort()).toEqual(['bus.jpg', 'zidane.jpg']);
  });

  it('filters classes and thresholds', async () => {
    const res = await netdef('detect', dataPath('images', 'bus.jpg'), '--weights', WEIGHTS, '--json', '--no-save', '--classes', '5', '--conf', '0.5');
    const out = JSON.parse(res.stdout) as { detections: { label: string }[] }[];
    expect(out[0]!.detections.map((d) => d.label)).toEqual(['bus']);
  });

  it('reports each bad image in a folder and processes the others', async () => {
    const res = await netdef('detect', folderWithOneBadImage(), '--weights', WEIGHTS, '--json', '--no-save');
    expect(res.code).toBe(1);
    const out = JSON.parse(res.stdout) as { image: string; error?: { code: string; message: string }; detections?: unknown[] }[];
    expect(out.map((o) => o.image.split('/').pop())).toEqual(['a-bus.jpg', 'b-broken.jpg', 'c-text.jpg', 'd-zidane.jpg']);
    expect(out.map((o) => o.error?.code ?? 'ok')).toEqual(['ok', 'ERR_IMAGE_DECODE', 'ERR_IMAGE_DECODE', 'ok']);
    expect(out[1]!.error!.message).toContain('b-broken.jpg');
    expect(res.stderr).toMatch(/ERR_IMAGE_DECODE.*b-broken\.jpg/);
    expect(res.stderr).toMatch(/ERR_IMAGE_DECODE.*c-text\.jpg/);
  });

  it.each([
    [['detect', join(dir, 'nothing-here'), '--weights', WEIGHTS, '--no-save'], 'ERR_FILE_NOT_FOUND', 'nothing-here'],
    [['detect', dataPath('images', 'bus.jpg'), '--weights', join(dir, 'missing.pt'), '--no-save'], 'ERR_FILE_NOT_FOUND', 'missing.pt'],
    [['detect', dataPath('images', 'bus.jpg'), '--weights', WEIGHTS, '--conf', '2', '--no-save'], 'ERR_INVALID_ARGUMENT', '--conf'],
    [['detect', dataPath('images', 'bus.jpg'), '--weights', WEIGHTS, '--backend', 'tpu', '--no-save'], 'ERR_INVALID_ARGUMENT', "unknown backend 'tpu'"],
  ])('netdef %j fails with %s', async (args, code, text) => {
    const res = await netdef(...args);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(code);
    expect(res.stderr).toContain(text);
  });

  it('builds an engine file and detects with it exactly as from the weights', async () => {
    const engineFile = join(dir, 'yolov8n.engine');
    const built = await netdef('build', '--weights', WEIGHTS, '-o', engineFile);
    expect(built.code, built.stderr).toBe(0);
    const fromEngine = await netdef('detect', dataPath('images', 'zidane.jpg'), '--engine', engineFile, '--json', '--no-save');
    const fromWeights = await netdef('detect', dataPath('images', 'zidane.jpg'), '--weights', WEIGHTS, '--square', '--json', '--no-save');
    expect(fromEngine.code, fromEngine.stderr).toBe(0);
    const withoutTimes = (out: string): unknown => (JSON.parse(out) as { times: unknown }[]).map(({ times: _, ...rest }) => rest);
    expect(withoutTimes(fromEngine.stdout)).toEqual(withoutTimes(fromWeights.stdout));
    const rect = await netdef('detect', dataPath('images', 'zidane.jpg'), '--engine', engineFile, '--rect', '--no-save');
    expect(rect.code).toBe(1);
    expect(rect.stderr).toContain('rect mode needs weights');
  });

  it('refuses an empty folder, naming it', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const res = await netdef('detect', empty, '--weights', WEIGHTS, '--no-save');
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/ERR_INVALID_ARGUMENT.*no images or videos in folder .*empty/);
  });
});

describe('Detector', () => {
  it('gives typed errors for bad images and goes on in detectEach', async () => {
    await using detector = await Detector.load(WEIGHTS);
    const folder = folderWithOneBadImage();
    await expect(detector.detect(join(folder, 'c-text.jpg'))).rejects.toMatchObject({ code: 'ERR_IMAGE_DECODE' });
    const seen: string[] = [];
    for await (const r of detector.detectEach([join(folder, 'a-bus.jpg'), join(folder, 'b-broken.jpg'), join(folder, 'd-zidane.jpg')])) {
      seen.push('error' in r ? `error:${r.error.code}` : `${r.detections.length}`);
    }
    expect(seen.slice(1)).toEqual(['error:ERR_IMAGE_DECODE', '3']);
    expect(Number(seen[0])).toBeGreaterThanOrEqual(5); // 4 persons and a bus at least
  });

  it('refuses use after dispose', async () => {
    const detector = await Detector.load(WEIGHTS);
    await detector.dispose();
    await expect(detector.detect(dataPath('images', 'bus.jpg'))).rejects.toBeInstanceOf(NetdefError);
  });
});
