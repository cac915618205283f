import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type HostTensor, hostTensor, toFloat32 } from '../../common/host-tensor.js';
import { loadSafetensors, parseSafetensors, readSafetensors, writeSafetensors } from '../../weights/safetensors.js';
import { caught, tempDir } from './helpers.js';

const dir = tempDir();

// Written by the reference implementation (Python safetensors 0.8.0, safetensors.numpy.save) from
// a.weight = arange(6, f32).reshape(2, 3) / 4, b.bias = [-1.5, 0, 2] f32, c.empty = zeros((0, 4), f32),
// d.half = [1, -2, 0.5] f16, e.int8 = [[-128, 127]] i8, metadata {format: 'pt', 'netdef.nc': '2'}.
const REFERENCE = Buffer.from(
  '68010000000000007b225f5f6d657461646174615f5f223a7b22666f726d6174223a227074222c226e65746465662e6e' +
  '63223a2232227d2c22612e776569676874223a7b226474797065223a22463332222c227368617065223a5b322c335d2c' +
  '22646174615f6f666673657473223a5b302c32345d7d2c22622e62696173223a7b226474797065223a22463332222c22' +
  '7368617065223a5b335d2c22646174615f6f666673657473223a5b32342c33365d7d2c22632e656d707479223a7b2264' +
  '74797065223a22463332222c227368617065223a5b302c345d2c22646174615f6f666673657473223a5b33362c33365d' +
  '7d2c22642e68616c66223a7b226474797065223a22463136222c227368617065223a5b335d2c22646174615f6f666673' +
  '657473223a5b33362c34325d7d2c22652e696e7438223a7b226474797065223a224938222c227368617065223a5b312c' +
  '325d2c22646174615f6f666673657473223a5b34322c34345d7d7d2020202020000000000000803e0000003f0000403f' +
  '0000803f0000a03f0000c0bf0000000000000040003c00c00038807f',
  'hex',
);

/** A safetensors file from a header object and a data section (header padded like the spec). */
function craft(header: unknown, data: Uint8Array = new Uint8Array(0), length?: bigint): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(length ?? BigInt(json.byteLength));
  return Buffer.concat([size, json, data]);
}

const f32 = (shape: number[], begin: number): object => ({ dtype: 'F32', shape, data_offsets: [begin, begin + 4 * shape.reduce((a, b) => a * b, 1)] });

describe('safetensors reader', () => {
  it('reads a file written by the reference implementation', () => {
    const { tensors, metadata } = parseSafetensors('reference.safetensors', REFERENCE);
    expect(metadata).toEqual({ format: 'pt', 'netdef.nc': '2' });
    expect([...tensors.keys()]).toEqual(['a.weight', 'b.bias', 'c.empty', 'd.half', 'e.int8']);
    expect([...toFloat32(tensors.get('a.weight')!)]).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
    expect(tensors.get('a.weight')!.shape).toEqual([2, 3]);
    expect([...toFloat32(tensors.get('b.bias')!)]).toEqual([-1.5, 0, 2]);
    expect(tensors.get('c.empty')).toMatchObject({ dtype: 'float32', shape: [0, 4] });
    expect([...toFloat32(tensors.get('d.half')!)]).toEqual([1, -2, 0.5]);
    expect(tensors.get('e.int8')).toMatchObject({ dtype: 'int8', shape: [1, 2] });
    expect([...toFloat32(tensors.get('e.int8')!)]).toEqual([-128, 127]);
  });

  it('writes what the reference implementation writes, byte for byte', async () => {
    const { tensors, metadata } = parseSafetensors('reference.safetensors', REFERENCE);
    const shuffled = new Map([...tensors].reverse()); // the writer sorts by name
    const path = join(dir, 'same.safetensors');
    const { bytes } = await writeSafetensors(path, shuffled, metadata);
    expect(bytes).toBe(REFERENCE.byteLength);
    expect(readFileSync(path).equals(REFERENCE)).toBe(true);
  });

  it('round-trips every dtype and metadata through a file', async () => {
    const t = (dtype: HostTensor['dtype'], shape: number[], bytes: number[]): HostTensor => hostTensor(dtype, shape, Uint8Array.from(bytes));
    const tensors = new Map<string, HostTensor>([
      ['z.f64', t('float64', [1], [0, 0, 0, 0, 0, 0, 0xf0, 0x3f])],
      ['y.bf16', t('bfloat16', [2], [0x80, 0x3f, 0, 0xc0])],
      ['x.i64', t('int64', [], [1, 0, 0, 0, 0, 0, 0, 0])],
      ['w.i32', t('int32', [1], [2, 0, 0, 0])],
      ['v.i16', t('int16', [1], [3, 0])],
      ['u.u8', t('uint8', [3], [1, 2, 3])],
      ['t.bool', t('bool', [2], [1, 0])],
    ]);
    const path = join(dir, 'dtypes.safetensors');
    await writeSafetensors(path, tensors, { 'netdef.config': 'x.yaml' });
    const header = readFileSync(path).readBigUInt64LE(0);
    expect(Number(header) % 8).toBe(0);
    const back = await readSafetensors(path);
    expect(back.metadata).toEqual({ 'netdef.config': 'x.yaml' });
    // file order: wider elements first (alignment), then by name, as the reference writer does
    expect([...back.tensors.keys()]).toEqual(['x.i64', 'z.f64', 'w.i32', 'v.i16', 'y.bf16', 't.bool', 'u.u8']);
    for (const [name, tensor] of tensors) {
      const read = back.tensors.get(name)!;
      expect([read.dtype, read.shape, [...read.data]]).toEqual([tensor.dtype, tensor.shape, [...tensor.data]]);
    }
  });

  it('turns netdef metadata into ModelInfo', async () => {
    const path = join(dir, 'info.safetensors');
    writeFileSync(path, craft({
      __metadata__: { 'netdef.nc': '2', 'netdef.names': '["a","b"]', 'netdef.scale': 'n', 'netdef.strides': '[8,16,32]', 'netdef.config': 'yolov8n.yaml', 'netdef.source_sha256': 'ab'.repeat(32) },
      w: f32([1], 0),
    }, new Uint8Array(4)));
    const store = await loadSafetensors(path);
    expect(store.info).toEqual({ nc: 2, names: ['a', 'b'], scale: 'n', strides: [8, 16, 32], config: 'yolov8n.yaml' });
    expect(store.source).toEqual({ path, format: 'safetensors', sha256: 'ab'.repeat(32) });
    writeFileSync(path, craft({ __metadata__: { 'netdef.names': '{"0":"a"}' }, w: f32([1], 0) }, new Uint8Array(4)));
    expect(await caught(() => loadSafetensors(path))).toMatchObject({ code: 'ERR_SAFETENSORS_HEADER', message: expect.stringMatching(/info\.safetensors.*netdef\.names/) });
  });
});

