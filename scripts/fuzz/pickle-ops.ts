/**
 * Structure-aware pickle mutations for the fuzzer: a disassembler that cuts a real stream into
 * opcodes (with the offset and width of each length or integer argument), and mutations that act
 * on opcodes: cut at an opcode boundary, drop / repeat / move one, set an argument to a boundary
 * value, splice in a forbidden global, deep nesting, a huge LONG4 or a list that holds itself.
 */
import { type Rng, boundaryValues, flipBytes, splice } from './mutate.js';

/** How an opcode's argument is laid out: a fixed-width integer, a length-prefixed payload, or text lines. */
type Arg = { kind: 'none' } | { kind: 'int'; bytes: number } | { kind: 'sized'; bytes: number } | { kind: 'lines'; count: number };

const ARGS: Record<number, Arg> = {};
const set = (ops: string | number[], arg: Arg): void => {
  for (const op of typeof ops === 'string' ? [...ops].map((c) => c.charCodeAt(0)) : ops) ARGS[op] = arg;
};
set('N.}])(tl0dae1s2uRbQ', { kind: 'none' });
set([0x88, 0x89, 0x85, 0x86, 0x87, 0x8f, 0x90, 0x91, 0x93, 0x81, 0x92, 0x94], { kind: 'none' });
set([0x80], { kind: 'int', bytes: 1 });
set('Kqh', { kind: 'int', bytes: 1 });
set('M', { kind: 'int', bytes: 2 });
set('Jrj', { kind: 'int', bytes: 4 });
set([0x95], { kind: 'int', bytes: 8 });
set('G', { kind: 'int', bytes: 8 });
set([0x8a], { kind: 'sized', bytes: 1 });
set([0x8b], { kind: 'sized', bytes: 4 });
set('XBT', { kind: 'sized', bytes: 4 });
set('CU', { kind: 'sized', bytes: 1 });
set([0x8c], { kind: 'sized', bytes: 1 });
set([0x8d, 0x8e, 0x96], { kind: 'sized', bytes: 8 });
set('c', { kind: 'lines', count: 2 });

export interface Op {
  readonly op: number;
  readonly start: number;
  readonly end: number;
  readonly arg: Arg;
}

function readUint(b: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + (b[at + i] ?? 0);
  return v;
}

/** The opcodes of a well-formed stream (the seed), up to STOP. */
export function disassemble(b: Uint8Array): Op[] {
  const ops: Op[] = [];
  let pos = 0;
  while (pos < b.byteLength) {
    const op = b[pos]!;
    const arg = ARGS[op];
    if (!arg) throw new Error(`seed pickle: unknown opcode 0x${op.toString(16)} at ${pos}`);
    let end = pos + 1;
    if (arg.kind === 'int') end += arg.bytes;
    else if (arg.kind === 'sized') end += arg.bytes + readUint(b, pos + 1, arg.bytes);
    else if (arg.kind === 'lines') for (let i = 0; i < arg.count; i++) end = b.indexOf(0x0a, end) + 1;
    ops.push({ op, start: pos, end, arg });
    pos = end;
    if (op === 0x2e) break;
  }
  return ops;
}

