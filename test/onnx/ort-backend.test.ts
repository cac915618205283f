/**
 * The onnxruntime backend's contract: availability, input checks before ORT is called (name,
 * dtype, shape with symbolic dims, byte length) as typed errors, a symbolic batch run at several
 * sizes, build errors, and the engine's lifetime (dispose waits for runs in flight, use after
 * dispose is a typed error).
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../common/errors.js';
import { type HostTensor, hostTensor, toFloat32 } from '../../common/host-tensor.js';
import { paramRef } from '../../dsl/ir/param.js';
import { onnxruntimeBackend, OnnxRuntimeRunner } from '../../engine/backends/onnxruntime.js';
import { expectClose, FP32_TOL, GraphAssembler, randomTensor, rng } from './helpers.js';
import * as ref from './reference.js';

const rand = rng(11);

/** images[batch, 2, 4, 4] * scale[batch, 2, 1, 1] -> silu(conv 1x1) */
function graph() {
  const g = new GraphAssembler();
  const x = g.input('images', 'float32', ['batch', 2, 4, 4]);
  const s = g.input('scale', 'float32', ['batch', 2, 1, 1]);
  const m = g.value('ElementWise', '/mul', { op: 'mul' }, [x, s]);
  g.output('output0', g.value('Convolution', '/conv', {
    outChannels: 3, kernel: [1, 1], stride: [1, 1], padding: [0, 0, 0, 0], dilation: [1, 1], groups: 1,
    weight: paramRef('w', [3, 2, 1, 1], 'conv.weight'), bias: null, fold: null, activation: 'silu',
  }, [m]));
  return g.graph('backend-test');
}

const weight = randomTensor([3, 2, 1, 1], rand);
const params = new Map([['w', weight]]);

function inputs(batch: number): Record<string, HostTensor> {
  return { images: randomTensor([batch, 2, 4, 4], rand), scale: randomTensor([batch, 2, 1, 1], rand) };
}

function reference(inp: Record<string, HostTensor>, batch: number): Float32Array {
  const scaled = ref.broadcastBinary(toFloat32(inp.images!), [batch, 2, 4, 4], toFloat32(inp.scale!), [batch, 2, 1, 1], (a, b) => a * b);
  const conv = ref.conv2d({ x: scaled, shape: [batch, 2, 4, 4], w: toFloat32(weight), wShape: [3, 2, 1, 1], bias: null, stride: [1, 1], pad: [0, 0, 0, 0], dilation: [1, 1], groups: 1 });
  return ref.map(conv.data, ref.silu);
}

describe('onnxruntime backend', () => {
  it('is available and named', () => {
    expect(onnxruntimeBackend.name).toBe('onnxruntime');
    expect(onnxruntimeBackend.available()).toEqual({ ok: true });
  });

  it('runs a symbolic batch at sizes 1, 2 and 3 with one engine', async () => {
    const runner = await onnxruntimeBackend.build(graph(), params, { threads: 2 });
    expect(runner.backend).toBe('onnxruntime');
    for (const batch of [1, 2, 3]) {
      const inp = inputs(batch);
      const out = await runner.run(inp);
      expect(out.output0!.shape).toEqual([batch, 3, 4, 4]);
      expectClose(out.output0!, reference(inp, batch), FP32_TOL);
    }
    await runner.dispose();
  });

  it('checks inputs before running, naming the input and what was expected', async () => {
    const runner = await onnxruntimeBackend.build(graph(), params);
    const good = inputs(2);
    const cases: [Record<string, HostTensor>, string][] = [
      [{ ...good, images: randomTensor([2, 2, 4, 5], rand) }, "input 'images': expected float32[batch, 2, 4, 4], found float32[2, 2, 4, 5]"],
      [{ ...good, images: randomTensor([2, 2, 4, 4], rand, 'float16') }, "input 'images': expected float32[batch, 2, 4, 4], found float16[2, 2, 4, 4]"],
      [{ ...good, images: randomTensor([2, 2, 4], rand) }, "input 'images': expected float32[batch, 2, 4, 4], found float32[2, 2, 4]"],
      [{ ...good, scale: randomTensor([3, 2, 1, 1], rand) }, "input 'scale': dimension 'batch' is 3, but input 'images' set it to 2"],
      [{ images: good.images! }, "input 'scale' is missing"],
      [{ ...good, extra: good.scale! }, "unknown input 'extra'; the graph's inputs are 'images', 'scale'"],
      [{ ...good, scale: { dtype: 'float32', shape: [2, 2, 1, 1], data: new Uint8Array(12) } }, "input 'scale': float32[2, 2, 1, 1] needs 16 bytes, found 12"],
      [{ ...good, images: randomTensor([0, 2, 4, 4], rand) }, "input 'images': expected float32[batch, 2, 4, 4], found float32[0, 2, 4, 4]"],
    ];
    for (const [bad, message] of cases) {
      await expect(runner.run(bad)).rejects.toMatchObject({ code: ErrorCode.InvalidArgument, message });
    }
    await runner.dispose();
  });

  it('accepts input bytes at an odd offset', async () => {
    const runner = await onnxruntimeBackend.build(graph(), params);
    const inp = inputs(1);
    const buffer = new Uint8Array(inp.images!.data.byteLength + 1);
    buffer.set(inp.images!.data, 1);
    const shifted = hostTensor('float32', [1, 2, 4, 4], buffer.subarray(1));
    const out = await runner.run({ ...inp, images: shifted });
    expectClose(out.output0!, reference(inp, 1), FP32_TOL);
    await runner.dispose();
  });

  it('reports build problems as typed errors', async () => {
    await expect(onnxruntimeBackend.build(graph(), new Map())).rejects.toMatchObject({ code: ErrorCode.Backend, message: expect.stringContaining("parameter 'w' is missing") });
    await expect(onnxruntimeBackend.build(graph(), params, { threads: -1 })).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
  });

  it('waits for runs in flight on dispose, then refuses new runs', async () => {
    const runner = await onnxruntimeBackend.build(graph(), params);
    expect(runner).toBeInstanceOf(OnnxRuntimeRunner);
    const inp = inputs(2);
    const runs = [runner.run(inp), runner.run(inp), runner.run(inp)];
    const disposed = runner.dispose();
    const results = await Promise.all(runs);
    for (const out of results) expectClose(out.output0!, reference(inp, 2), FP32_TOL);
    await disposed;
    await expect(runner.run(inp)).rejects.toMatchObject({ code: ErrorCode.Backend, message: expect.stringContaining('disposed') });
    await runner.dispose();
  });

  it('exposes the ONNX model it built from', async () => {
    const runner = await onnxruntimeBackend.build(graph(), params);
    expect(runner).toBeInstanceOf(OnnxRuntimeRunner);
    expect((runner as OnnxRuntimeRunner).model.byteLength).toBeGreaterThan(0);
    await (runner as OnnxRuntimeRunner)[Symbol.asyncDispose]();
  });
});
