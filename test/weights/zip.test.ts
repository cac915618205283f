import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ZipArchive } from '../../weights/pt/zip.js';
import { dataPath } from '../data.js';
import { buildZip, caught } from './helpers.js';

const YOLOV8N = dataPath('weights', 'yolov8n.pt');
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('ZipArchive', () => {
  it('reads the official yolov8n.pt container (zip64 end records, data descriptors)', () => {
    const bytes = readFileSync(YOLOV8N);
    const zip = ZipArchive.open(YOLOV8N, bytes);
    expect(zip.findBySuffix('data.pkl')).toEqual(['yolov8n/data.pkl']);
    expect(new TextDecoder().decode(zip.read('yolov8n/byteorder'))).toBe('little');
    const pkl = zip.read('yolov8n/data.pkl');
    expect(pkl[0]).toBe(0x80); // pickle PROTO
    expect(pkl.buffer).toBe(bytes.buffer); // zero-copy view of the file
  });

  it.each([false, true])('round-trips entries of a built archive (zip64: %s)', (zip64) => {
    const bytes = buildZip([['a/data.pkl', text('hello')], ['a/data/0', new Uint8Array(0)], ['a/x', text('xyz')]], { zip64 });
    const zip = ZipArchive.open('built.zip', bytes);
    expect([...zip.entries.keys()]).toEqual(['a/data.pkl', 'a/data/0', 'a/x']);
    expect(new TextDecoder().decode(zip.read('a/x'))).toBe('xyz');
    expect(zip.read('a/data/0').byteLength).toBe(0);
    expect(zip.findBySuffix('x')).toEqual(['a/x']);
  });

  it('rejects a truncated yolov8n.pt naming the file', async () => {
    const prefix = readFileSync(YOLOV8N).subarray(0, 3 * 1024 * 1024);
    const err = await caught(() => ZipArchive.open('/tmp/cut/yolov8n.pt', prefix));
    expect(err.code).toBe('ERR_ZIP_FORMAT');
    expect(err.message).toContain('/tmp/cut/yolov8n.pt');
    expect(err.message).toMatch(/truncated/);
    expect(err.message).toMatch(/end-of-central-directory/);
  });

  it('rejects a file cut inside its central directory', async () => {
    const whole = readFileSync(YOLOV8N);
    // Keep the end records but drop bytes in front of them: offsets now point past the data.
    const cut = Buffer.concat([whole.subarray(0, 1000), whole.subarray(whole.byteLength - 98)]);
    const err = await caught(() => ZipArchive.open('cut.pt', cut));
    expect(err.code).toBe('ERR_ZIP_FORMAT');
    expect(err.message).toMatch(/cut\.pt.*truncated/);
  });

  it('detects a corrupted entry by its CRC-32', async () => {
    const bytes = buildZip([['a/x', text('payload')]]);
    bytes[33] = bytes[33]! ^ 0xff; // first byte of the data, after the 30-byte header and 3-byte name
    const zip = ZipArchive.open('bad-crc.zip', bytes);
    const err = await caught(() => zip.read('a/x'));
    expect(err.code).toBe('ERR_ZIP_FORMAT');
    expect(err.message).toMatch(/bad-crc\.zip.*'a\/x'.*CRC-32/);
  });

  it('refuses compressed entries', async () => {
    const zip = ZipArchive.open('deflated.zip', buildZip([['a/x', text('zz')]], { method: 8 }));
    const err = await caught(() => zip.read('a/x'));
    expect(err.code).toBe('ERR_ZIP_FORMAT');
    expect(err.message).toMatch(/deflated\.zip.*compression method 8/);
  });

  it('refuses bytes that are not a zip, and missing entries', async () => {
    expect((await caught(() => ZipArchive.open('empty.bin', new Uint8Array(0)))).code).toBe('ERR_ZIP_FORMAT');
    expect((await caught(() => ZipArchive.open('junk.bin', new Uint8Array(4096).fill(7)))).message).toContain('junk.bin');
    const zip = ZipArchive.open('one.zip', buildZip([['a/x', text('1')]]));
    expect((await caught(() => zip.read('a/y'))).message).toMatch(/one\.zip.*'a\/y' not found/);
  });
});
