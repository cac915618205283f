/**
 * The GPU pre/postprocessing path from the JS side, without a GPU: runImages' checks before native
 * code (engine/image-run.ts, engine/backends/cuda-runner.ts, with a recording stand-in for the
 * addon's engine), the choice of processing per backend (Detector, CLI: refusals name the option),
 * and detectStream with the GPU letterbox (real workers that only decode, a stand-in engine): the
 * geometry and bytes it hands over, candidates through to the postprocessing, and a per-image
 * failure for an image the letterbox cannot shrink.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../common/errors.js';
import type { Graph } from '../../dsl/ir/graph.js';
import { CudaRunner } from '../../engine/backends/cuda-runner.js';
import { type BatchImage, detectStream, type StreamHost } from '../../engine/detect-stream.js';
import { resolveProcessing } from '../../engine/detector.js';
import type { Engine } from '../../engine/engine.js';
import { type CandidateQuery, type DeviceImage, type ImageRun, checkCandidateQuery, checkDeviceImages } from '../../engine/image-run.js';
import type { NativeCudaEngine, NativeLetterboxImage } from '../../engine/native/addon-types.js';
import { decodeImage, rgbImage } from '../../vision/image.js';
import { letterboxGeometry } from '../../vision/letterbox.js';
import { PreprocessPool } from '../../vision/preprocess/pool.js';
import { netdef } from '../cli/run.js';
import { dataPath } from '../data.js';
import { thrownNetdefError as thrown } from '../thrown.js';

const INPUT = [320, 320] as const;

function image(width: number, height: number, input: readonly [number, number] = INPUT): DeviceImage {
  return { data: new Uint8Array(width * height * 3), width, height, geometry: letterboxGeometry(width, height, { shape: input }) };
}

describe('runImages checks', () => {
  it('accepts images whose geometry fills the input', () => {
    expect(() => checkDeviceImages([image(810, 1080), image(7, 5)], INPUT)).not.toThrow();
  });

  it('refuses, naming the image and what is wrong', () => {
    const good = image(40, 30);
    const cases: [DeviceImage[], RegExp][] = [
      [[], /no images/],
      [[good, { ...good, data: new Uint8Array(10) }], /image 1: data has 10 bytes; 40x30 RGB needs 3600/],
      [[{ ...good, width: 0 }], /image 0: width and height must be integers/],
      [[{ ...good, geometry: letterboxGeometry(41, 30, { shape: INPUT }) }], /image 0: the geometry is for a 41x30 image/],
      [[image(40, 30, [640, 640])], /image 0: letterboxed to 640x640, the engine's input is 320x320/],
      [[{ ...good, geometry: { ...good.geometry, padLeft: good.geometry.padLeft + 1 } }], /does not fill the 320x320 input/],
      [[{ ...good, data: [1, 2] as unknown as Uint8Array }], /data must be a Uint8Array/],
    ];
    for (const [images, message] of cases) {
      const e = thrown(() => checkDeviceImages(images, INPUT));
      expect(e.code).toBe(ErrorCode.InvalidArgument);
      expect(e.message).toMatch(message);
    }
  });

  it('checks the candidate query', () => {
    expect(() => checkCandidateQuery({ conf: 0.25, maxNms: 30000, classes: [0, 2] })).not.toThrow();
    for (const [q, message] of [
      [{ conf: 1.5, maxNms: 1 }, /conf must be in \[0, 1\]/],
      [{ conf: Number.NaN, maxNms: 1 }, /conf must be in \[0, 1\]/],
      [{ conf: 0.5, maxNms: -1 }, /maxNms must be a non-negative integer/],
      [{ conf: 0.5, maxNms: 2.5 }, /maxNms must be a non-negative integer/],
      [{ conf: 0.5, maxNms: 1, classes: [0.5] }, /classes must be an array of integer class ids/],
    ] as [CandidateQuery, RegExp][]) {
      expect(thrown(() => checkCandidateQuery(q)).message).toMatch(message);
    }
  });
});

describe('the cuda runner\'s runImages', () => {
  function fakeNative(): { native: NativeCudaEngine; calls: [readonly NativeLetterboxImage[], unknown][] } {
    const calls: [readonly NativeLetterboxImage[], unknown][] = [];
    const native = {
      runImages: async (images: readonly NativeLetterboxImage[], query: unknown) => {
        calls.push([images, query]);
        return query ? { candidates: { counts: Int32Array.of(0), records: new Uint8Array(0) } }
          : { outputs: { output0: { dtype: 'float32', shape: [1, 84, 2100], data: new Uint8Array(4) } } };
      },
    } as unknown as NativeCudaEngine;
    return { native, calls };
  }
  const io = { nodes: [] } as unknown as Graph;

  it('hands the native engine the geometry it needs, and nothing it has not checked', async () => {
    const { native, calls } = fakeNative();
    const runner = new CudaRunner('cuda', native, io);
    const im = image(810, 1080);
    const out = await runner.runImages([im], INPUT, { conf: 0.25, maxNms: 300, classes: [2] });
    expect(out).toEqual({ candidates: { counts: Int32Array.of(0), records: new Uint8Array(0) } });
    expect(calls[0]![0]).toEqual([{ data: im.data, width: 810, height: 1080, unpadWidth: 240, unpadHeight: 320, padLeft: 40, padTop: 0 }]);
    expect(calls[0]![1]).toEqual({ conf: 0.25, maxNms: 300, classes: [2] });
    const raw = await runner.runImages([im], INPUT);
    expect('outputs' in raw && raw.outputs['output0']!.shape).toEqual([1, 84, 2100]);
    expect(calls[1]![1]).toBeUndefined();
    await expect(runner.runImages([image(10, 10, [640, 640])], INPUT)).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
    await expect(runner.runImages([im], INPUT, { conf: 2, maxNms: 1 })).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
    expect(calls).toHaveLength(2);
  });
});

describe('processing: where letterbox and the candidate pre-filter run', () => {
  it('defaults to the GPU on cuda and the CPU elsewhere, and refuses gpu where it cannot run', () => {
    expect(resolveProcessing(undefined, 'cuda')).toBe('gpu');
    expect(resolveProcessing('cpu', 'cuda')).toBe('cpu');
    expect(resolveProcessing(undefined, 'onnxruntime')).toBe('cpu');
    expect(resolveProcessing(undefined, 'tensorrt')).toBe('cpu');
    expect(thrown(() => resolveProcessing('gpu', 'onnxruntime')).message).toMatch(/processing 'gpu'.*needs the cuda backend/);
    expect(thrown(() => resolveProcessing('fast' as 'gpu', 'cuda')).message).toMatch(/processing must be 'gpu' or 'cpu'/);
  });

  it('is refused by the CLI where it cannot run, naming the option', async () => {
    const bus = dataPath('images', 'bus.jpg');
    const weights = dataPath('weights', 'yolov8n.pt');
    const bad = await netdef('detect', bus, '--weights', weights, '--processing', 'fast', '--no-save');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--processing must be gpu or cpu');
    const cpuBackend = await netdef('detect', bus, '--weights', weights, '--processing', 'gpu', '--no-save');
    expect(cpuBackend.code).toBe(1);
    expect(cpuBackend.stderr).toMatch(/processing 'gpu'.*needs the cuda backend/);
  });
});

describe('detectStream with the GPU letterbox', () => {
  const pool = new PreprocessPool(2);
  afterAll(() => pool.close());
  const BUS = dataPath('images', 'bus.jpg');
  const ZIDANE = dataPath('images', 'zidane.jpg');

  function deviceHost(query?: CandidateQuery): { host: StreamHost; seen: DeviceImage[][]; queries: unknown[] } {
    const seen: DeviceImage[][] = [];
    const queries: unknown[] = [];
    const engine = {
      metadata: {},
      run: async () => { throw new Error('the GPU path must not call run()'); },
      runImages: async (images: readonly DeviceImage[], q?: CandidateQuery): Promise<ImageRun> => {
        seen.push([...images]);
        queries.push(q);
        return { candidates: { counts: new Int32Array(images.length), records: new Uint8Array(0) } };
      },
    } as unknown as Engine;
    const host: StreamHost = { pool, square: INPUT, rect: true, inputDType: 'float32', device: query ? { candidates: query } : {}, engineFor: async () => engine };
    return { host, seen, queries };
  }

  it('hands over decoded bytes and the letterbox geometry (rect for one size, square for mixed), and candidates to post', async () => {
    const query = { conf: 0.3, maxNms: 100 };
    const { host, seen, queries } = deviceHost(query);
    const posted: string[] = [];
    const post = (r: ImageRun, _e: Engine, images: readonly BatchImage[]): string[] => {
      posted.push('candidates' in r ? `candidates x${r.candidates.counts.length}` : 'outputs');
      return images.map((im) => `${im.width}x${im.height}@${im.geometry.width}x${im.geometry.height}`);
    };
    const out: string[] = [];
    for await (const item of detectStream(host, [BUS, ZIDANE, ZIDANE], 2, 2, post)) out.push(item.error ? `error:${item.error.code}` : item.result!);
    expect(out).toEqual(['810x1080@320x320', '1280x720@320x320', '1280x720@320x192']);
    expect(posted).toEqual(['candidates x2', 'candidates x1']);
    expect(queries).toEqual([query, query]);
    const bus = await decodeImage(BUS);
    expect(seen[0]![0]!.data).toEqual(bus.data);
    expect(seen[0]![0]!.geometry).toEqual(letterboxGeometry(810, 1080, { shape: INPUT, auto: false }));
    expect(seen[1]![0]!.geometry).toEqual(letterboxGeometry(1280, 720, { shape: INPUT, auto: true }));
  });

  it('fails only the image that the letterbox cannot shrink, as the CPU letterbox does', async () => {
    const { host, seen } = deviceHost();
    const thin = rgbImage(2000, 1, new Uint8Array(6000), 'thin');
    const out: string[] = [];
    const post = (_r: ImageRun, _e: Engine, images: readonly BatchImage[]): string[] => images.map((im) => im.path);
    for await (const item of detectStream(host, [thin, BUS], 2, 2, post)) out.push(item.error ? `error:${item.error.code}` : item.result!);
    expect(out).toEqual([`error:${ErrorCode.InvalidArgument}`, BUS]);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toHaveLength(1);
  });
});
