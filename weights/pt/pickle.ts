import { ErrorCode, fail } from '../../common/errors.js';
import { checkLimit, clip, limits } from '../../common/limits.js';
import { PyGlobal, PyObject, type UnpickleOptions } from './pickle-values.js';

/**
 * A restricted unpickler for the pickle protocols 2-5 that `torch.save` writes. It never executes
 * anything: every global the stream names is looked up through a caller-supplied resolver (an
 * allowlist); an unknown global is ERR_PICKLE_FORBIDDEN_GLOBAL, an unknown opcode or malformed
 * stream is ERR_PICKLE_FORMAT, both naming the file.
 *
 * Python values become plain JS values: None -> null, bool, int -> number (bigint beyond 2^53),
 * float -> number, str -> string, bytes -> Uint8Array, list -> array, tuple -> frozen array,
 * dict -> Map, set/frozenset -> Set. Allowed classes become inert `PyObject` records.
 *
 * Bounded (common/limits.ts): the stream's length, the values between two MARKs, the nesting of
 * MARKs, the memo's size, the bytes of one integer and of a global's name; each is checked before
 * the memory it guards is taken. The unpickler is a loop (no recursion), and values may form
 * cycles (a list holding itself), so whoever walks them must not recurse without a visited set.
 */

export { PyGlobal, PyObject, inertClass, isDict, isPyObject, type UnpickleOptions } from './pickle-values.js';

const HIGHEST_PROTOCOL = 5;

