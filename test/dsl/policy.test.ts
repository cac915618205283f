import { describe, expect, it } from 'vitest';
import { NetdefError } from '../../common/errors.js';
import { matches, parsePolicy, precisionOf, unmatchedPatterns } from '../../dsl/precision/policy.js';

describe('precision policies', () => {
  it("reads trtexec's --layerPrecisions left to right, later entries winning", () => {
    const p = parsePolicy('*:fp16,/model.22/dfl/conv/Conv:fp32');
    expect(p.default).toBe('fp16');
    expect(precisionOf(p, '/model.0/conv/Conv')).toBe('fp16');
    expect(precisionOf(p, '/model.22/dfl/conv/Conv')).toBe('fp32');
    const q = parsePolicy('/model.22/:fp32,/model.22/dfl/:fp16');
    expect(precisionOf(q, '/model.22/dfl/Softmax')).toBe('fp16');
    expect(precisionOf(q, '/model.22/Concat')).toBe('fp32');
    expect(precisionOf(q, '/model.1/conv/Conv')).toBe('fp32');
  });

  it('matches substrings, or whole names for globs', () => {
    expect(matches('/model.22/', '/model.22/dfl/conv/Conv')).toBe(true);
    expect(matches('/model.2/', '/model.22/Concat')).toBe(false);
    expect(matches('/model.2*/Concat', '/model.22/Concat')).toBe(true);
    expect(matches('*/dfl/*', '/model.22/dfl/Softmax')).toBe(true);
    expect(matches('*/dfl', '/model.22/dfl/Softmax')).toBe(false);
  });

  it('reads the JSON forms', () => {
    const a = parsePolicy('{"default": "half", "layers": {"/model.22/": "float32"}}');
    expect(a).toEqual({ default: 'fp16', rules: [{ pattern: '/model.22/', precision: 'fp32' }] });
    const b = parsePolicy('{"default": "fp16", "rules": [{"pattern": "*/dfl/*", "precision": "fp32"}]}');
    expect(precisionOf(b, '/model.22/dfl/conv/Conv')).toBe('fp32');
  });

  it.each([
    ['/model.0/:fp64', 'unknown precision'],
    ['/model.0/', 'must be <layer pattern>:<precision>'],
    ['{"default": "fp16", "layer": {}}', 'unknown key'],
    ['{"default": ', 'not JSON'],
    ['{"rules": [{"precision": "fp16"}]}', 'string "pattern"'],
  ])('rejects %s', (text, message) => {
    try {
      parsePolicy(text);
      throw new Error('expected an error');
    } catch (e) {
      expect(e).toBeInstanceOf(NetdefError);
      expect((e as NetdefError).code).toBe('ERR_PRECISION_POLICY');
      expect((e as Error).message).toContain(message);
    }
  });
});

describe('hostile and shorthand policies (issue 13, issue 11)', () => {
  it('reads a bare precision, any alias, as *:<precision>', () => {
    for (const text of ['fp16', 'half', ' float16 ']) expect(parsePolicy(text)).toEqual({ default: 'fp16', rules: [] });
    expect(parsePolicy('fp16,/model.22/:fp32')).toEqual({ default: 'fp16', rules: [{ pattern: '/model.22/', precision: 'fp32' }] });
  });

  it('refuses precision names that are prototype keys', () => {
    for (const p of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(() => parsePolicy(`*:${p}`)).toThrow(expect.objectContaining({ code: 'ERR_PRECISION_POLICY' }));
      expect(() => parsePolicy(`{"default": "${p}"}`)).toThrow(expect.objectContaining({ code: 'ERR_PRECISION_POLICY' }));
    }
    expect(() => parsePolicy('{"default": {"toString": 1}}')).toThrow(expect.objectContaining({ code: 'ERR_PRECISION_POLICY' }));
  });

  it('lists the patterns that match no layer', () => {
    const policy = parsePolicy('*:fp16,/model.22/:fp32,/model.99/:fp32,*/dfl/*:fp32,*nothing*:fp16');
    expect(unmatchedPatterns(policy, ['/model.22/dfl/conv/Conv', '/model.0/conv/Conv'])).toEqual(['/model.99/', '*nothing*']);
  });

  it('matches globs like the regular expressions did, without backtracking', () => {
    const cases: [string, string, boolean][] = [
      ['*', '', true], ['?', '', false], ['a*b', 'ab', true], ['a*b', 'aXXb', true], ['a*b', 'aXXbX', false], ['*/dfl/*', '/model.22/dfl/conv/Conv', true],
      ['/model.?/*', '/model.0/conv', true], ['/model.?/*', '/model.10/conv', false], ['*a*a*a', 'aaa', true], ['*a*a*a', 'aa', false], ['a?c', 'abc', true],
    ];
    for (const [pattern, name, expected] of cases) expect(matches(pattern, name), `${pattern} ~ ${name}`).toBe(expected);
  });

  it('gives the pathological glob (20 × `*?` and a tail that does not match) an answer at once', () => {
    const policy = parsePolicy(`${'*?'.repeat(20)}#:fp16`);
    const name = '/model.22/cv3.2/cv3.2.2/Conv'.repeat(40);
    const t0 = performance.now();
    expect(precisionOf(policy, name)).toBe('fp32');
    // A behaviour bound, not a benchmark: the regular expression took minutes.
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('refuses policies over the limits with typed errors', () => {
    expect(() => parsePolicy(`{"layers": ${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}}`)).toThrow(expect.objectContaining({ code: 'ERR_PRECISION_POLICY', message: expect.stringMatching(/jsonDepth/) }));
    expect(() => parsePolicy(`${'a'.repeat(5000)}:fp16`)).toThrow(expect.objectContaining({ code: 'ERR_PRECISION_POLICY', message: expect.stringMatching(/patternChars/) }));
  });
});
