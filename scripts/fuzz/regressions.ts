/**
 * Every defect of issue 13 as a crafted input, run one after another in this process; printed as
 * JSON lines ({name, outcome, code, ms, message}). test/fuzz/regressions.test.ts runs it with a
 * 256 MiB heap and checks each gives the typed error expected (or succeeds where the input is
 * legitimate) within 2 s. Run by hand: node --max-old-space-size=256 --import tsx scripts/fuzz/regressions.ts
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetdefError } from '../../common/errors.js';
import { hostTensor } from '../../common/host-tensor.js';
import { NETDEF_VERSION } from '../../common/version.js';
import { parsePolicy, precisionOf } from '../../dsl/precision/policy.js';
import { selectBackend } from '../../engine/backends/index.js';
import { Engine } from '../../engine/engine.js';
import { decodeEngine } from '../../engine/file-format.js';
import { prepareGraph } from '../../engine/prepare.js';
import { buildYolov8 } from '../../models/yolov8/model.js';
import { dataPath } from '../../test/data.js';
import { cocoJsonFromBytes, readCocoJson } from '../../vision/eval/coco-json.js';
import { loadWeights } from '../../weights/load.js';
import { readPtArchive } from '../../weights/pt/checkpoint.js';
import { ZipArchive } from '../../weights/pt/zip.js';
import { parseSafetensors, writeSafetensors } from '../../weights/safetensors.js';
import { engineBytes, minimalMetadata } from './engine-bytes.js';
import { PickleBytes } from './pickle-bytes.js';

export interface Regression {
  readonly name: string;
  /** The code the input must fail with, or 'ok' where the input is legitimate and must pass. */
  readonly expect: string;
  readonly run: () => unknown;
}

/** Inputs too big to make inside the timed part of a case, made once before. */
let bigCocoBytes: Buffer | undefined;
let manyTensorsBytes: Uint8Array | undefined;
const MANY_TENSORS = 120_000;

export interface RegressionResult {
  readonly name: string;
  readonly expect: string;
  readonly outcome: string;
  readonly ms: number;
  readonly message: string;
}

const dir = mkdtempSync(join(tmpdir(), 'netdef-regress-'));
const pt = (): ZipArchive => ZipArchive.open('hostile.pt', readFileSync(dataPath('weights', 'yolov8n.pt')));

/** A one-tensor safetensors file with the given metadata. */
async function safetensorsWith(meta: Record<string, string>): Promise<string> {
  const file = join(dir, `m${Math.random().toString(36).slice(2)}.safetensors`);
  await writeSafetensors(file, new Map([['x', hostTensor('float32', [1], new Uint8Array(4))]]), meta);
  return file;
}

/** A safetensors file whose header is `header` (text). */
function safetensorsHeader(header: string): Uint8Array {
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(header)));
  return Buffer.concat([head, Buffer.from(header)]);
}

const deep = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;
const layers = buildYolov8({ scale: 'n', nc: 80 }).nodes.map((n) => n.name);

/** A tensor over storage '0' of yolov8n.pt (a HalfStorage) with the given shape and strides. */
function tensorPickle(shape: number[], stride: number[], storageCount: number): Uint8Array {
  return new PickleBytes().proto().tensor(shape, stride, storageCount).stop().bytes();
}

