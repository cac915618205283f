/**
 * common/limits.ts and common/json-parse.ts: limits can be raised (setLimits, NETDEF_LIMITS) and
 * are reported with the file, the field and the limit's name; the iterative JSON parser agrees
 * with JSON.parse on valid text, refuses what JSON.parse refuses, and bounds depth.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../common/errors.js';
import { parseJson } from '../../common/json-parse.js';
import { DEFAULT_LIMITS, type Limits, clip, setLimits } from '../../common/limits.js';
import { cocoJsonFromBytes } from '../../vision/eval/coco-json.js';
import { REPO_ROOT } from '../data.js';
import { thrownNetdefError } from '../thrown.js';

const json = (text: string, skip?: string[]): unknown =>
  parseJson(text, { code: ErrorCode.Dataset, where: 'x.json', ...(skip ? { skipKeys: new Set(skip) } : {}) });

describe('limits', () => {
  let previous: Readonly<Limits> | undefined;
  afterEach(() => {
    if (previous) setLimits(previous);
    previous = undefined;
  });

  it('can be lowered and raised for the process, and names the limit when hit', () => {
    previous = setLimits({ cocoAnnotations: 1 });
    const coco = { images: [{ id: 1, file_name: 'a.jpg', width: 2, height: 2 }], categories: [{ id: 1, name: 'a' }],
      annotations: [1, 2].map((id) => ({ id, image_id: 1, category_id: 1, bbox: [0, 0, 1, 1], area: 1, iscrowd: 0 })) };
    const err = thrownNetdefError(() => cocoJsonFromBytes(Buffer.from(JSON.stringify(coco)), 'big.json'));
    expect(err).toMatchObject({ code: 'ERR_DATASET', message: expect.stringMatching(/big\.json.*annotations is 2, over the limit cocoAnnotations = 1/) });
    setLimits({ cocoAnnotations: 10 });
    expect(cocoJsonFromBytes(Buffer.from(JSON.stringify(coco)), 'big.json').groundTruth.annotations).toHaveLength(2);
  });

  it('refuses unknown limits and values that are not positive integers', () => {
    expect(() => setLimits({ nope: 1 } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => setLimits({ classes: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('reads NETDEF_LIMITS once', () => {
    const script = "import { limits } from './common/limits.ts'; console.log(JSON.stringify(limits()));";
    const run = (env: string) => spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, NETDEF_LIMITS: env } });
    const ok = run('classes=200000, cocoJsonBytes=4294967296');
    expect(JSON.parse(ok.stdout)).toMatchObject({ classes: 200_000, cocoJsonBytes: 4_294_967_296, jsonDepth: DEFAULT_LIMITS.jsonDepth });
    expect(run('classes=lots').stderr).toMatch(/ERR_INVALID_ARGUMENT|must be a positive integer/);
  });

  it('clips file content quoted in messages', () => {
    expect(clip('x'.repeat(1_000_000)).length).toBeLessThan(DEFAULT_LIMITS.messageChars + 50);
  });
});

describe('the iterative JSON parser', () => {
  it('gives what JSON.parse gives', () => {
    for (const text of ['{"a":[1,2,{"b":null}],"c":"h\\u00e9\\n","d":-1.5e3,"e":true}', '[]', '{}', '"x"', '0', ' [ 1e-7 , 0.1, 123456789012345678 ] ', '"é"', '{"__proto__": 5}']) {
      expect(JSON.stringify(json(text))).toBe(JSON.stringify(JSON.parse(text)));
    }
    expect(Object.getPrototypeOf(json('{"__proto__": {"x": 1}}'))).toBe(Object.prototype);
  });

  it('refuses what JSON.parse refuses, typed', () => {
    for (const text of ['[1,]', '{"a" 1}', '01', '[1 2]', 'tru', '"\\x"', '{"a":1}}', '', '"\u0001"', '-', '1.', '1e']) {
      expect(() => JSON.parse(text)).toThrow();
      expect(thrownNetdefError(() => json(text)).message).toMatch(/^x\.json: not JSON/);
    }
  });

  it('bounds depth without recursion and drops skipped keys unbuilt', () => {
    expect(thrownNetdefError(() => json('['.repeat(1_000_000))).message).toMatch(/jsonDepth = 64/);
    expect(json('{"a": 1, "segmentation": [[1, 2, 3]], "b": {"segmentation": "x"}}', ['segmentation'])).toEqual({ a: 1, b: {} });
  });
});