/** Decodes one pickle stream up to its STOP opcode. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): unknown {
  checkLimit('pickleBytes', bytes.byteLength, ErrorCode.PickleFormat, options.file, 'the pickle stream\'s length in bytes');
  return new Unpickler(bytes, options).run();
}

type Handler = (u: Unpickler) => void;

class Unpickler {
  private pos = 0;
  private stack: unknown[] = [];
  private readonly marks: unknown[][] = [];
  private readonly memo = new Map<number, unknown>();
  private readonly view: DataView;
  private opStart = 0;
  private readonly maxStack = limits().pickleStackItems;
  done = false;

  constructor(private readonly bytes: Uint8Array, readonly options: UnpickleOptions) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  run(): unknown {
    while (!this.done) {
      this.opStart = this.pos;
      const op = this.u8();
      const handler = OPCODES[op];
      if (!handler) this.fail(`unknown or unsupported opcode 0x${op.toString(16).padStart(2, '0')}`);
      handler(this);
    }
    return this.pop();
  }

  fail(what: string): never {
    fail(ErrorCode.PickleFormat, `${this.options.file}: malformed pickle at offset ${this.opStart}: ${what}`);
  }

  /** Fails when `value` exceeds the limit `name` (common/limits.ts). */
  limit(name: Parameters<typeof checkLimit>[0], value: number, what: string): void {
    checkLimit(name, value, ErrorCode.PickleFormat, `${this.options.file}: pickle at offset ${this.opStart}`, what);
  }

  // --- reading the stream (bounds-checked) ---
  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.bytes.byteLength) this.fail(`needs ${n} more bytes but the stream is truncated`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  u8(): number {
    return this.take(1)[0]!;
  }
  u16(): number {
    return this.view.getUint16(this.take(2).byteOffset - this.bytes.byteOffset, true);
  }
  i32(): number {
    return this.view.getInt32(this.take(4).byteOffset - this.bytes.byteOffset, true);
  }
  u32(): number {
    return this.view.getUint32(this.take(4).byteOffset - this.bytes.byteOffset, true);
  }
  u64(): number {
    const value = this.view.getBigUint64(this.take(8).byteOffset - this.bytes.byteOffset, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`length ${value} is too large`);
    return Number(value);
  }
  f64be(): number {
    return this.view.getFloat64(this.take(8).byteOffset - this.bytes.byteOffset, false);
  }
  utf8(n: number): string {
    const bytes = this.take(n);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return this.fail('string is not valid UTF-8');
    }
  }
  latin1(n: number): string {
    return Buffer.from(this.take(n)).toString('latin1');
  }
  /** A GLOBAL's text line (module or name), at most pickleGlobalChars long. */
  line(): string {
    const max = limits().pickleGlobalChars;
    const end = this.bytes.subarray(this.pos, this.pos + max + 1).indexOf(0x0a);
    if (end < 0) {
      if (this.bytes.byteLength - this.pos > max) this.limit('pickleGlobalChars', this.bytes.byteLength - this.pos, 'a GLOBAL line\'s length');
      this.fail('unterminated text line');
    }
    return this.latin1(end + 1).slice(0, -1);
  }
  /** A little-endian two's complement integer of n bytes (LONG1 / LONG4), read in linear time. */
  long(n: number): number | bigint {
    this.limit('pickleIntBytes', n, 'a LONG integer\'s length in bytes');
    const b = this.take(n);
    if (n === 0) return 0;
    let hex = '';
    for (let i = n - 1; i >= 0; i--) hex += b[i]!.toString(16).padStart(2, '0');
    let v = BigInt(`0x${hex}`);
    if (b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  // --- the value stack ---
  push(v: unknown): void {
    if (this.stack.length >= this.maxStack) this.limit('pickleStackItems', this.stack.length + 1, 'the number of values on the stack');
    this.stack.push(v);
  }
  pop(): unknown {
    if (this.stack.length === 0) this.fail('stack underflow');
    return this.stack.pop();
  }
  top(): unknown {
    if (this.stack.length === 0) this.fail('stack underflow');
    return this.stack[this.stack.length - 1];
  }
  mark(): void {
    if (this.marks.length >= limits().pickleMarkDepth) this.limit('pickleMarkDepth', this.marks.length + 1, 'the nesting of MARKs');
    this.marks.push(this.stack);
    this.stack = [];
  }
  popMark(): unknown[] {
    const items = this.stack;
    const outer = this.marks.pop();
    if (!outer) this.fail('no MARK on the stack');
    this.stack = outer;
    return items;
  }
  put(index: number): void {
    if (!this.memo.has(index)) this.limit('pickleMemoEntries', this.memo.size + 1, 'the number of memo entries');
    this.memo.set(index, this.top());
  }
  get(index: number): void {
    if (!this.memo.has(index)) this.fail(`memo entry ${index} is not defined`);
    this.push(this.memo.get(index));
  }
  memoize(): void {
    this.put(this.memo.size);
  }

  // --- objects ---
  global(module: string, name: string): void {
    this.limit('pickleGlobalChars', Math.max(module.length, name.length), 'a global\'s module or name length');
    const found = this.options.resolveGlobal(module, name);
    if (!found) {
      fail(ErrorCode.PickleForbidden, `${this.options.file}: pickle refers to global '${clip(`${module}.${name}`)}', which is not on the allowlist; nothing was executed`);
    }
    this.push(found);
  }
  call(callee: unknown, args: unknown): void {
    if (!(callee instanceof PyGlobal)) this.fail('REDUCE/NEWOBJ applied to something that is not an allowed global');
    if (!Array.isArray(args)) this.fail(`arguments of ${callee.qualname} are not a tuple`);
    this.push(callee.call(args));
  }
  build(): void {
    const state = this.pop();
    const target = this.top();
    if (target instanceof PyObject) target.__state__ = state;
    // Attributes of a dict subclass (e.g. a state_dict's `_metadata`) are not its contents: dropped.
    else if (state !== null && !(target instanceof Map)) this.fail('BUILD on a value that is not an object of an allowed class');
  }
  persistentId(): void {
    const load = this.options.persistentLoad;
    if (!load) this.fail('persistent ids are not supported in this stream');
    this.push(load(this.pop()));
  }
  list(): unknown[] {
    const target = this.top();
    if (!Array.isArray(target) || Object.isFrozen(target)) this.fail('APPEND to something that is not a list');
    return target;
  }
  dict(): Map<unknown, unknown> {
    const target = this.top();
    if (!(target instanceof Map)) this.fail('SETITEM on something that is not a dict');
    return target;
  }
  setItems(items: readonly unknown[]): void {
    if (items.length % 2 !== 0) this.fail('SETITEMS with an odd number of items');
    const dict = this.dict();
    for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
  }
  set(): Set<unknown> {
    const target = this.top();
    if (!(target instanceof Set)) this.fail('ADDITEMS on something that is not a set');
    return target;
  }
}

const tuple = (items: unknown[]): readonly unknown[] => Object.freeze(items);
const ch = (c: string): number => c.charCodeAt(0);

/** The accepted opcodes, by byte; anything else is refused. */
const OPCODES: Partial<Record<number, Handler>> = {
  0x80: (u) => { // PROTO
    const p = u.u8();
    if (p > HIGHEST_PROTOCOL) u.fail(`unsupported pickle protocol ${p}`);
  },
  0x95: (u) => void u.u64(), // FRAME: framing is only a read-ahead hint
  [ch('.')]: (u) => (u.done = true), // STOP
  [ch('N')]: (u) => u.push(null),
  0x88: (u) => u.push(true), // NEWTRUE
  0x89: (u) => u.push(false), // NEWFALSE
  [ch('J')]: (u) => u.push(u.i32()), // BININT
  [ch('K')]: (u) => u.push(u.u8()), // BININT1
  [ch('M')]: (u) => u.push(u.u16()), // BININT2
  0x8a: (u) => u.push(u.long(u.u8())), // LONG1
  0x8b: (u) => { // LONG4
    const n = u.i32();
    if (n < 0) u.fail('negative LONG4 length');
    u.push(u.long(n));
  },
  [ch('G')]: (u) => u.push(u.f64be()), // BINFLOAT
  [ch('X')]: (u) => u.push(u.utf8(u.u32())), // BINUNICODE
  0x8c: (u) => u.push(u.utf8(u.u8())), // SHORT_BINUNICODE
  0x8d: (u) => u.push(u.utf8(u.u64())), // BINUNICODE8
  [ch('B')]: (u) => u.push(u.take(u.u32())), // BINBYTES
  [ch('C')]: (u) => u.push(u.take(u.u8())), // SHORT_BINBYTES
  0x8e: (u) => u.push(u.take(u.u64())), // BINBYTES8
  0x96: (u) => u.push(u.take(u.u64())), // BYTEARRAY8
  [ch('U')]: (u) => u.push(u.latin1(u.u8())), // SHORT_BINSTRING (Python 2 str)
  [ch('T')]: (u) => { // BINSTRING
    const n = u.i32();
    if (n < 0) u.fail('negative BINSTRING length');
    u.push(u.latin1(n));
  },
  [ch('}')]: (u) => u.push(new Map()), // EMPTY_DICT
  [ch(']')]: (u) => u.push([]), // EMPTY_LIST
  [ch(')')]: (u) => u.push(tuple([])), // EMPTY_TUPLE
  0x8f: (u) => u.push(new Set()), // EMPTY_SET
  [ch('(')]: (u) => u.mark(), // MARK
  [ch('t')]: (u) => u.push(tuple(u.popMark())), // TUPLE
  0x85: (u) => u.push(tuple([u.pop()])), // TUPLE1
  0x86: (u) => { // TUPLE2
    const b = u.pop();
    u.push(tuple([u.pop(), b]));
  },
  0x87: (u) => { // TUPLE3
    const c = u.pop();
    const b = u.pop();
    u.push(tuple([u.pop(), b, c]));
  },
  [ch('l')]: (u) => u.push(u.popMark()), // LIST
  [ch('d')]: (u) => { // DICT
    const items = u.popMark();
    u.push(new Map());
    u.setItems(items);
  },
  0x91: (u) => u.push(new Set(u.popMark())), // FROZENSET
  [ch('a')]: (u) => { // APPEND
    const v = u.pop();
    u.list().push(v);
  },
  [ch('e')]: (u) => { // APPENDS
    const items = u.popMark();
    const list = u.list();
    for (const item of items) list.push(item);
  },
  [ch('s')]: (u) => { // SETITEM
    const value = u.pop();
    const key = u.pop();
    u.dict().set(key, value);
  },
  [ch('u')]: (u) => u.setItems(u.popMark()), // SETITEMS
  0x90: (u) => { // ADDITEMS
    const items = u.popMark();
    for (const item of items) u.set().add(item);
  },
  [ch('0')]: (u) => void u.pop(), // POP
  [ch('1')]: (u) => void u.popMark(), // POP_MARK
  [ch('2')]: (u) => u.push(u.top()), // DUP
  [ch('q')]: (u) => u.put(u.u8()), // BINPUT
  [ch('r')]: (u) => u.put(u.u32()), // LONG_BINPUT
  0x94: (u) => u.memoize(), // MEMOIZE
  [ch('h')]: (u) => u.get(u.u8()), // BINGET
  [ch('j')]: (u) => u.get(u.u32()), // LONG_BINGET
  [ch('c')]: (u) => { // GLOBAL
    const module = u.line();
    u.global(module, u.line());
  },
  0x93: (u) => { // STACK_GLOBAL
    const name = u.pop();
    const module = u.pop();
    if (typeof module === 'string' && typeof name === 'string') u.global(module, name);
    else u.fail('STACK_GLOBAL needs two strings');
  },
  [ch('R')]: (u) => { // REDUCE
    const args = u.pop();
    u.call(u.pop(), args);
  },
  0x81: (u) => { // NEWOBJ
    const args = u.pop();
    u.call(u.pop(), args);
  },
  0x92: (u) => { // NEWOBJ_EX: keyword arguments are not used by the classes we allow
    const kwargs = u.pop();
    const args = u.pop();
    if (!(kwargs instanceof Map) || kwargs.size > 0) u.fail('NEWOBJ_EX with keyword arguments is not supported');
    u.call(u.pop(), args);
  },
  [ch('b')]: (u) => u.build(), // BUILD
  [ch('Q')]: (u) => u.persistentId(), // BINPERSID
};
