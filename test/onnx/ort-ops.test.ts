/**
 * Each exported operator run by ONNX Runtime (CPU) and compared with a naive CPU reference written
 * here (test/onnx/reference.ts), in float32 with tolerance 1e-5. Inputs use a symbolic batch run
 * at batch 2 wherever the layer allows it.
 */
import { describe, expect, it } from 'vitest';
import { fromFloat32, type HostTensor, toFloat32 } from '../../common/host-tensor.js';
import { paramRef } from '../../dsl/ir/param.js';
import type { ElementWiseOp } from '../../dsl/ir/nodes/element-wise.js';
import { expectClose, FP32_TOL, GraphAssembler, randomTensor, rng, runOnOrt } from './helpers.js';
import * as ref from './reference.js';

const rand = rng(42);
const NO_PARAMS = new Map<string, HostTensor>();

describe('onnxruntime backend: operators against CPU references (fp32)', () => {
  it('Convolution (stride, asymmetric padding, groups, dilation) with fused SiLU, then ReLU and Sigmoid', async () => {
    const g = new GraphAssembler();
    const x = g.input('images', 'float32', ['batch', 4, 9, 7]);
    const convFields = {
      outChannels: 6, kernel: [3, 3] as const, stride: [2, 1] as const, padding: [1, 0, 2, 1] as const, dilation: [1, 2] as const, groups: 2,
      weight: paramRef('c.weight', [6, 2, 3, 3], 'conv.weight'), bias: paramRef('c.bias', [6], 'conv.bias'), fold: null,
    };
    const y = g.value('Convolution', '/conv', { ...convFields, activation: 'silu' }, [x]);
    g.output('silu', y);
    g.output('relu', g.value('Activation', '/relu', { op: 'relu' }, [y]));
    g.output('sigmoid', g.value('Activation', '/sigmoid', { op: 'sigmoid' }, [y]));
    const w = randomTensor([6, 2, 3, 3], rand);
    const b = randomTensor([6], rand);
    const input = randomTensor([2, 4, 9, 7], rand);
    const out = await runOnOrt(g.graph(), new Map([['c.weight', w], ['c.bias', b]]), { images: input });

    const conv = ref.conv2d({
      x: toFloat32(input), shape: [2, 4, 9, 7], w: toFloat32(w), wShape: [6, 2, 3, 3], bias: toFloat32(b),
      stride: convFields.stride, pad: convFields.padding, dilation: convFields.dilation, groups: 2,
    });
    const silu = ref.map(conv.data, ref.silu);
    expect(out.silu!.shape).toEqual(conv.shape);
    expectClose(out.silu!, silu, FP32_TOL);
    expectClose(out.relu!, ref.map(silu, ref.relu), FP32_TOL);
    expectClose(out.sigmoid!, ref.map(silu, ref.sigmoid), FP32_TOL);
  });

  it('BatchNorm', async () => {
    const g = new GraphAssembler();
    const x = g.input('x', 'float32', ['batch', 3, 2, 2]);
    const p = (n: string, role: 'bn.weight' | 'bn.bias' | 'bn.mean' | 'bn.var') => paramRef(`bn.${n}`, [3], role);
    g.output('y', g.value('BatchNorm', '/bn', { eps: 1e-3, gamma: p('weight', 'bn.weight'), beta: p('bias', 'bn.bias'), mean: p('mean', 'bn.mean'), var: p('var', 'bn.var') }, [x]));
    const params = new Map([
      ['bn.weight', randomTensor([3], rand)], ['bn.bias', randomTensor([3], rand)],
      ['bn.mean', randomTensor([3], rand)], ['bn.var', randomTensor([3], rand, 'float32', 0.5, 2)],
    ]);
    const input = randomTensor([2, 3, 2, 2], rand);
    const out = await runOnOrt(g.graph(), params, { x: input });
    const [gamma, beta, mean, variance] = ['weight', 'bias', 'mean', 'var'].map((n) => toFloat32(params.get(`bn.${n}`)!));
    const xs = toFloat32(input);
    const expected = xs.map((v, i) => {
      const c = Math.floor(i / 4) % 3;
      return ((v - mean![c]!) / Math.sqrt(variance![c]! + 1e-3)) * gamma![c]! + beta![c]!;
    });
    expectClose(out.y!, expected, FP32_TOL);
  });

  it('Split and Concat', async () => {
    const g = new GraphAssembler();
    const x = g.input('x', 'float32', ['batch', 6, 2, 2]);
    const split = g.add('Split', '/split', { axis: 1, sizes: [1, 2, 3] }, [x]);
    const [a, b, c] = split.outputs;
    g.output('cat', g.value('Concat', '/cat', { axis: 1 }, [c!, a!]));
    g.output('mid', b!);
    const input = randomTensor([2, 6, 2, 2], rand);
    const out = await runOnOrt(g.graph(), NO_PARAMS, { x: input });
    const xs = toFloat32(input);
    const channels = (batch: number, from: number, to: number) => xs.slice((batch * 6 + from) * 4, (batch * 6 + to) * 4);
    const cat = Float32Array.from([0, 1].flatMap((n) => [...channels(n, 3, 6), ...channels(n, 0, 1)]));
    expect(out.cat!.shape).toEqual([2, 4, 2, 2]);
    expectClose(out.cat!, cat, FP32_TOL);
    expectClose(out.mid!, Float32Array.from([0, 1].flatMap((n) => [...channels(n, 1, 3)])), FP32_TOL);
  });

  it('Shuffle: reshape keeping and moving the symbolic batch, then transpose', async () => {
    const g = new GraphAssembler();
    const x = g.input('x', 'float32', ['batch', 2, 3, 4]);
    const flat = g.value('Shuffle', '/flat', { reshape: ['batch', 2, 12], perm: [0, 2, 1] }, [x]);
    g.output('flat', flat);
    g.output('moved', g.value('Shuffle', '/moved', { reshape: [24, 'batch'], perm: null }, [flat]));
    g.output('perm', g.value('Shuffle', '/perm', { reshape: null, perm: [3, 1, 0, 2] }, [x]));
    const input = randomTensor([2, 2, 3, 4], rand);
    const out = await runOnOrt(g.graph(), NO_PARAMS, { x: input });
    const xs = toFloat32(input);
    const flatRef = ref.transpose(xs, [2, 2, 12], [0, 2, 1]);
    expect(out.flat!.shape).toEqual([2, 12, 2]);
    expectClose(out.flat!, flatRef, FP32_TOL);
    expect(out.moved!.shape).toEqual([24, 2]);
    expectClose(out.moved!, flatRef, FP32_TOL);
    expect(out.perm!.shape).toEqual([4, 2, 2, 3]);
    expectClose(out.perm!, ref.transpose(xs, [2, 2, 3, 4], [3, 1, 0, 2]), FP32_TOL);
  });

  it('Resize nearest x2 (PyTorch Upsample semantics)', async () => {
    const g = new GraphAssembler();
    const x = g.input('x', 'float32', ['batch', 2, 3, 5]);
    g.output('y', g.value('Resize', '/up', { mode: 'nearest', scales: [1, 1, 2, 3] }, [x]));
    const input = randomTensor([2, 2, 3, 5], rand);
    const out = await runOnOrt(g.graph(), NO_PARAMS, { x: input });
    expect(out.y!.shape).toEqual([2, 2, 6, 15]);
    expectClose(out.y!, ref.upsampleNearest(toFloat32(input), [2, 2, 3, 5], 2, 3), FP32_TOL);
  });

  it('Pooling: max and average with padding (average counts padded cells)', async () => {
    const g = new GraphAssembler();
    const x = g.input('x', 'float32', ['batch', 3, 7, 6]);
    const pad = [2, 1, 2, 0] as const;
    g.output('max', g.value('Pooling', '/max', { op: 'max', kernel: [5, 3], stride: [1, 2], padding: pad }, [x]));
    g.output('avg', g.value('Pooling', '/avg', { op: 'average', kernel: [5, 3], stride: [1, 2], padding: pad }, [x]));
    const input = randomTensor([2, 3, 7, 6], rand, 'float32', -2, -1);
    const out = await runOnOrt(g.graph(), NO_PARAMS, { x: input });
    const max = ref.pool2d(toFloat32(input), [2, 3, 7, 6], 'max', [5, 3], [1, 2], pad);
    expect(out.max!.shape).toEqual(max.shape);
    expectClose(out.max!, max.data, FP32_TOL);
    expectClose(out.avg!, ref.pool2d(toFloat32(input), [2, 3, 7, 6], 'average', [5, 3], [1, 2], pad).data, FP32_TOL);
  });

  it('Softmax over axis 1', async () => {
    const g = new GraphAssembler();
    const x = g.input('x', 'float32', ['batch', 16, 5]);
    g.output('y', g.value('Softmax', '/softmax', { axis: 1 }, [x]));
    const input = randomTensor([2, 16, 5], rand, 'float32', -4, 4);
    const out = await runOnOrt(g.graph(), NO_PARAMS, { x: input });
    expectClose(out.y!, ref.softmax(toFloat32(input), 2, 16, 5), FP32_TOL);
  });

  it('ElementWise ops broadcasting a Constant', async () => {
    const ops: Record<ElementWiseOp, (a: number, b: number) => number> = {
      add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b, max: Math.max, min: Math.min,
    };
    const g = new GraphAssembler();
    const x = g.input('x', 'float32', ['batch', 3, 2, 2]);
    const constant = randomTensor([3, 1, 1], rand, 'float32', 0.5, 1.5);
    const c = g.value('Constant', '/c', { value: constant });
    for (const op of Object.keys(ops) as ElementWiseOp[]) g.output(op, g.value('ElementWise', `/${op}`, { op }, [x, c]));
    const input = randomTensor([2, 3, 2, 2], rand);
    const out = await runOnOrt(g.graph(), NO_PARAMS, { x: input });
    for (const [op, f] of Object.entries(ops)) {
      expect(out[op]!.shape).toEqual([2, 3, 2, 2]);
      expectClose(out[op]!, ref.broadcastBinary(toFloat32(input), [2, 3, 2, 2], toFloat32(constant), [3, 1, 1], f), FP32_TOL);
    }
  });

  it('MatMul with a batched left side', async () => {
    const g = new GraphAssembler();
    const x = g.input('x', 'float32', ['batch', 4, 5]);
    const weights = randomTensor([5, 3], rand);
    g.output('y', g.value('MatMul', '/mm', {}, [x, g.value('Constant', '/w', { value: weights })]));
    const input = randomTensor([2, 4, 5], rand);
    const out = await runOnOrt(g.graph(), NO_PARAMS, { x: input });
    expect(out.y!.shape).toEqual([2, 4, 3]);
    expectClose(out.y!, ref.matmul(toFloat32(input), 2, 4, 5, toFloat32(weights), 3), FP32_TOL);
  });

  it('Input passed straight to an Output, and one tensor to two Outputs', async () => {
    const g = new GraphAssembler();
    const x = g.input('x', 'float32', [2, 2]);
    g.output('a', x);
    g.output('b', x);
    const input = fromFloat32(new Float32Array([1, 2, 3, 4]), [2, 2]);
    const out = await runOnOrt(g.graph(), NO_PARAMS, { x: input });
    expect(Array.from(toFloat32(out.a!))).toEqual([1, 2, 3, 4]);
    expect(Array.from(toFloat32(out.b!))).toEqual([1, 2, 3, 4]);
  });
});