export const REGRESSIONS: readonly Regression[] = [
  { name: 'safetensors netdef.nc = 100000000 (inspect)', expect: 'ERR_SAFETENSORS_HEADER', run: async () => prepareGraph({ weights: await safetensorsWith({ 'netdef.nc': '100000000', 'netdef.scale': 'n' }) }) },
  { name: 'safetensors netdef.nc = 4294967296 (inspect)', expect: 'ERR_SAFETENSORS_HEADER', run: async () => prepareGraph({ weights: await safetensorsWith({ 'netdef.nc': '4294967296', 'netdef.scale': 'n' }) }) },
  { name: 'pickle persistent id: a list containing itself', expect: 'ERR_PICKLE_FORMAT', run: () => readPtArchive(pt(), 'x', new PickleBytes().proto().selfPersistentId().stop().bytes()) },
  { name: 'safetensors header value nested 100,000 deep', expect: 'ERR_SAFETENSORS_HEADER', run: () => parseSafetensors('deep.safetensors', safetensorsHeader(`{"a": ${deep(100_000)}}`)) },
  { name: 'COCO JSON nested 1,000,000 deep', expect: 'ERR_DATASET', run: () => cocoJsonFromBytes(Buffer.from(`{"images": ${deep(1_000_000)}}`), 'deep.json') },
  { name: 'policy JSON nested deep', expect: 'ERR_PRECISION_POLICY', run: () => parsePolicy(`{"layers": ${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`) },
  { name: 'pickle tensor with stride 0 and 2^31 elements', expect: 'ERR_CHECKPOINT_FORMAT', run: () => readPtArchive(pt(), 'x', tensorPickle([65536, 32768], [0, 0], 1)) },
  { name: 'stride-0 tensor of 2^28 elements over a 1-element storage', expect: 'ERR_CHECKPOINT_FORMAT', run: () => readPtArchive(pt(), 'x', tensorPickle([1 << 28], [0], 1)) },
  { name: 'pickle with a huge LONG4 (400 kB)', expect: 'ERR_PICKLE_FORMAT', run: () => readPtArchive(pt(), 'x', new PickleBytes().proto().long4(400_000).stop().bytes()) },
  { name: 'crafted pickle: 1,000,000 MARKs', expect: 'ERR_PICKLE_FORMAT', run: () => readPtArchive(pt(), 'x', new PickleBytes().proto().array(new Uint8Array(1_000_000).fill(0x28)).stop().bytes()) },
  { name: 'crafted safetensors header: 120,000 tensors', expect: 'ERR_SAFETENSORS_HEADER', run: () => parseSafetensors('many.safetensors', manyTensorsBytes!) },
  { name: 'policy glob of 20 `*?` and a tail that does not match', expect: 'ok', run: () => layers.forEach((l) => precisionOf(parsePolicy(`${'*?'.repeat(20)}#:fp16`), `${l}${l}${l}`)) },
  { name: 'COCO JSON with 80 MB of segmentation polygons (within 256 MiB)', expect: 'ok', run: () => cocoJsonFromBytes(bigCocoBytes!, 'big.json') },
  { name: 'engine file with cut metadata', expect: 'ERR_ENGINE_FORMAT', run: () => decodeEngine(engineBytes({ metadataText: JSON.stringify(minimalMetadata()).slice(0, -20) }), 'cut.engine', { netdef: NETDEF_VERSION }) },
  { name: 'engine file with shifted metadata', expect: 'ERR_ENGINE_FORMAT', run: () => decodeEngine(engineBytes({ metadataText: ` ${JSON.stringify(minimalMetadata())}`.slice(0, -1) }), 'shift.engine', { netdef: NETDEF_VERSION }) },
  { name: 'engine metadata null', expect: 'ERR_ENGINE_FORMAT', run: () => decodeEngine(engineBytes({ metadataText: 'null' }), 'null.engine', { netdef: NETDEF_VERSION }) },
  { name: 'engine header null', expect: 'ERR_ENGINE_FORMAT', run: () => decodeEngine(engineBytes({ headerText: 'null' }), 'null.engine', { netdef: NETDEF_VERSION }) },
  { name: 'engine input named __proto__', expect: 'ERR_ENGINE_FORMAT', run: () => decodeEngine(engineBytes({ metadata: { inputs: [{ name: '__proto__', dtype: 'float32', shape: ['batch', 3, 64, 64] }] } }), 'proto.engine', { netdef: NETDEF_VERSION }) },
  { name: 'engine backend field `constructor`', expect: 'ERR_INVALID_ARGUMENT', run: () => loadEngine('ctor.engine', engineBytes({ backend: 'constructor' })) },
  { name: 'engine with empty outputs', expect: 'ERR_ENGINE_FORMAT', run: () => decodeEngine(engineBytes({ metadata: { outputs: [] } }), 'empty.engine', { netdef: NETDEF_VERSION }) },
  { name: 'engine policy whose default is an object with toString', expect: 'ERR_ENGINE_FORMAT', run: () => decodeEngine(engineBytes({ metadata: { policy: { default: { toString: 'x' }, rules: [] } } }), 'policy.engine', { netdef: NETDEF_VERSION }) },
  { name: 'policy JSON whose default is an object with toString', expect: 'ERR_PRECISION_POLICY', run: () => parsePolicy('{"default": {"toString": 1}}') },
  { name: 'engine output of 8 GiB', expect: 'ERR_ENGINE_FORMAT', run: () => decodeEngine(engineBytes({ metadata: { outputs: [{ name: 'output0', dtype: 'float32', shape: ['batch', 2 ** 31] }] } }), 'big.engine', { netdef: NETDEF_VERSION }) },
  { name: 'engine input of 4 TiB', expect: 'ERR_ENGINE_FORMAT', run: () => decodeEngine(engineBytes({ metadata: { inputs: [{ name: 'images', dtype: 'float32', shape: ['batch', 1024, 1024, 1024] }] } }), 'big.engine', { netdef: NETDEF_VERSION }) },
  { name: 'yaml.nc = 2^32 in a .pt', expect: 'ERR_CHECKPOINT_FORMAT', run: () => readPtArchive(pt(), 'x', new PickleBytes().proto().modelWithYamlNc(2 ** 32).stop().bytes()) },
  { name: 'precision *:constructor', expect: 'ERR_PRECISION_POLICY', run: () => parsePolicy('*:constructor') },
  { name: 'precision *:__proto__', expect: 'ERR_PRECISION_POLICY', run: () => parsePolicy('*:__proto__') },
  { name: 'precision *:toString', expect: 'ERR_PRECISION_POLICY', run: () => parsePolicy('*:toString') },
  { name: 'weights path that is a directory', expect: 'ERR_FILE_NOT_FOUND', run: () => loadWeights(tmpdir()) },
  { name: 'COCO annotations path that is a directory', expect: 'ERR_FILE_NOT_FOUND', run: () => readCocoJson(tmpdir()) },
  { name: 'storage class called names the file', expect: 'ERR_PICKLE_FORMAT', run: () => readPtArchive(pt(), 'x', new PickleBytes().proto().global('torch', 'FloatStorage').emptyTuple().reduce().stop().bytes()) },
  { name: 'a 1 MB global name is not repeated whole', expect: 'ERR_PICKLE_FORMAT', run: () => readPtArchive(pt(), 'x', new PickleBytes().proto().global('os', 'x'.repeat(1 << 20)).stop().bytes()) },
  { name: 'backend lookup of `constructor`', expect: 'ERR_INVALID_ARGUMENT', run: () => selectBackend('constructor') },
];

