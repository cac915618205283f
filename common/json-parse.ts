/**
 * JSON from files, parsed without recursion: an explicit stack whose depth is limited (the
 * `jsonDepth` limit), so `[[[[...]]]]` a million deep is a typed error, never a stack overflow.
 * Values are what JSON.parse gives (a `__proto__` key is an own property, as JSON.parse makes it).
 * Keys listed in `skipKeys` have their values checked for syntax and dropped without being built:
 * COCO's `segmentation` polygons, most of an instances file, never reach the heap.
 *
 * Errors are NetdefError(code) with `where` and the byte offset. Tested in test/weights/json.test.ts
 * and fuzzed (test/fuzz).
 */
import { type ErrorCodeValue, fail } from './errors.js';
import { clip, limits } from './limits.js';

export interface JsonOptions {
  /** The error code of a syntax or depth error (the parser of that file's format). */
  readonly code: ErrorCodeValue;
  /** Names the file and the part of it: "model.safetensors: header". */
  readonly where: string;
  /** Deepest nesting accepted; default limits().jsonDepth. */
  readonly maxDepth?: number;
  /** Object keys whose values are validated and dropped (the key is then absent). */
  readonly skipKeys?: ReadonlySet<string>;
}

const enum Ch {
  Tab = 0x09, Newline = 0x0a, Return = 0x0d, Space = 0x20, Quote = 0x22, Plus = 0x2b, Comma = 0x2c, Minus = 0x2d, Dot = 0x2e,
  Zero = 0x30, Nine = 0x39, Colon = 0x3a, UpperE = 0x45, OpenBracket = 0x5b, Backslash = 0x5c, CloseBracket = 0x5d,
  LowerE = 0x65, OpenBrace = 0x7b, CloseBrace = 0x7d,
}

interface Frame {
  /** The container being filled, or null while skipping. */
  readonly value: unknown[] | Record<string, unknown> | null;
  readonly isArray: boolean;
  key: string;
  /** Whether the value of the current key is dropped. */
  skipValue: boolean;
}

const ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);
const HEX = /^[0-9a-fA-F]{4}$/;
const LITERALS: readonly (readonly [string, unknown])[] = [['true', true], ['false', false], ['null', null]];
const SHORT_ASCII = 32;
const PROTO_KEY = '__proto__';
const MAX_EXACT_DIGITS = 15;
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** Parses one JSON document (UTF-8 bytes or a string). */
export function parseJson(input: string | Uint8Array, options: JsonOptions): unknown {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  return new JsonParser(bytes, options).document();
}

class JsonParser {
  private pos = 0;
  private mantissa = 0;
  private significant = 0;
  private fraction = 0;
  private readonly maxDepth: number;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(private readonly b: Uint8Array, private readonly options: JsonOptions) {
    this.maxDepth = options.maxDepth ?? limits().jsonDepth;
  }

  private fail(why: string): never {
    fail(this.options.code, `${this.options.where}: not JSON (at byte ${this.pos}: ${why})`);
  }

  document(): unknown {
    const stack: Frame[] = [];
    let result: unknown;
    let done = false;
    // Each turn reads one value; a container opens a frame and the next turn reads its first item.
    while (!done) {
      this.ws();
      const top = stack[stack.length - 1];
      const skipping = top !== undefined && (top.value === null || top.skipValue);
      const c = this.b[this.pos];
      let value: unknown;
      if (c === Ch.OpenBrace || c === Ch.OpenBracket) {
        if (stack.length >= this.maxDepth) this.fail(`nested deeper than the limit jsonDepth = ${this.maxDepth}`);
        this.pos++;
        const isArray = c === Ch.OpenBracket;
        const frame: Frame = { value: skipping ? null : isArray ? [] : {}, isArray, key: '', skipValue: false };
        this.ws();
        if (this.b[this.pos] !== (isArray ? Ch.CloseBracket : Ch.CloseBrace)) {
          stack.push(frame);
          if (!isArray) this.key(frame);
          continue;
        }
        this.pos++;
        value = frame.value;
      } else {
        value = this.scalar(skipping);
      }
      // Store the value, then close every container that ends here.
      for (;;) {
        const frame = stack[stack.length - 1];
        if (!frame) {
          result = value;
          done = true;
          break;
        }
        this.store(frame, value);
        this.ws();
        const next = this.b[this.pos++];
        if (next === Ch.Comma) {
          if (!frame.isArray) this.key(frame);
          break;
        }
        if (next !== (frame.isArray ? Ch.CloseBracket : Ch.CloseBrace)) {
          this.pos--;
          this.fail(`expected ',' or '${frame.isArray ? ']' : '}'}'`);
        }
        stack.pop();
        value = frame.value;
      }
    }
    this.ws();
    if (this.pos !== this.b.byteLength) this.fail('unexpected data after the JSON value');
    return result;
  }

  private store(frame: Frame, value: unknown): void {
    if (frame.value === null || frame.skipValue) return;
    if (frame.isArray) (frame.value as unknown[]).push(value);
    else if (frame.key !== PROTO_KEY) (frame.value as Record<string, unknown>)[frame.key] = value;
    // As JSON.parse does, `__proto__` becomes an own property, never the object's prototype.
    else Object.defineProperty(frame.value, PROTO_KEY, { value, writable: true, enumerable: true, configurable: true });
  }

