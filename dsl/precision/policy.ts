/**
 * Precision policies: a default precision plus rules mapping layer-name patterns to a precision,
 * read in order (later rules win). A pattern with glob characters (`*`, `?`) must match the whole
 * layer name; any other pattern matches as a substring (`'/model.22/' in name`).
 *
 * Accepted forms:
 *  - a bare precision: `fp16` is `*:fp16`
 *  - trtexec's `--layerPrecisions`: `*:fp16,/model.22/dfl/conv/Conv:fp32`
 *  - JSON: `{"default": "fp16", "layers": {"/model.22/": "fp32"}}` or
 *          `{"default": "fp16", "rules": [{"pattern": "/model.22/", "precision": "fp32"}]}`
 *
 * Policies come from files, so parsing is bounded (text size, JSON depth, rule count, pattern
 * length: common/limits.ts), precision names are looked up in a Map (`*:constructor` is refused),
 * and globs match in time linear in the name for a given pattern (common/wildcard.ts, no regular expression).
 */
import { ErrorCode, fail } from '../../common/errors.js';
import { parseJson } from '../../common/json-parse.js';
import { checkLimit, clip } from '../../common/limits.js';
import { hasWildcards, wildcardMatch } from '../../common/wildcard.js';

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

const ALIASES: ReadonlyMap<string, Precision> = new Map([
  ['fp32', 'fp32'], ['float32', 'fp32'], ['float', 'fp32'],
  ['fp16', 'fp16'], ['float16', 'fp16'], ['half', 'fp16'],
  ['int8', 'int8'],
]);

function precisionOrUndefined(text: string): Precision | undefined {
  return ALIASES.get(text.trim().toLowerCase());
}

export function parsePrecision(text: string, where: string): Precision {
  const p = precisionOrUndefined(text);
  if (!p) fail(ErrorCode.PolicySyntax, `${where}: unknown precision '${clip(text)}' (expected fp32, fp16 or int8)`);
  return p;
}

/** Whether the pattern matches the layer name: a glob the whole name, other text a substring. */
export function matches(pattern: string, layer: string): boolean {
  return hasWildcards(pattern) ? wildcardMatch(pattern, layer) : layer.includes(pattern);
}

/** The rule patterns that match none of `layerNames` (a typo in a policy, most likely). */
export function unmatchedPatterns(policy: PrecisionPolicy, layerNames: readonly string[]): string[] {
  const unmatched = policy.rules.map((r) => r.pattern).filter((pattern) => !layerNames.some((name) => matches(pattern, name)));
  return [...new Set(unmatched)];
}

function checkPattern(pattern: string, where: string): string {
  checkLimit('patternChars', pattern.length, ErrorCode.PolicySyntax, where, 'the pattern\'s length');
  return pattern;
}

/** The precision a layer gets under the policy. */
export function precisionOf(policy: PrecisionPolicy, layer: string): Precision {
  let p = policy.default;
  for (const rule of policy.rules) if (matches(rule.pattern, layer)) p = rule.precision;
  return p;
}

/**
 * trtexec `--layerPrecisions` syntax. A leading `*` rule becomes the default; an entry that is
 * only a precision (`fp16`) is `*:fp16`.
 */
export function parseLayerPrecisions(spec: string): PrecisionPolicy {
  let def: Precision = 'fp32';
  const rules: PrecisionRule[] = [];
  const entries = spec.split(',').map((s) => s.trim()).filter(Boolean);
  checkLimit('policyRules', entries.length, ErrorCode.PolicySyntax, 'precision policy', 'the number of entries');
  entries.forEach((entry, i) => {
    const bare = precisionOrUndefined(entry);
    const at = entry.lastIndexOf(':');
    if (!bare && at <= 0) fail(ErrorCode.PolicySyntax, `precision policy entry ${i + 1} '${clip(entry)}' must be <layer pattern>:<precision>`);
    const pattern = bare ? '*' : checkPattern(entry.slice(0, at).trim(), `precision policy entry ${i + 1}`);
    const precision = bare ?? parsePrecision(entry.slice(at + 1), `precision policy entry ${i + 1} '${clip(entry)}'`);
    if (pattern === '*' && rules.length === 0) def = precision;
    else rules.push({ pattern, precision });
  });
  return Object.freeze({ default: def, rules: Object.freeze(rules) });
}

/** A policy from a parsed JSON value (a policy file, or the one an engine file records). */
export function policyFromJson(value: unknown): PrecisionPolicy {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(ErrorCode.PolicySyntax, 'a JSON precision policy must be an object');
  const obj = value as Record<string, unknown>;
  const own = (key: string): unknown => (Object.hasOwn(obj, key) ? obj[key] : undefined);
  const known = new Set(['default', 'layers', 'rules']);
  const extra = Object.keys(obj).filter((k) => !known.has(k));
  if (extra.length) fail(ErrorCode.PolicySyntax, `unknown key(s) in precision policy: ${clip(extra.join(', '))} (expected default, layers, rules)`);
  const def = own('default') === undefined ? 'fp32' : parsePrecision(precisionText(own('default'), '"default"'), 'precision policy "default"');
  const rules: PrecisionRule[] = [];
  const layers = own('layers');
  if (layers !== undefined) {
    if (typeof layers !== 'object' || layers === null || Array.isArray(layers)) fail(ErrorCode.PolicySyntax, 'precision policy "layers" must map patterns to precisions');
    const entries = Object.entries(layers);
    checkLimit('policyRules', entries.length, ErrorCode.PolicySyntax, 'precision policy "layers"', 'the number of patterns');
    for (const [pattern, p] of entries) {
      const where = `precision policy layer '${clip(pattern)}'`;
      rules.push({ pattern: checkPattern(pattern, where), precision: parsePrecision(precisionText(p, where), where) });
    }
  }
  const list = own('rules');
  if (list !== undefined) {
    if (!Array.isArray(list)) fail(ErrorCode.PolicySyntax, 'precision policy "rules" must be an array');
    checkLimit('policyRules', list.length, ErrorCode.PolicySyntax, 'precision policy "rules"', 'the number of rules');
    list.forEach((r: unknown, i) => {
      const where = `precision policy rule ${i + 1}`;
      const rule = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
      const pattern = Object.hasOwn(rule, 'pattern') ? rule.pattern : undefined;
      if (typeof pattern !== 'string') fail(ErrorCode.PolicySyntax, `${where} needs a string "pattern"`);
      const precision = Object.hasOwn(rule, 'precision') ? rule.precision : undefined;
      rules.push({ pattern: checkPattern(pattern, where), precision: parsePrecision(precisionText(precision, where), where) });
    });
  }
  return Object.freeze({ default: def, rules: Object.freeze(rules) });
}

/** A precision in JSON must be a string (an object's own `toString` is never called). */
function precisionText(value: unknown, where: string): string {
  if (typeof value !== 'string') fail(ErrorCode.PolicySyntax, `${where}: a precision must be a string such as "fp16", found ${typeof value}`);
  return value;
}

/**
 * Parses either form: text starting with `{` is JSON, anything else trtexec syntax (or a bare
 * precision). Text over the policyBytes limit is refused before it is parsed.
 */
export function parsePolicy(text: string): PrecisionPolicy {
  checkLimit('policyBytes', text.length, ErrorCode.PolicySyntax, 'precision policy', 'its length in characters');
  const t = text.trim();
  if (!t.startsWith('{')) return parseLayerPrecisions(t);
  return policyFromJson(parseJson(t, { code: ErrorCode.PolicySyntax, where: 'precision policy' }));
}
