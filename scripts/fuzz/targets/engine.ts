/**
 * Fuzz target for engine files, seeded from a yolov8n engine the CPU backend builds and saves.
 * Since the sha256 catches corruption and not tampering, most mutations recompute it, so the
 * header and metadata schema is what meets them: the metadata and header JSON mutated as trees
 * and as text, the length fields shifted, the prototype-key and empty-list cases of the issue, and
 * cut files. A share of the cases loads the file for real (ONNX Runtime session, mutated blob).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NETDEF_VERSION } from '../../../common/version.js';
import { selectBackend } from '../../../engine/backends/index.js';
import { Engine, interfaceGraph } from '../../../engine/engine.js';
import { ENGINE_FORMAT_VERSION, ENGINE_MAGIC, type EngineFile, checkExpectation, decodeEngine } from '../../../engine/file-format.js';
import { prepareModel } from '../../../engine/prepare.js';
import { dataPath } from '../../../test/data.js';
import { type FuzzTarget, describing } from '../harness.js';
import { type Rng, boundaryValues, flipBytes, mutateJsonText, mutateJsonTree } from '../mutate.js';

const FIXED_HEADER_BYTES = 16;
/** A stand-in blob for the cases that never reach the backend (hashing 12 MB each time is slow). */
const SMALL_BLOB = new Uint8Array(16);

/** An engine file from its parts as text, with lengths that may lie and an optional true checksum. */
function encodeRaw(headerText: string, metadataText: string, blob: Uint8Array, checksum = true): Uint8Array {
  const header = Buffer.from(headerText, 'utf8');
  const fixed = Buffer.alloc(FIXED_HEADER_BYTES);
  fixed.write(ENGINE_MAGIC, 0, 'latin1');
  fixed.writeUInt32LE(ENGINE_FORMAT_VERSION, 8);
  fixed.writeUInt32LE(header.length, 12);
  const body = Buffer.concat([fixed, header, Buffer.from(metadataText, 'utf8'), blob]);
  const sum = checksum ? createHash('sha256').update(body).digest() : Buffer.alloc(32);
  return Buffer.concat([body, sum]);
}

function headerOf(file: EngineFile, metadataText: string, blob: Uint8Array): Record<string, unknown> {
  return { netdef: file.netdef, backend: file.backend, target: file.target, metadataBytes: Buffer.byteLength(metadataText), blobBytes: blob.byteLength };
}

const ISSUE_CASES: readonly ((m: Record<string, unknown>, h: Record<string, unknown>) => string)[] = [
  (_m, h) => ((h.backend = 'constructor'), 'backend constructor'),
  (_m, h) => ((h.backend = '__proto__'), 'backend __proto__'),
  (m) => ((m.outputs = []), 'empty outputs'),
  (m) => ((m.inputs = [{ name: '__proto__', dtype: 'float32', shape: ['batch', 3, 640, 640] }]), 'input __proto__'),
  (m) => ((m.outputs = [{ name: 'output0', dtype: 'float32', shape: ['batch', 2 ** 31, 1] }]), 'output of 8 GiB'),
  (m) => ((m.inputs = [{ name: 'images', dtype: 'float32', shape: ['batch', 1024, 1024, 1024] }]), 'input of 4 TiB'),
  (m) => ((m.batch = { min: 1, opt: 1, max: 2 ** 31 }), 'batch 2^31'),
  (m) => ((m.policy = { default: { toString: 'x' } }), 'policy default object'),
  (m) => ((m.precision = JSON.parse('{"__proto__": "float32"}') as unknown), 'precision __proto__'),
];

