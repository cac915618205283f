/**
 * Fuzz targets for the weight readers, seeded from the official yolov8n.pt: its zip container
 * (records, lengths and offsets of the end records, central directory and local headers), its
 * pickle (opcode-aware, run against the real archive's storages), and a safetensors file converted
 * from it by netdef's own writer (header JSON mutated as a tree, as text, and its length field).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareFromStore } from '../../../engine/prepare.js';
import { convertPtToSafetensors } from '../../../weights/convert.js';
import { readPt, readPtArchive } from '../../../weights/pt/checkpoint.js';
import { ZipArchive } from '../../../weights/pt/zip.js';
import { safetensorsStore } from '../../../weights/safetensors.js';
import { dataPath } from '../../../test/data.js';
import { type FuzzTarget, describing } from '../harness.js';
import { boundaryValues, flipBytes, mutateJsonText, mutateJsonTree } from '../mutate.js';
import { type Op, disassemble, mutatePickle } from '../pickle-ops.js';

const PT = dataPath('weights', 'yolov8n.pt');

/** Where the fixed-width fields of zip records lie (offset in the record, width). */
const EOCD_FIELDS: readonly [number, number][] = [[8, 2], [10, 2], [12, 4], [16, 4], [20, 2]];
const CENTRAL_FIELDS: readonly [number, number][] = [[8, 2], [10, 2], [16, 4], [20, 4], [24, 4], [28, 2], [30, 2], [32, 2], [42, 4]];
const LOCAL_FIELDS: readonly [number, number][] = [[8, 2], [14, 4], [18, 4], [22, 4], [26, 2], [28, 2]];
const ZIP64_FIELDS: readonly [number, number][] = [[24, 8], [32, 8], [40, 8], [48, 8]];

function findAll(bytes: Uint8Array, signature: number[]): number[] {
  const out: number[] = [];
  for (let at = bytes.indexOf(signature[0]!); at >= 0; at = bytes.indexOf(signature[0]!, at + 1)) {
    if (signature.every((b, i) => bytes[at + i] === b)) out.push(at);
  }
  return out;
}

function setField(bytes: Uint8Array, at: number, width: number, value: number): void {
  let v = BigInt.asUintN(width * 8, BigInt(Math.trunc(value)));
  for (let i = 0; i < width; i++, v >>= 8n) bytes[at + i] = Number(v & 0xffn);
}

export function zipTarget(): FuzzTarget {
  let seed: Uint8Array = new Uint8Array(0);
  let records: { at: number; fields: readonly [number, number][]; name: string }[] = [];
  return {
    name: 'zip',
    weight: 1,
    async setup() {
      seed = readFileSync(PT);
      // Only the end of the file holds the directory; local headers are found by their signature.
      records = [
        ...findAll(seed, [0x50, 0x4b, 0x05, 0x06]).map((at) => ({ at, fields: EOCD_FIELDS, name: 'eocd' })),
        ...findAll(seed, [0x50, 0x4b, 0x06, 0x06]).map((at) => ({ at, fields: ZIP64_FIELDS, name: 'zip64 eocd' })),
        ...findAll(seed, [0x50, 0x4b, 0x01, 0x02]).map((at) => ({ at, fields: CENTRAL_FIELDS, name: 'central' })),
        ...findAll(seed, [0x50, 0x4b, 0x03, 0x04]).map((at) => ({ at, fields: LOCAL_FIELDS, name: 'local' })),
      ];
    },
    async run(rng) {
      const kind = rng.weighted([[5, 'field'], [2, 'cut'], [2, 'flip']] as const);
      const record = rng.pick(records);
      let bytes: Uint8Array;
      let what: string;
      if (kind === 'cut') {
        const at = rng.chance(0.5) ? record.at : record.at + rng.int(64);
        bytes = seed.subarray(0, at);
        what = `cut at ${at} (${record.name} record)`;
      } else if (kind === 'flip') {
        bytes = flipBytes(rng, seed, record.at, Math.min(seed.byteLength, record.at + 64));
        what = `bytes flipped in a ${record.name} record at ${record.at}`;
      } else {
        const [offset, width] = rng.pick(record.fields);
        const value = rng.pick(boundaryValues(seed.byteLength));
        bytes = Uint8Array.from(seed);
        setField(bytes, record.at + offset, width, value);
        what = `${record.name} record at ${record.at}: field +${offset} = ${value}`;
      }
      return describing(what, () => readPt('fuzz.pt', bytes));
    },
  };
}