  /** `"key" :` inside an object. */
  private key(frame: Frame): void {
    this.ws();
    if (this.b[this.pos] !== Ch.Quote) this.fail('expected a string key');
    frame.key = this.string(frame.value === null) as string;
    frame.skipValue = this.options.skipKeys?.has(frame.key) ?? false;
    this.ws();
    if (this.b[this.pos++] !== Ch.Colon) {
      this.pos--;
      this.fail("expected ':' after a key");
    }
  }

  private ws(): void {
    const b = this.b;
    let p = this.pos;
    while (p < b.byteLength) {
      const c = b[p]!;
      if (c !== Ch.Space && c !== Ch.Newline && c !== Ch.Return && c !== Ch.Tab) break;
      p++;
    }
    this.pos = p;
  }

  private scalar(skipping: boolean): unknown {
    const c = this.b[this.pos];
    if (c === undefined) this.fail('unexpected end of input');
    if (c === Ch.Quote) return this.string(skipping);
    if (c === Ch.Minus || (c >= Ch.Zero && c <= Ch.Nine)) return this.number(skipping);
    for (const [word, value] of LITERALS) {
      if (this.matches(word)) {
        this.pos += word.length;
        return value;
      }
    }
    return this.fail(`unexpected character ${JSON.stringify(String.fromCharCode(c))}`);
  }

  private matches(word: string): boolean {
    for (let i = 0; i < word.length; i++) if (this.b[this.pos + i] !== word.charCodeAt(i)) return false;
    return true;
  }

  private string(skipping: boolean): string {
    const b = this.b;
    const start = this.pos++;
    let escaped = false;
    let ascii = true;
    for (;;) {
      const c = b[this.pos];
      if (c === undefined) this.fail('unterminated string');
      if (c === Ch.Quote) break;
      if (c < Ch.Space) this.fail('control character in a string');
      if (c >= 0x80) ascii = false;
      if (c === Ch.Backslash) {
        escaped = true;
        const e = b[this.pos + 1];
        if (e === 0x75) {
          if (!HEX.test(latin1(b, this.pos + 2, this.pos + 6))) this.fail('bad \\u escape');
          this.pos += 6;
          continue;
        }
        if (e === undefined || !ESCAPES.has(e)) this.fail('bad escape in a string');
        this.pos += 2;
        continue;
      }
      this.pos++;
    }
    const end = this.pos++;
    if (skipping && ascii) return '';
    let text: string;
    if (ascii && !escaped && end - start - 1 <= SHORT_ASCII) {
      return latin1(b, start + 1, end);
    }
    try {
      text = this.decoder.decode(b.subarray(start + 1, end));
    } catch {
      return this.fail('string is not valid UTF-8');
    }
    if (skipping) return '';
    // One string token holds no nesting, so the built-in parser decodes its escapes safely.
    return escaped ? (JSON.parse(`"${text}"`) as string) : text;
  }

  private number(skipping: boolean): number {
    const b = this.b;
    const start = this.pos;
    this.mantissa = 0;
    this.significant = 0;
    this.fraction = 0;
    const negative = b[this.pos] === Ch.Minus;
    if (negative) this.pos++;
    if (b[this.pos] === Ch.Zero) this.pos++;
    else if (this.digits(false) === 0) this.fail('bad number');
    if (b[this.pos] === Ch.Dot) {
      this.pos++;
      if (this.digits(true) === 0) this.fail('bad number (no digits after the point)');
    }
    let exact = this.significant <= MAX_EXACT_DIGITS;
    if (b[this.pos] === Ch.LowerE || b[this.pos] === Ch.UpperE) {
      exact = false;
      this.pos++;
      if (b[this.pos] === Ch.Plus || b[this.pos] === Ch.Minus) this.pos++;
      if (this.digits(false) === 0) this.fail('bad number (no exponent digits)');
    }
    if (skipping) return 0;
    // Up to 15 significant digits and no exponent, mantissa / 10^k is one correctly rounded
    // division of two exact doubles: the value Number() gives (Clinger's fast path).
    if (exact) return (negative ? -this.mantissa : this.mantissa) / POWERS_OF_TEN[this.fraction]!;
    return Number(latin1(b, start, this.pos));
  }

  /** Reads a run of digits into the mantissa; returns how many there were. */
  private digits(isFraction: boolean): number {
    const b = this.b;
    let p = this.pos;
    for (let c = b[p]!; c >= Ch.Zero && c <= Ch.Nine; c = b[++p]!) {
      this.mantissa = this.mantissa * 10 + (c - Ch.Zero);
      if (this.mantissa > 0) this.significant++;
    }
    const count = p - this.pos;
    if (isFraction) this.fraction += count;
    this.pos = p;
    return count;
  }
}

function latin1(b: Uint8Array, from: number, to: number): string {
  if (to - from <= SHORT_ASCII) return String.fromCharCode.apply(null, Array.from(b.subarray(from, to)));
  return Buffer.from(b.buffer, b.byteOffset + from, Math.max(0, Math.min(to, b.byteLength) - from)).toString('latin1');
}

/** A short, safe rendering of a JSON value for messages. */
export function jsonForMessage(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = typeof value;
  }
  return clip(text);
}
