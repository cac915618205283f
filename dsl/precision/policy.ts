/**
 * Precision policies: a default precision plus rules mapping layer-name patterns to a precision,
 * read in order (later rules win). A pattern with glob characters (`*`, `?`) must match the whole
 * layer name; any other pattern matches as a substring (`'/model.22/' in name`).
 *
 * Accepted forms:
 *  - trtexec's `--layerPrecisions`: `*:fp16,/model.22/dfl/conv/Conv:fp32`
 *  - JSON: `{"default": "fp16", "layers": {"/model.22/": "fp32"}}` or
 *          `{"default": "fp16", "rules": [{"pattern": "/model.22/", "precision": "fp32"}]}`
 */
import { ErrorCode, fail } from '../../common/errors.js';

export const PRECISIONS = ['fp32', 'fp16', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

export interface PrecisionRule {
  readonly pattern: string;
  readonly precision: Precision;
}

export interface PrecisionPolicy {
  readonly default: Precision;
  readonly rules: readonly PrecisionRule[];
}

export const FP32_POLICY: PrecisionPolicy = Object.freeze({ default: 'fp32', rules: Object.freeze([]) });

const ALIASES: Readonly<Record<string, Precision>> = {
  fp32: 'fp32', float32: 'fp32', float: 'fp32',
  fp16: 'fp16', float16: 'fp16', half: 'fp16',
  int8: 'int8',
};

export function parsePrecision(text: string, where: string): Precision {
  const p = ALIASES[text.trim().toLowerCase()];
  if (!p) fail(ErrorCode.PolicySyntax, `${where}: unknown precision '${text}' (expected fp32, fp16 or int8)`);
  return p;
}

function isGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

export function matches(pattern: string, layer: string): boolean {
  return isGlob(pattern) ? globToRegExp(pattern).test(layer) : layer.includes(pattern);
}

/** The precision a layer gets under the policy. */
export function precisionOf(policy: PrecisionPolicy, layer: string): Precision {
  let p = policy.default;
  for (const rule of policy.rules) if (matches(rule.pattern, layer)) p = rule.precision;
  return p;
}

/** trtexec `--layerPrecisions` syntax. A leading `*` rule becomes the default. */
export function parseLayerPrecisions(spec: string): PrecisionPolicy {
  let def: Precision = 'fp32';
  const rules: PrecisionRule[] = [];
  spec.split(',').map((s) => s.trim()).filter(Boolean).forEach((entry, i) => {
    const at = entry.lastIndexOf(':');
    if (at <= 0) fail(ErrorCode.PolicySyntax, `precision policy entry ${i + 1} '${entry}' must be <layer pattern>:<precision>`);
    const pattern = entry.slice(0, at).trim();
    const precision = parsePrecision(entry.slice(at + 1), `precision policy entry ${i + 1} '${entry}'`);
    if (pattern === '*' && rules.length === 0) def = precision;
    else rules.push({ pattern, precision });
  });
  return Object.freeze({ default: def, rules: Object.freeze(rules) });
}

function fromJson(value: unknown): PrecisionPolicy {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(ErrorCode.PolicySyntax, 'a JSON precision policy must be an object');
  const obj = value as Record<string, unknown>;
  const known = new Set(['default', 'layers', 'rules']);
  const extra = Object.keys(obj).filter((k) => !known.has(k));
  if (extra.length) fail(ErrorCode.PolicySyntax, `unknown key(s) in precision policy: ${extra.join(', ')} (expected default, layers, rules)`);
  const def = obj.default === undefined ? 'fp32' : parsePrecision(String(obj.default), 'precision policy "default"');
  const rules: PrecisionRule[] = [];
  if (obj.layers !== undefined) {
    if (typeof obj.layers !== 'object' || obj.layers === null) fail(ErrorCode.PolicySyntax, 'precision policy "layers" must map patterns to precisions');
    for (const [pattern, p] of Object.entries(obj.layers)) rules.push({ pattern, precision: parsePrecision(String(p), `precision policy layer '${pattern}'`) });
  }
  if (obj.rules !== undefined) {
    if (!Array.isArray(obj.rules)) fail(ErrorCode.PolicySyntax, 'precision policy "rules" must be an array');
    obj.rules.forEach((r: unknown, i) => {
      const rule = r as { pattern?: unknown; precision?: unknown };
      if (typeof rule?.pattern !== 'string') fail(ErrorCode.PolicySyntax, `precision policy rule ${i + 1} needs a string "pattern"`);
      rules.push({ pattern: rule.pattern, precision: parsePrecision(String(rule.precision), `precision policy rule ${i + 1}`) });
    });
  }
  return Object.freeze({ default: def, rules: Object.freeze(rules) });
}

/** Parses either form: text starting with `{` is JSON, anything else trtexec syntax. */
export function parsePolicy(text: string): PrecisionPolicy {
  const t = text.trim();
  if (!t.startsWith('{')) return parseLayerPrecisions(t);
  let value: unknown;
  try {
    value = JSON.parse(t);
  } catch (e) {
    fail(ErrorCode.PolicySyntax, `precision policy is not valid JSON: ${(e as Error).message}`);
  }
  return fromJson(value);
}