function le(value: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let v = BigInt.asUintN(bytes * 8, BigInt(Math.trunc(value)));
  for (let i = 0; i < bytes; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

const latin1 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const FORBIDDEN = [
  ['os', 'system'], ['posix', 'system'], ['builtins', 'eval'], ['builtins', 'exec'], ['__builtin__', 'getattr'], ['subprocess', 'Popen'],
  ['torch', 'load'], ['torch._utils', '_rebuild_tensor'], ['numpy.core.multiarray', '_reconstruct'], ['torch.nn.modules', '../x'],
  ['ultralytics.nn', 'x\ny'], ['a'.repeat(100_000), 'b'], ['torch.nn', 'Module\u0000'],
] as const;

/** Hostile opcode sequences to splice in. */
function hostileSnippet(rng: Rng): { bytes: Uint8Array; what: string } {
  const kind = rng.pick(['forbidden', 'nest-mark', 'nest-tuple', 'long4', 'self-list', 'self-persid', 'memo', 'huge-string'] as const);
  const n = rng.pick([10, 1000, 20_000, 1_000_000]);
  switch (kind) {
    case 'forbidden': {
      const [m, name] = rng.pick(FORBIDDEN);
      return { bytes: latin1(`c${m}\n${name}\n(S'id'\ntR`), what: `global ${m.slice(0, 30)}.${name}` };
    }
    case 'nest-mark':
      return { bytes: latin1('('.repeat(n)), what: `${n} MARKs` };
    case 'nest-tuple':
      return { bytes: Uint8Array.from([0x29, ...new Array<number>(n).fill(0x85)]), what: `tuple nested ${n} deep` };
    case 'long4': {
      const size = rng.pick([9, 300, 400_000, 0x7fffffff]);
      const body = size < 1_000_000 ? new Uint8Array(size).fill(0xff) : new Uint8Array(0);
      return { bytes: Uint8Array.from([0x8b, ...le(size, 4), ...body]), what: `LONG4 of ${size} bytes` };
    }
    case 'self-list':
      return { bytes: Uint8Array.from([0x5d, 0x72, ...le(999_999, 4), 0x6a, ...le(999_999, 4), 0x61]), what: 'a list holding itself' };
    case 'self-persid':
      // ['storage', <list itself>] as a persistent id: describe() used to recurse forever.
      return { bytes: Uint8Array.from([0x5d, 0x72, ...le(999_998, 4), 0x58, ...le(7, 4), ...latin1('storage'), 0x61, 0x6a, ...le(999_998, 4), 0x61, 0x51]), what: 'a persistent id holding itself' };
    case 'memo':
      return { bytes: Uint8Array.from([0x4e, 0x72, ...le(rng.pick([0xffffffff, 2 ** 31]), 4), 0x6a, ...le(rng.int(2 ** 32), 4)]), what: 'memo at a huge index' };
    case 'huge-string':
      return { bytes: Uint8Array.from([0x58, ...le(rng.pick([0x7fffffff, 0xffffffff, 1 << 20]), 4)]), what: 'string longer than the stream' };
  }
}

/** One structure-aware mutation of a pickle stream. */
export function mutatePickle(rng: Rng, seed: Uint8Array, ops: readonly Op[]): { bytes: Uint8Array; what: string } {
  const op = ops[rng.int(ops.length)]!;
  const kind = rng.weighted([[3, 'arg'], [2, 'cut'], [2, 'drop'], [1, 'repeat'], [1, 'move'], [3, 'snippet'], [1, 'flip']] as const);
  const opName = `0x${op.op.toString(16)}@${op.start}`;
  switch (kind) {
    case 'cut':
      return { bytes: seed.subarray(0, op.start), what: `cut before ${opName}` };
    case 'drop':
      return { bytes: splice(seed, op.start, op.end - op.start), what: `dropped ${opName}` };
    case 'repeat': {
      const times = rng.pick([2, 100, 10_000]);
      const copy = seed.subarray(op.start, op.end);
      const many = new Uint8Array(copy.byteLength * times);
      for (let i = 0; i < times; i++) many.set(copy, i * copy.byteLength);
      return { bytes: splice(seed, op.start, 0, many), what: `${opName} repeated ${times} times` };
    }
    case 'move': {
      const to = ops[rng.int(ops.length)]!;
      const moved = splice(seed, op.start, op.end - op.start);
      const at = to.start > op.start ? to.start - (op.end - op.start) : to.start;
      return { bytes: splice(moved, Math.max(0, at), 0, seed.subarray(op.start, op.end)), what: `moved ${opName} to ${to.start}` };
    }
    case 'snippet': {
      const { bytes, what } = hostileSnippet(rng);
      return { bytes: splice(seed, op.start, 0, bytes), what: `${what} before ${opName}` };
    }
    case 'flip':
      return { bytes: flipBytes(rng, seed, op.start, Math.min(seed.byteLength, op.end + 16)), what: `bytes flipped near ${opName}` };
    case 'arg': {
      const withArg = ops.filter((o) => o.arg.kind === 'int' || o.arg.kind === 'sized');
      const target = withArg.length > 0 ? withArg[rng.int(withArg.length)]! : op;
      const width = target.arg.kind === 'int' || target.arg.kind === 'sized' ? target.arg.bytes : 0;
      if (width === 0) return { bytes: seed.subarray(0, target.start), what: `cut before 0x${target.op.toString(16)}@${target.start}` };
      const value = rng.pick([...boundaryValues(readUint(seed, target.start + 1, width)), -1, -(2 ** 31)]);
      const out = Uint8Array.from(seed);
      out.set(le(value, width), target.start + 1);
      return { bytes: out, what: `argument of 0x${target.op.toString(16)}@${target.start} = ${value}` };
    }
  }
}
