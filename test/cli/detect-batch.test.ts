/**
 * `netdef detect --batch N --workers W`: the same detections as one image at a time, in the same
 * order; batches of one image size keep the rect letterbox, mixed ones go square (Ultralytics).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataPath } from '../data.js';
import { netdef } from './run.js';

const WEIGHTS = dataPath('weights', 'yolov8n.pt');
const BUS = dataPath('images', 'bus.jpg');
const COCO = readdirSync(dataPath('coco128', 'images')).sort().slice(0, 7).map((f) => dataPath('coco128', 'images', f));

interface Entry {
  readonly image: string;
  readonly detections: unknown[];
  readonly times?: unknown;
}

async function detectJson(...args: string[]): Promise<{ entries: Entry[]; stderr: string }> {
  const res = await netdef('detect', ...args, '--weights', WEIGHTS, '--no-save', '--json');
  expect(res.code, res.stderr).toBe(0);
  return { entries: JSON.parse(res.stdout) as Entry[], stderr: res.stderr };
}

describe('detect --batch', () => {
  it('gives, batched, the detections of one image at a time, in input order', async () => {
    const one = await detectJson(...COCO, '--square');
    const batched = await detectJson(...COCO, '--square', '--batch', '3', '--workers', '2');
    expect(batched.entries.map((e) => e.image)).toEqual(COCO);
    expect(batched.entries).toEqual(one.entries.map((e, i) => ({ ...e, times: batched.entries[i]!.times })));
  });

  it('keeps the rect letterbox for a batch of one image size', async () => {
    const one = await detectJson(BUS);
    const batched = await detectJson(BUS, BUS, '--batch', '2');
    expect(batched.entries.map((e) => e.detections)).toEqual([one.entries[0]!.detections, one.entries[0]!.detections]);
  });

  it('prints the batch in the speed line', async () => {
    const res = await netdef('detect', BUS, BUS, '--weights', WEIGHTS, '--no-save', '--batch', '2');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/per image at shape \(2, 3, 640, 480\)/);
  });

  it('refuses a batch that a saved engine cannot take, naming both', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netdef-batch-'));
    try {
      const engine = join(dir, 'b2.engine');
      const built = await netdef('build', '--weights', WEIGHTS, '--batch', '1:2:2', '-o', engine);
      expect(built.code, built.stderr).toBe(0);
      const res = await netdef('detect', BUS, '--engine', engine, '--no-save', '--batch', '4');
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/ERR_INVALID_ARGUMENT: .*b2\.engine is an engine for batches of 1 to 2 images; it cannot run batch 4/);
      const ok = await netdef('detect', BUS, BUS, '--engine', engine, '--no-save', '--batch', '2', '--json');
      expect(ok.code, ok.stderr).toBe(0);
      const [first, second] = JSON.parse(ok.stdout) as Entry[];
      expect(first!.detections.length).toBeGreaterThan(0);
      expect(second!.detections).toEqual(first!.detections);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([['--batch', '0'], ['--workers', 'x']])('refuses %s %s, naming it', async (option, value) => {
    const res = await netdef('detect', BUS, '--weights', WEIGHTS, '--no-save', option, value);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(option);
  });
});