export function engineTarget(): FuzzTarget {
  let seed: EngineFile | undefined;
  let dir = '';
  let count = 0;
  return {
    name: 'engine',
    weight: 1.5,
    async setup() {
      const engine = await Engine.build(await prepareModel({ weights: dataPath('weights', 'yolov8n.pt') }));
      dir = mkdtempSync(join(tmpdir(), 'netdef-fuzz-engine-'));
      const file = join(dir, 'seed.engine');
      await engine.save(file);
      await engine.dispose();
      const { readFile } = await import('node:fs/promises');
      seed = decodeEngine(await readFile(file), file, { netdef: NETDEF_VERSION });
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    },
    async run(rng) {
      const file = seed!;
      const full = rng.chance(0.01);
      const blob = full ? mutateBlob(rng, file.blob) : SMALL_BLOB;
      const { bytes, what } = mutateEngine(rng, file, blob);
      if (!full) {
        return describing(what, () => {
          const decoded = decodeEngine(bytes, 'fuzz.engine', { netdef: NETDEF_VERSION });
          interfaceGraph(decoded.metadata);
          const backend = selectBackend(decoded.backend);
          checkExpectation('fuzz.engine', decoded, { netdef: NETDEF_VERSION, backend: backend.name, target: backend.target() });
        });
      }
      const path = join(dir, `case-${count++}.engine`);
      writeFileSync(path, bytes);
      return describing(`${what} (loaded)`, async () => {
        try {
          const engine = await Engine.load(path);
          await engine.dispose();
        } finally {
          rmSync(path, { force: true });
        }
      });
    },
  };
}

function mutateBlob(rng: Rng, blob: Uint8Array): Uint8Array {
  if (rng.chance(0.3)) return blob;
  return rng.chance(0.5) ? blob.subarray(0, rng.int(blob.byteLength)) : flipBytes(rng, blob);
}

function mutateEngine(rng: Rng, file: EngineFile, blob: Uint8Array): { bytes: Uint8Array; what: string } {
  const metadataText = JSON.stringify(file.metadata);
  const kind = rng.weighted([[4, 'metadata'], [1, 'header'], [2, 'issue'], [2, 'text'], [1, 'lengths'], [1, 'cut']] as const);
  const header = headerOf(file, metadataText, blob);
  switch (kind) {
    case 'metadata': {
      const m = mutateJsonTree(rng, file.metadata);
      const text = JSON.stringify(m.value) ?? 'null';
      return { bytes: encodeRaw(JSON.stringify(headerOf(file, text, blob)), text, blob), what: `metadata ${m.what}` };
    }
    case 'header': {
      const h = mutateJsonTree(rng, header);
      return { bytes: encodeRaw(JSON.stringify(h.value) ?? 'null', metadataText, blob), what: `header ${h.what}` };
    }
    case 'issue': {
      const m = structuredClone(file.metadata) as unknown as Record<string, unknown>;
      const h = { ...header };
      const what = rng.pick(ISSUE_CASES)(m, h);
      const text = JSON.stringify(m);
      return { bytes: encodeRaw(JSON.stringify({ ...h, metadataBytes: Buffer.byteLength(text) }), text, blob), what };
    }
    case 'text': {
      const inMetadata = rng.chance(0.7);
      const t = mutateJsonText(rng, inMetadata ? metadataText : JSON.stringify(header));
      const text = inMetadata ? t.text : metadataText;
      const h = inMetadata ? JSON.stringify(headerOf(file, text, blob)) : t.text;
      return { bytes: encodeRaw(h, text, blob), what: `${inMetadata ? 'metadata' : 'header'} text ${t.what}` };
    }
    case 'lengths': {
      const key = rng.pick(['metadataBytes', 'blobBytes'] as const);
      const value = rng.pick([...boundaryValues(header[key] as number), -1, 1.5, '12']);
      return { bytes: encodeRaw(JSON.stringify({ ...header, [key]: value }), metadataText, blob, rng.chance(0.8)), what: `${key} = ${value}` };
    }
    case 'cut': {
      const whole = encodeRaw(JSON.stringify(header), metadataText, blob);
      const at = rng.int(whole.byteLength);
      return { bytes: whole.subarray(0, at), what: `cut at ${at}` };
    }
  }
}
