/** Small pieces of the CLI and vision output: suggestions, generated docs, %g, wildcards, label placement, progress rate. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { suggestions } from '../../cli/command.js';
import { countSummary } from '../../cli/detect-report.js';
import { percentile } from '../../cli/latency.js';
import { Progress } from '../../cli/progress.js';
import { cliReference } from '../../cli/reference.js';
import { OutputNames } from '../../cli/save-dir.js';
import { wildcardMatch } from '../../common/wildcard.js';
import { overlaySvg } from '../../vision/draw.js';
import { formatG } from '../../vision/yolo-txt.js';
import { REPO_ROOT } from '../data.js';

describe('CLI pieces', () => {
  it('docs/cli.md is the generated reference (npm run docs:cli)', () => {
    expect(readFileSync(join(REPO_ROOT, 'docs', 'cli.md'), 'utf8')).toBe(cliReference());
  });

  it('suggests the nearest option names', () => {
    expect(suggestions('wieghts', ['weights', 'engine', 'imgsz'])).toEqual(['weights']);
    expect(suggestions('conff', ['conf', 'iou', 'classes'])).toEqual(['conf']);
    expect(suggestions('zzzzzz', ['conf', 'iou'])).toEqual([]);
  });

  it('counts as Ultralytics writes them: by class id, plural with an s', () => {
    const d = (classId: number, label: string) => ({ classId, label });
    expect(countSummary([d(5, 'bus'), d(0, 'person'), d(0, 'person'), d(11, 'stop sign'), d(0, 'person'), d(0, 'person')])).toBe('4 persons, 1 bus, 1 stop sign');
    expect(countSummary([])).toBe('(no detections)');
  });

  it('shows no rate before a second has passed', () => {
    const p = new Progress(10, 'images', false);
    const started = (p as unknown as { started: number }).started;
    expect(p.rate(started + 1)).toBe('');
    p.update(5);
    expect(p.rate(started + 2000)).toBe(' 2.5/s');
  });

  it('gives every input a distinct output name and a writable format', () => {
    const names = new OutputNames();
    expect(['a/bus.jpg', 'b/bus.jpg', 'c/BUS.jpg', 'x.bmp', 'z.png'].map((f) => names.next(f))).toEqual([
      { stem: 'bus', extension: '.jpg' }, { stem: 'bus_2', extension: '.jpg' }, { stem: 'BUS_3', extension: '.jpg' },
      { stem: 'x', extension: '.png' }, { stem: 'z', extension: '.png' },
    ]);
  });

  it('percentiles as numpy', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBeCloseTo(9.1, 12);
  });
});

describe('formatG is Python\'s %g', () => {
  it.each([
    [0.5, '0.5'], [0.123456789, '0.123457'], [1, '1'], [0, '0'], [0.0001, '0.0001'], [0.00001234, '1.234e-05'], [123456789, '1.23457e+08'], [0.1, '0.1'], [12.5, '12.5'],
  ])('%s -> %s', (x, text) => expect(formatG(x)).toBe(text));
});

describe('wildcardMatch', () => {
  it.each([
    ['*.jpg', 'bus.jpg', true], ['*.jpg', 'bus.png', false], ['b?s.*', 'bus.jpg', true], ['*', '', true], ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXcYb', false], ['?', '', false], ['*bus*', 'a-bus-b', true], ['a*a', 'a', false],
  ])('%s on %s is %s', (pattern, text, expected) => expect(wildcardMatch(pattern, text)).toBe(expected));

  it('takes linear-ish time on a pattern that makes regular expressions backtrack', () => {
    const pattern = `${'*?'.repeat(20)}x`;
    const text = 'a'.repeat(5000);
    expect(wildcardMatch(pattern, text)).toBe(false);
  });
});

describe('annotated pictures', () => {
  const det = (x1: number, x2: number) => ({ box: [x1, 10, x2, 50] as const, score: 0.9, classId: 0, label: 'person' });
  const labelX = (svg: string): number[] => [...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="[\d.]+" fill="#/g)].map((m) => Number(m[1]) + Number(m[2]));

  it('keeps labels at the right edge inside the image', () => {
    for (const right of labelX(overlaySvg(200, 100, [det(180, 199)]))) expect(right).toBeLessThanOrEqual(200);
  });

  it('honours line width, hidden labels and hidden scores', () => {
    expect(overlaySvg(200, 100, [det(10, 50)], { lineWidth: 7 })).toContain('stroke-width="7"');
    expect(overlaySvg(200, 100, [det(10, 50)], { hideLabels: true })).not.toContain('<text');
    const noConf = overlaySvg(200, 100, [det(10, 50)], { hideConf: true });
    expect(noConf).toContain('>person</text>');
    expect(noConf).not.toContain('0.90');
  });
});
