/**
 * Precision regions on the onnxruntime backend: an fp16 region between Casts (Conv+SiLU, MaxPool,
 * Resize, Add in float16 with float16 weights) compared with a reference that rounds every tensor
 * to fp16 (tolerance 1e-2 relative), float16 graph inputs/outputs, and Quantize -> Dequantize pairs
 * (per tensor and per channel, int8 exposed as an output) compared exactly with ONNX's rounding.
 */
import { describe, expect, it } from 'vitest';
import { floatToHalf, halfToFloat } from '../../common/dtype.js';
import { type HostTensor, toFloat32 } from '../../common/host-tensor.js';
import { paramRef } from '../../dsl/ir/param.js';
import { expectClose, GraphAssembler, randomTensor, rng, runOnOrt } from './helpers.js';
import * as ref from './reference.js';

const rand = rng(7);
const FP16_TOL = { atol: 2e-3, rtol: 1e-2 };

/** Rounds every element to the nearest float16. */
function toHalf(x: Float32Array): Float32Array {
  return x.map((v) => halfToFloat(floatToHalf(v)));
}

function fp16Region(outputDtype: 'float32' | 'float16') {
  const g = new GraphAssembler();
  const x = g.input('images', 'float32', ['batch', 3, 8, 8]);
  const h = g.value('Cast', '/to_fp16', { to: 'float16' }, [x]);
  const conv = g.value('Convolution', '/model.0/conv/Conv', {
    outChannels: 4, kernel: [3, 3], stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1,
    weight: paramRef('w', [4, 3, 3, 3], 'conv.weight'), bias: paramRef('b', [4], 'conv.bias'), fold: null, activation: 'silu',
  }, [h]);
  const pooled = g.value('Pooling', '/pool', { op: 'max', kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0] }, [conv]);
  const up = g.value('Resize', '/up', { mode: 'nearest', scales: [1, 1, 2, 2] }, [pooled]);
  const sum = g.value('ElementWise', '/add', { op: 'add' }, [up, conv]);
  g.output('output0', outputDtype === 'float32' ? g.value('Cast', '/to_fp32', { to: 'float32' }, [sum]) : sum);
  return g.graph();
}

/** The fp16 region's reference: each tensor rounded to fp16, arithmetic in float32. */
function fp16Reference(input: HostTensor, w: HostTensor, b: HostTensor): Float32Array {
  const conv = ref.conv2d({
    x: toHalf(toFloat32(input)), shape: [2, 3, 8, 8], w: toFloat32(w), wShape: [4, 3, 3, 3], bias: toFloat32(b),
    stride: [1, 1], pad: [1, 1, 1, 1], dilation: [1, 1], groups: 1,
  });
  const pre = toHalf(conv.data);
  const act = toHalf(pre.map((v, i) => v * halfToFloat(floatToHalf(ref.sigmoid(pre[i]!)))));
  const pooled = ref.pool2d(act, [2, 4, 8, 8], 'max', [2, 2], [2, 2], [0, 0, 0, 0]).data;
  const up = ref.upsampleNearest(pooled, [2, 4, 4, 4], 2, 2);
  return toHalf(up.map((v, i) => v + act[i]!));
}

describe('onnxruntime backend: precision', () => {
  const w = randomTensor([4, 3, 3, 3], rand, 'float16');
  const b = randomTensor([4], rand, 'float16');
  const params = new Map([['w', w], ['b', b]]);
  const input = randomTensor([2, 3, 8, 8], rand);

  it('runs an fp16 region between Casts within 1e-2 of an fp16 reference', async () => {
    const out = await runOnOrt(fp16Region('float32'), params, { images: input });
    expect(out.output0!.dtype).toBe('float32');
    expect(out.output0!.shape).toEqual([2, 4, 8, 8]);
    expectClose(out.output0!, fp16Reference(input, w, b), FP16_TOL);
  });

  it('returns a float16 graph output as float16 bytes', async () => {
    const out = await runOnOrt(fp16Region('float16'), params, { images: input });
    expect(out.output0!.dtype).toBe('float16');
    expect(out.output0!.data.byteLength).toBe(2 * 4 * 8 * 8 * 2);
    expectClose(out.output0!, fp16Reference(input, w, b), FP16_TOL);
  });

  it('refuses fp32 weights for an fp16 convolution', async () => {
    const fp32 = new Map([['w', randomTensor([4, 3, 3, 3], rand)], ['b', b]]);
    await expect(runOnOrt(fp16Region('float32'), fp32, { images: input })).rejects.toMatchObject({ code: 'ERR_BACKEND', message: expect.stringContaining("'w' must be float16") });
  });

  it('quantizes per tensor (round half to even, saturating) and dequantizes', async () => {
    const g = new GraphAssembler();
    const x = g.input('x', 'float32', ['batch', 4, 3]);
    const q = g.value('Quantize', '/q', { to: 'int8', scales: [0.05], axis: null }, [x]);
    g.output('q', q);
    g.output('y', g.value('Dequantize', '/dq', { to: 'float32', scales: [0.05], axis: null }, [q]));
    const xs = randomTensor([2, 4, 3], rand, 'float32', -8, 8);
    const out = await runOnOrt(g.graph(), new Map(), { x: xs });
    const s = Math.fround(0.05);
    const qRef = toFloat32(xs).map((v) => Math.min(127, Math.max(-128, ref.roundHalfEven(Math.fround(v / s)))));
    expect(out.q!.dtype).toBe('int8');
    expect(Array.from(new Int8Array(out.q!.data.buffer, out.q!.data.byteOffset, 24))).toEqual(Array.from(qRef));
    expect(qRef.some((v) => v === 127) && qRef.some((v) => v === -128)).toBe(true);
    expectClose(out.y!, qRef.map((v) => Math.fround(v * s)), { atol: 0, rtol: 0 });
  });

  it('quantizes per channel from float16 and dequantizes to float16', async () => {
    const scales = [0.01, 0.02, 0.05, 0.1];
    const g = new GraphAssembler();
    const x = g.input('x', 'float16', ['batch', 4, 3]);
    const q = g.value('Quantize', '/q', { to: 'int8', scales, axis: 1 }, [x]);
    g.output('y', g.value('Dequantize', '/dq', { to: 'float16', scales, axis: 1 }, [q]));
    const xs = randomTensor([2, 4, 3], rand, 'float16', -3, 3);
    const out = await runOnOrt(g.graph(), new Map(), { x: xs });
    const expected = toFloat32(xs).map((v, i) => {
      const s = Math.fround(scales[Math.floor(i / 3) % 4]!);
      const qv = Math.min(127, Math.max(-128, ref.roundHalfEven(Math.fround(v / s))));
      return halfToFloat(floatToHalf(Math.fround(qv * s)));
    });
    expect(out.y!.dtype).toBe('float16');
    expectClose(out.y!, expected, { atol: 0, rtol: 0 });
  });
});
