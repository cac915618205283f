/**
 * Mutation helpers shared by the fuzz targets: a seeded generator with the choices mutators make,
 * boundary values for length and count fields, byte-level mutations, and mutations of JSON trees
 * (replace a value, drop a key, nest deeply) that keep the rest of a real file intact.
 */

export class Rng {
  constructor(private readonly next: () => number) {}

  float(): number {
    return this.next();
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** One of the weighted choices ([weight, value] pairs). */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    let x = this.float() * choices.reduce((s, [w]) => s + w, 0);
    for (const [w, v] of choices) {
      x -= w;
      if (x < 0) return v;
    }
    return choices[choices.length - 1]![1];
  }
}

/** Values that break length, count and offset fields: zero, off by one, sign and width edges. */
export function boundaryValues(current: number): number[] {
  return [0, 1, current - 1, current + 1, current * 2, 0x7f, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 2 ** 32, 2 ** 53 - 1, 2 ** 31, 2 ** 28, 2 ** 33];
}

/** A few random bytes replaced, set or XOR-ed. */
export function flipBytes(rng: Rng, bytes: Uint8Array, from = 0, to = bytes.byteLength): Uint8Array {
  const out = Uint8Array.from(bytes);
  const count = 1 + rng.int(8);
  for (let i = 0; i < count && to > from; i++) {
    const at = from + rng.int(to - from);
    out[at] = rng.pick([0, 0xff, 0x7f, 0x80, rng.int(256), out[at]! ^ (1 << rng.int(8))]);
  }
  return out;
}

/** Bytes with [at, at + remove) replaced by `insert`. */
export function splice(bytes: Uint8Array, at: number, remove: number, insert: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(bytes.byteLength - remove + insert.byteLength);
  out.set(bytes.subarray(0, at), 0);
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.byteLength);
  return out;
}

/** JSON text nested `depth` deep: `[[[...]]]` or `{"a":{"a":...}}`. */
export function deepJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Hostile JSON values: wrong types, edge numbers, prototype keys, long strings. */
export function hostileJsonValues(rng: Rng): unknown[] {
  return [
    null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53, 2 ** 32, 4294967296, 100_000_000, '', 'x', 'x'.repeat(1 + rng.int(100_000)),
    [], {}, [null], { __proto__: null, toString: 1 }, JSON.parse('{"__proto__": {"polluted": 1}}'), { constructor: 'x' },
    'constructor', '__proto__', 'toString', 'hasOwnProperty', [2 ** 31, 2 ** 31], [-1], [1.5], Array.from({ length: 1000 }, () => 1),
  ];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every [container, key] of a JSON tree (iteratively), to pick a place to mutate. */
function places(root: Json, limit: number): [Json[] | { [key: string]: Json }, string | number][] {
  const out: [Json[] | { [key: string]: Json }, string | number][] = [];
  const stack: Json[] = [root];
  while (stack.length > 0 && out.length < limit) {
    const v = stack.pop()!;
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        out.push([v, i]);
        stack.push(item);
      });
    } else if (v !== null && typeof v === 'object') {
      for (const k of Object.keys(v)) {
        out.push([v, k]);
        stack.push(v[k]!);
      }
    }
  }
  return out;
}

/** A JSON tree with one place changed: a hostile value, a deleted key, or a copy of a sibling. */
export function mutateJsonTree(rng: Rng, root: unknown, maxPlaces = 100_000): { value: unknown; what: string } {
  const copy = structuredClone(root) as Json;
  const all = places(copy, maxPlaces);
  if (all.length === 0) return { value: rng.pick(hostileJsonValues(rng)), what: 'root replaced' };
  const [container, key] = rng.pick(all);
  const op = rng.weighted([[6, 'replace'], [2, 'delete'], [1, 'proto-key']] as const);
  if (op === 'delete') {
    if (Array.isArray(container)) container.splice(key as number, 1);
    else delete container[key as string];
    return { value: copy, what: `deleted ${String(key)}` };
  }
  if (op === 'proto-key' && !Array.isArray(container)) {
    const name = rng.pick(['__proto__', 'constructor', 'toString', 'valueOf']);
    Object.defineProperty(container, name, { value: container[key as string], enumerable: true, writable: true, configurable: true });
    return { value: copy, what: `added key ${name}` };
  }
  const value = rng.pick(hostileJsonValues(rng)) as Json;
  (container as Record<string | number, Json>)[key] = value;
  return { value: copy, what: `${String(key)} = ${JSON.stringify(value)?.slice(0, 60)}` };
}

/** JSON text with a deeply nested value spliced in at a value position, or cut short. */
export function mutateJsonText(rng: Rng, text: string): { text: string; what: string } {
  const op = rng.weighted([[3, 'nest'], [3, 'truncate'], [2, 'flip']] as const);
  if (op === 'truncate') {
    const at = rng.int(text.length);
    return { text: text.slice(0, at), what: `cut at ${at}` };
  }
  if (op === 'flip') {
    const at = rng.int(text.length);
    const c = rng.pick(['{', '}', '[', ']', '"', ',', ':', '\\', '\u0000', '9', '-', 'e']);
    return { text: text.slice(0, at) + c + text.slice(at + 1), what: `char ${at} = ${JSON.stringify(c)}` };
  }
  // After the `{` of a non-empty object: `{"nest": <deep>, ...` keeps the text valid JSON.
  const opens = [...text.matchAll(/\{"/g)].map((m) => m.index! + 1);
  const depth = rng.pick([60, 100, 1000, 100_000, 1_000_000]);
  const deep = deepJson(depth, rng.chance(0.5) ? 'array' : 'object');
  if (opens.length === 0) return { text: deep, what: `nested ${depth} deep` };
  const at = rng.pick(opens);
  return { text: `${text.slice(0, at)}"nest":${deep},${text.slice(at)}`, what: `nested ${depth} deep at ${at}` };
}