export function pickleTarget(): FuzzTarget {
  let archive: ZipArchive | undefined;
  let seed: Uint8Array = new Uint8Array(0);
  let ops: Op[] = [];
  return {
    name: 'pickle',
    weight: 3,
    async setup() {
      archive = ZipArchive.open('fuzz.pt', readFileSync(PT));
      seed = archive.read(archive.findBySuffix('data.pkl')[0]!);
      ops = disassemble(seed);
    },
    async run(rng) {
      let { bytes, what } = mutatePickle(rng, seed, ops);
      if (rng.chance(0.2)) {
        const second = mutatePickle(rng, bytes, disassembleOrSeed(bytes, ops));
        bytes = second.bytes;
        what = `${what}; ${second.what}`;
      }
      return describing(what, () => readPtArchive(archive!, 'fuzz', bytes));
    },
  };
}

/** The opcodes of a mutated stream when it still disassembles, else the seed's. */
function disassembleOrSeed(bytes: Uint8Array, fallback: Op[]): Op[] {
  try {
    const ops = disassemble(bytes);
    return ops.length > 0 && ops[ops.length - 1]!.end <= bytes.byteLength ? ops : fallback;
  } catch {
    return fallback;
  }
}

/** A safetensors file from its header object, its data and an optional length override. */
function encode(header: string, data: Uint8Array, length = Buffer.byteLength(header)): Uint8Array {
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt.asUintN(64, BigInt(length)));
  return Buffer.concat([head, Buffer.from(header, 'utf8'), data]);
}

const METADATA_VALUES = [
  '100000000', '4294967296', '99999999999999999999999', '-1', '1e3', '', '["a"', '[[[[[[["a"]]]]]]]', `[${'"x",'.repeat(200_000)}"x"]`,
  JSON.stringify(['a'.repeat(100_000)]), '{"__proto__": 1}', '[1, 2]', `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
];

export function safetensorsTarget(): FuzzTarget {
  let header: Record<string, unknown> = {};
  let headerText = '';
  let data: Uint8Array = new Uint8Array(0);
  return {
    name: 'safetensors',
    weight: 2,
    async setup() {
      const dir = mkdtempSync(join(tmpdir(), 'netdef-fuzz-'));
      try {
        const file = join(dir, 'yolov8n.safetensors');
        await convertPtToSafetensors(PT, file);
        const bytes = readFileSync(file);
        const length = Number(bytes.readBigUInt64LE(0));
        headerText = bytes.subarray(8, 8 + length).toString('utf8');
        header = JSON.parse(headerText) as Record<string, unknown>;
        data = bytes.subarray(8 + length);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    async run(rng) {
      const kind = rng.weighted([[4, 'tree'], [3, 'metadata'], [2, 'text'], [1, 'length'], [1, 'data']] as const);
      let bytes: Uint8Array;
      let what: string;
      if (kind === 'tree') {
        const mutated = mutateJsonTree(rng, header);
        bytes = encode(JSON.stringify(mutated.value) ?? 'null', data);
        what = `header ${mutated.what}`;
      } else if (kind === 'metadata') {
        const key = rng.pick(['netdef.nc', 'netdef.names', 'netdef.strides', 'netdef.scale', 'netdef.config', 'format', '__proto__']);
        const value = rng.pick(METADATA_VALUES);
        const meta = { ...(header.__metadata__ as Record<string, string>) };
        Object.defineProperty(meta, key, { value, enumerable: true, writable: true, configurable: true });
        bytes = encode(JSON.stringify({ ...header, __metadata__: meta }), data);
        what = `metadata ${key} = ${value.slice(0, 40)}`;
      } else if (kind === 'text') {
        const mutated = mutateJsonText(rng, headerText);
        bytes = encode(mutated.text, data);
        what = `header text ${mutated.what}`;
      } else if (kind === 'length') {
        const length = rng.pick([...boundaryValues(Buffer.byteLength(headerText)), 2 ** 63, 100_000_001]);
        bytes = encode(headerText, data, length);
        what = `header length ${length}`;
      } else {
        const cut = rng.int(data.byteLength);
        bytes = encode(headerText, data.subarray(0, cut));
        what = `data cut at ${cut}`;
      }
      // The inspect path (class count to graph) for a share of the cases: it is slower.
      const deep = kind === 'metadata' && rng.chance(0.2);
      return describing(what, () => {
        const store = safetensorsStore('fuzz.safetensors', bytes);
        if (deep) prepareFromStore(store);
      });
    },
  };
}
