/**
 * The batched pipeline (engine/detect-stream.ts) with real preprocessing workers and a recording
 * stand-in for the engine: input order kept across batches and failures, Ultralytics' batch shape
 * rule, bounded look-ahead on an endless source, engine errors reported per image.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, NetdefError } from '../../common/errors.js';
import { hostTensor, type HostTensor } from '../../common/host-tensor.js';
import { detectStream, type BatchImage, type ImageInput, type StreamHost } from '../../engine/detect-stream.js';
import { lookaheadBatches } from '../../engine/detector.js';
import type { Engine } from '../../engine/engine.js';
import type { ImageRun } from '../../engine/image-run.js';
import { rgbImage } from '../../vision/image.js';
import { PreprocessPool } from '../../vision/preprocess/pool.js';
import { dataPath } from '../data.js';

const pool = new PreprocessPool(2);
afterAll(() => pool.close());

const SQUARE = [320, 320] as const;
const BUS = dataPath('images', 'bus.jpg'); // 810x1080
const ZIDANE = dataPath('images', 'zidane.jpg'); // 1280x720

/** An engine stand-in that records the input shapes it ran and answers one number per image. */
function fakeHost(rect: boolean, failRun = false): { host: StreamHost; runs: number[][] } {
  const runs: number[][] = [];
  const engine = {
    metadata: {},
    run: async (inputs: Record<string, HostTensor>) => {
      const shape = [...inputs['images']!.shape];
      runs.push(shape);
      if (failRun) throw new NetdefError(ErrorCode.InvalidArgument, 'engine refused the batch');
      return { output0: hostTensor('float32', [shape[0]!], new Uint8Array(4 * shape[0]!)) };
    },
  } as unknown as Engine;
  return { runs, host: { pool, square: SQUARE, rect, inputDType: 'float32', engineFor: async () => engine } };
}

const describeBatch = (_o: ImageRun, _e: Engine, images: readonly BatchImage[]): string[] => images.map((im) => `${im.width}x${im.height}@${im.geometry.width}x${im.geometry.height}`);

async function collect(host: StreamHost, sources: ImageInput[], batch: number): Promise<string[]> {
  const out: string[] = [];
  for await (const item of detectStream(host, sources, batch, 2, describeBatch)) out.push(item.error ? `error:${item.error.code}` : item.result!);
  return out;
}

describe('detectStream', () => {
  it('keeps input order across batches, with a broken image reported at its place', async () => {
    const { host, runs } = fakeHost(true);
    const broken = new Uint8Array([0xff, 0xd8, 0xff, 0x00, 1, 2, 3]);
    const out = await collect(host, [BUS, ZIDANE, broken, BUS, ZIDANE], 2);
    // Batch 1 mixes sizes: the square. Batch 2 has one live image: rect. Batch 3 (one image): rect.
    expect(out).toEqual(['810x1080@320x320', '1280x720@320x320', 'error:ERR_IMAGE_DECODE', '810x1080@256x320', '1280x720@320x192']);
    expect(runs).toEqual([[2, 3, 320, 320], [1, 3, 320, 256], [1, 3, 192, 320]]);
  });

  it('letterboxes a batch of one image size to its minimal rectangle, as Ultralytics\' predictor', async () => {
    const { host, runs } = fakeHost(true);
    expect(await collect(host, [ZIDANE, ZIDANE, ZIDANE], 3)).toEqual(Array(3).fill('1280x720@320x192'));
    expect(runs).toEqual([[3, 3, 192, 320]]);
    const square = fakeHost(false);
    expect(await collect(square.host, [ZIDANE, ZIDANE], 2)).toEqual(Array(2).fill('1280x720@320x320'));
  });

  it('takes encoded buffers and decoded images as sources', async () => {
    const { host } = fakeHost(true);
    const pixels = rgbImage(64, 32, new Uint8Array(64 * 32 * 3).fill(200), 'gray');
    expect(await collect(host, [readFileSync(BUS), pixels], 1)).toEqual(['810x1080@256x320', '64x32@320x160']);
  });

  it('reads an endless source only a bounded way ahead of the consumer', async () => {
    const { host } = fakeHost(false);
    let pulled = 0;
    function* endless(): Generator<ImageInput> {
      for (;;) {
        pulled++;
        yield rgbImage(32, 32, new Uint8Array(32 * 32 * 3), `frame ${pulled}`);
      }
    }
    let consumed = 0;
    const batch = 4;
    const lookahead = 2;
    for await (const item of detectStream(host, endless(), batch, lookahead, describeBatch)) {
      expect(item.error).toBeUndefined();
      consumed++;
      // At most the look-ahead batches, the batch being finished and the one being pulled.
      expect(pulled - consumed).toBeLessThanOrEqual((lookahead + 2) * batch);
      if (consumed === 40) break;
    }
    expect(pulled).toBeLessThanOrEqual(40 + (lookahead + 2) * batch);
  });

  it('reports an engine refusal on every image of the batch and goes on', async () => {
    const { host } = fakeHost(true, true);
    expect(await collect(host, [BUS, ZIDANE, BUS], 2)).toEqual(Array(3).fill(`error:${ErrorCode.InvalidArgument}`));
  });

  it('stops on a backend failure instead of reporting it per image', async () => {
    const { host } = fakeHost(true);
    const failing: StreamHost = { ...host, engineFor: () => Promise.reject(new NetdefError(ErrorCode.Backend, 'device lost')) };
    await expect(collect(failing, [BUS], 1)).rejects.toMatchObject({ code: ErrorCode.Backend });
  });
});

describe('lookaheadBatches', () => {
  it('keeps three batches in flight, or enough small batches for two images per worker', () => {
    expect(lookaheadBatches(32, 8)).toBe(3);
    expect(lookaheadBatches(4, 8)).toBe(4);
    expect(lookaheadBatches(1, 8)).toBe(16);
    expect(lookaheadBatches(1, 1)).toBe(3);
    expect(lookaheadBatches(3, 8)).toBe(6);
  });
});