describe('safetensors reader on malformed files', () => {
  const data12 = new Uint8Array(12);
  const cases: [string, Buffer, string, RegExp][] = [
    ['an absurd header length', craft({}, data12, 1n << 40n), 'ERR_SAFETENSORS_HEADER', /1099511627776/],
    ['a header longer than the file', craft({ w: f32([3], 0) }, data12, 4096n), 'ERR_SAFETENSORS_HEADER', /4096.*truncated/],
    ['a file shorter than 8 bytes', Buffer.from([1, 2, 3]), 'ERR_SAFETENSORS_HEADER', /too short/],
    ['a header that is not JSON', Buffer.concat([Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{x]')]), 'ERR_SAFETENSORS_HEADER', /JSON/],
    ['overlapping offsets', craft({ a: f32([2], 0), b: f32([2], 4) }, data12), 'ERR_SAFETENSORS_OFFSETS', /'a' and 'b' overlap/],
    ['out-of-range offsets', craft({ a: f32([2], 0), b: f32([2], 8) }, data12), 'ERR_SAFETENSORS_OFFSETS', /'b'.*outside/],
    ['a hole between tensors', craft({ a: f32([1], 0), b: f32([1], 8) }, data12), 'ERR_SAFETENSORS_OFFSETS', /hole of 4 bytes after tensor 'a', before tensor 'b'/],
    ['uncovered trailing bytes', craft({ a: f32([2], 0) }, data12), 'ERR_SAFETENSORS_OFFSETS', /4 bytes.*not covered.*'a'/],
    ['offsets that disagree with the shape', craft({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 12] } }, data12), 'ERR_SAFETENSORS_OFFSETS', /'a'.*needs 8/],
    ['reversed offsets', craft({ a: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, data12), 'ERR_SAFETENSORS_OFFSETS', /'a'/],
    ['an unknown dtype', craft({ a: { dtype: 'F8_E4M3', shape: [12], data_offsets: [0, 12] } }, data12), 'ERR_SAFETENSORS_DTYPE', /'a'.*F8_E4M3/],
    ['non-string metadata', craft({ __metadata__: { epochs: 3 }, a: f32([3], 0) }, data12), 'ERR_SAFETENSORS_HEADER', /'epochs'.*not a string/],
    ['a bad shape', craft({ a: { dtype: 'F32', shape: [-3], data_offsets: [0, 12] } }, data12), 'ERR_SAFETENSORS_HEADER', /'a'.*shape/],
  ];

  it.each(cases)('rejects %s', async (_what, bytes, code, pattern) => {
    const path = join(dir, 'bad.safetensors');
    writeFileSync(path, bytes);
    const err = await caught(() => readSafetensors(path));
    expect(err.code).toBe(code);
    expect(err.message).toContain(path);
    expect(err.message).toMatch(pattern);
  });
});

describe('safetensors writer', () => {
  const good = hostTensor('float32', [2], new Uint8Array(8));
  const temps = (folder: string): string[] => readdirSync(folder).filter((f) => f.endsWith('.tmp'));

  it('validates tensors before creating anything', async () => {
    const folder = join(dir, 'invalid');
    mkdirSync(folder);
    const path = join(folder, 'out.safetensors');
    const bad = { dtype: 'float32', shape: [3], data: new Uint8Array(8) } as HostTensor;
    const err = await caught(() => writeSafetensors(path, new Map([['a', good], ['b', bad]]), {}));
    expect(err).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining("'b'") });
    expect(readdirSync(folder)).toEqual([]);
  });

  it('leaves no target and no temp file when writing fails midway', async () => {
    const folder = join(dir, 'midway');
    mkdirSync(folder);
    const path = join(folder, 'out.safetensors');
    const failing = { onProgress: (): void => { throw new Error('disk full'); } };
    await expect(writeSafetensors(path, new Map([['a', good], ['b', good]]), {}, failing)).rejects.toThrow('disk full');
    expect(existsSync(path)).toBe(false);
    expect(temps(folder)).toEqual([]);
  });

  it('keeps an existing target intact when the write fails', async () => {
    const folder = join(dir, 'existing');
    mkdirSync(folder);
    const path = join(folder, 'out.safetensors');
    writeFileSync(path, 'previous');
    await expect(writeSafetensors(path, new Map([['a', good]]), {}, { onProgress: () => { throw new Error('stop'); } })).rejects.toThrow('stop');
    expect(readFileSync(path, 'utf8')).toBe('previous');
    expect(temps(folder)).toEqual([]);
    await writeSafetensors(path, new Map([['a', good]]));
    expect((await readSafetensors(path)).tensors.get('a')!.shape).toEqual([2]);
  });
});
