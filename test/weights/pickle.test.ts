import { describe, expect, it } from 'vitest';
import { PyGlobal, PyObject, inertClass, unpickle, type UnpickleOptions } from '../../weights/pt/pickle.js';
import { PickleWriter, caught } from './helpers.js';

/**
 * The restricted unpickler against streams CPython's `pickle.dumps` wrote (hex below, so the
 * reference is CPython, not this code), plus hand-made hostile and malformed streams.
 */

// pickle.dumps(v, protocol=2) and protocol=4 of
// v = {'a': [1, -2, 300, 70000, 2**40, 2**70, -2**63, 1.5, None, True, False], 'b': ('x', 'ünï', ''),
//      3: {1, 2}, 'nested': [[], (), {}], 't1': (1,), 't2': (1, 2), 't3': (1, 2, 3), 't4': (1, 2, 3, 4),
//      'shared': (lst, lst)}  with lst = [9]
const PROTOCOL2 =
  '80027d71002858010000006171015d7102284b014afeffffff4d2c014a701101008a060000000000018a09000000000000000040' +
  '8a080000000000000080473ff80000000000004e888965580100000062710358010000007871045805000000c3bc6ec3af710558' +
  '0000000071068771074b03635f5f6275696c74696e5f5f0a7365740a71085d7109284b014b026585710a52710b58060000006e65' +
  '73746564710c5d710d285d710e297d710f655802000000743171104b018571115802000000743271124b014b0286711358020000' +
  '00743371144b014b024b03877115580200000074347116284b014b024b034b04747117580600000073686172656471185d71194b' +
  '0961681986711a752e';
const PROTOCOL4 =
  '800495b9000000000000007d94288c0161945d94284b014afeffffff4d2c014a701101008a060000000000018a09000000000000' +
  '0000408a080000000000000080473ff80000000000004e8889658c0162948c0178948c05c3bc6ec3af948c009487944b038f9428' +
  '4b014b02908c066e6573746564945d94285d94297d94658c027431944b0185948c027432944b014b0286948c027433944b014b02' +
  '4b0387948c02743494284b014b024b034b0474948c06736861726564945d944b096168168694752e';
// pickle.dumps({'bytes': b'\x00\x01\xff', 'ba': bytearray(b'ab'), 'fs': frozenset([7])}, protocol=5)
const PROTOCOL5 =
  '8005952e000000000000007d94288c0562797465739443030001ff948c026261949602000000000000006162948c02667394284b' +
  '079194752e';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

/** Allows only builtins.set (protocol 2 writes sets as a call to it). */
const options: UnpickleOptions = {
  file: 'test.pkl',
  resolveGlobal: (module, name) =>
    module === '__builtin__' && name === 'set' ? new PyGlobal('builtins.set', (args) => new Set(args[0] as unknown[])) : undefined,
};

function checkValue(v: unknown): void {
  const d = v as Map<unknown, unknown>;
  expect(d).toBeInstanceOf(Map);
  expect([...d.keys()]).toEqual(['a', 'b', 3, 'nested', 't1', 't2', 't3', 't4', 'shared']);
  expect(d.get('a')).toEqual([1, -2, 300, 70000, 2 ** 40, 2n ** 70n, -(2n ** 63n), 1.5, null, true, false]);
  expect(d.get('b')).toEqual(['x', 'ünï', '']);
  expect(Object.isFrozen(d.get('b'))).toBe(true); // tuples are frozen, lists are not
  expect(d.get(3)).toEqual(new Set([1, 2]));
  expect(d.get('nested')).toEqual([[], [], new Map()]);
  expect([d.get('t1'), d.get('t2'), d.get('t3'), d.get('t4')]).toEqual([[1], [1, 2], [1, 2, 3], [1, 2, 3, 4]]);
  const shared = d.get('shared') as unknown[][];
  expect(shared[0]).toBe(shared[1]); // the memo keeps identity
}

describe('unpickle', () => {
  it('decodes CPython protocol 2 and 4 streams', () => {
    checkValue(unpickle(hex(PROTOCOL2), options));
    checkValue(unpickle(hex(PROTOCOL4), options));
  });

  it('decodes protocol 5 bytes, bytearray and frozenset', () => {
    const d = unpickle(hex(PROTOCOL5), options) as Map<string, unknown>;
    expect(d.get('bytes')).toEqual(Uint8Array.from([0, 1, 255]));
    expect(d.get('ba')).toEqual(Uint8Array.from([0x61, 0x62]));
    expect(d.get('fs')).toEqual(new Set([7]));
  });

  it('rebuilds allowed classes as inert records (NEWOBJ + BUILD)', () => {
    const stream = new PickleWriter().proto().global('pkg.mod', 'Thing').emptyTuple().raw(0x81)
      .emptyDict().mark().str('x').int(5).setItems().raw(0x62).stop().bytes();
    const v = unpickle(stream, { file: 'obj.pkl', resolveGlobal: (m, n) => inertClass(`${m}.${n}`) });
    expect(v).toBeInstanceOf(PyObject);
    expect((v as PyObject).__class__).toBe('pkg.mod.Thing');
    expect((v as PyObject).__state__).toEqual(new Map([['x', 5]]));
  });

  it.each([
    ['os', 'system'],
    ['posix', 'system'],
    ['builtins', 'eval'],
    ['subprocess', 'Popen'],
  ])('refuses the global %s.%s without running anything', async (module, name) => {
    const stream = new PickleWriter().proto().global(module, name).mark().str('echo pwned').tuple().reduce().stop().bytes();
    const err = await caught(() => unpickle(stream, options));
    expect(err.code).toBe('ERR_PICKLE_FORBIDDEN_GLOBAL');
    expect(err.message).toContain(`'${module}.${name}'`);
    expect(err.message).toContain('test.pkl');
  });

  it('refuses a forbidden STACK_GLOBAL too', async () => {
    // protocol 4: SHORT_BINUNICODE 'os', SHORT_BINUNICODE 'system', STACK_GLOBAL
    const stream = new PickleWriter().proto(4).raw(0x8c, 2, ...Buffer.from('os')).raw(0x8c, 6, ...Buffer.from('system')).raw(0x93).stop().bytes();
    const err = await caught(() => unpickle(stream, options));
    expect(err.code).toBe('ERR_PICKLE_FORBIDDEN_GLOBAL');
    expect(err.message).toContain("'os.system'");
  });

  it.each([
    ['an unknown opcode', [0x80, 2, 0xff], /opcode 0xff/],
    ['INST, which calls by name', [0x80, 2, 0x69, 0x6f, 0x73, 0x0a, 0x73, 0x0a, 0x2e], /opcode 0x69/],
    ['a stream without STOP', [0x80, 2, 0x4e], /truncated/],
    ['a truncated BINUNICODE', [0x80, 2, 0x58, 0xff, 0, 0, 0, 0x61], /truncated/],
    ['an undefined memo entry', [0x80, 2, 0x68, 9, 0x2e], /memo entry 9/],
    ['a pop from an empty stack', [0x80, 2, 0x2e], /underflow/],
    ['an unsupported protocol', [0x80, 9, 0x4e, 0x2e], /protocol 9/],
    ['APPEND to a tuple', [0x80, 2, 0x29, 0x4e, 0x61, 0x2e], /not a list/],
  ])('rejects %s with ERR_PICKLE_FORMAT', async (_what, bytes, pattern) => {
    const err = await caught(() => unpickle(Uint8Array.from(bytes), options));
    expect(err.code).toBe('ERR_PICKLE_FORMAT');
    expect(err.message).toContain('test.pkl');
    expect(err.message).toMatch(pattern);
  });
});
