import { describe, expect, it } from 'vitest';
import { NetdefError } from '../../common/errors.js';
import { matches, parsePolicy, precisionOf } from '../../dsl/precision/policy.js';

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
    ['{"default": ', 'not valid JSON'],
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