async function loadEngine(name: string, bytes: Uint8Array): Promise<void> {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  await (await Engine.load(file)).dispose();
}

/** A COCO file of about 80 MB, nearly all of it segmentation polygons. */
function bigCoco(): Buffer {
  const polygon = `[[${Array.from({ length: 2000 }, (_, i) => (i % 640) + 0.25).join(',')}]]`;
  const annotations = Array.from({ length: 6400 }, (_, i) => `{"id":${i + 1},"image_id":1,"category_id":1,"bbox":[1,2,3,4],"area":12,"iscrowd":0,"segmentation":${polygon}}`);
  return Buffer.from(`{"images":[{"id":1,"file_name":"x.jpg","width":640,"height":480}],"categories":[{"id":1,"name":"a"}],"annotations":[${annotations.join(',')}]}`);
}

/** Runs every regression; a case's message is clipped so a whole unbounded input is visible. */
export async function runRegressions(): Promise<RegressionResult[]> {
  const out: RegressionResult[] = [];
  bigCocoBytes = bigCoco();
  manyTensorsBytes = safetensorsHeader(`{${Array.from({ length: MANY_TENSORS }, (_, i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`).join(',')}}`);
  for (const r of REGRESSIONS) {
    const t0 = performance.now();
    let outcome = 'ok';
    let message = '';
    try {
      await r.run();
    } catch (e) {
      outcome = e instanceof NetdefError ? e.code : `untyped ${(e as Error)?.name}`;
      message = String((e as Error)?.message ?? e);
    }
    out.push({ name: r.name, expect: r.expect, outcome, ms: performance.now() - t0, message: message.length > 2000 ? `${message.slice(0, 2000)}… (${message.length} characters)` : message });
  }
  rmSync(dir, { recursive: true, force: true });
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await runRegressions()) console.log(JSON.stringify(r));
}
