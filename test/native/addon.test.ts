/**
 * The native addon's boundary without a GPU: capabilities() says what is missing, building or
 * loading a CUDA engine is a typed error (no crash), and graphs the addon cannot take are typed
 * errors naming the layer. Also the recording of kinds yolov8n does not use (MatMul, Q/DQ, pooling,
 * resize). Needs `npm run build:native` first; a missing addon fails these tests.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, NetdefError } from '../../common/errors.js';
import { type HostTensor, hostTensor } from '../../common/host-tensor.js';
import type { Graph } from '../../dsl/ir/graph.js';
import { paramRef } from '../../dsl/ir/param.js';
import type { NativeAddon, NativeGraph } from '../../engine/native/addon-types.js';
import { loadNativeAddon, nativeAddonPath, nativeAvailability, toNativeGraph } from '../../engine/native/load.js';
import { REPO_ROOT } from '../data.js';
import { GraphAssembler, randomTensor, rng } from '../onnx/helpers.js';

const rand = rng(5);
const conv = { outChannels: 4, kernel: [1, 1], stride: [1, 1], padding: [0, 0, 0, 0], dilation: [1, 1], groups: 1, bias: null, fold: null, activation: 'silu' } as const;

/** images[batch,2,4,4] -> conv 1x1 (+silu) -> output0 */
function convGraph(weight = paramRef('w', [4, 2, 1, 1], 'conv.weight')): Graph {
  const g = new GraphAssembler();
  const x = g.input('images', 'float32', ['batch', 2, 4, 4]);
  g.output('output0', g.value('Convolution', '/conv', { ...conv, weight }, [x]));
  return g.graph('conv');
}

const weights = new Map<string, HostTensor>([['w', randomTensor([4, 2, 1, 1], rand)]]);

async function rejection(p: Promise<unknown>): Promise<NetdefError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(NetdefError);
  return e as NetdefError;
}

function thrown(f: () => unknown): NetdefError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(NetdefError);
    return e as NetdefError;
  }
  throw new Error('expected a throw');
}

describe('native addon', () => {
  let addon: NativeAddon;
  beforeAll(() => {
    addon = loadNativeAddon(); // fails with the `npm run build:native` instruction when missing
  });

  it('reports the machine: version, CUDA runtime, and what is missing', () => {
    const caps = addon.capabilities();
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(caps.version).toBe(pkg.version);
    expect(caps.cuda.runtimeVersion).toBeGreaterThanOrEqual(12000);
    expect(caps.cuda.ok).toBe(caps.cuda.devices.length > 0);
    if (!caps.cuda.ok) expect(caps.cuda.reason).toMatch(/no CUDA (driver|device)/);
    if (!caps.cudnn.ok) expect(caps.cudnn.reason).toMatch(/cuDNN/);
  });

  describe.runIf(!loadCaps()?.cuda.ok)('on a machine without a CUDA device', () => {
    it('says so in nativeAvailability()', () => {
      const a = nativeAvailability();
      expect(a.ok).toBe(false);
      expect(!a.ok && a.reason).toMatch(/^no CUDA device: /);
    });

    it('rejects building and loading an engine with ERR_NO_CUDA_DEVICE', async () => {
      const graph = toNativeGraph(convGraph(), weights);
      const built = await rejection(addon.buildCudaEngine(graph, { batch: { min: 1, opt: 1, max: 1 } }));
      expect(built.code).toBe(ErrorCode.NoCudaDevice);
      expect(built.message).toMatch(/graph 'conv': no CUDA device: /);
      expect((await rejection(addon.loadCudaEngine(new Uint8Array(16), {}))).code).toBe(ErrorCode.NoCudaDevice);
    });

    it('has the raw addon reject (not crash) with a coded error too', async () => {
      const raw = createRequire(import.meta.url)(nativeAddonPath()) as NativeAddon;
      const expected = addon.capabilities().cudaEngine ? ErrorCode.NoCudaDevice : ErrorCode.Backend;
      const e = await raw.buildCudaEngine(toNativeGraph(convGraph(), weights), { batch: { min: 1, opt: 1, max: 1 } }).then(() => null, (err: unknown) => err);
      expect(e).toBeInstanceOf(Error);
      expect((e as { code: string }).code).toBe(expected);
      if (expected === ErrorCode.Backend) expect((e as Error).message).toMatch(/^this addon was built without the CUDA engine/);
    });
  });

  it('records kinds yolov8n does not use: pooling, resize, matmul, softmax and a Q/DQ pair', () => {
    const g = new GraphAssembler();
    const x = g.input('x', 'float16', ['batch', 2, 4, 4]);
    const pooled = g.value('Pooling', '/pool', { op: 'average', kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0] }, [x]);
    const up = g.value('Resize', '/up', { mode: 'nearest', scales: [1, 1, 2, 2] }, [pooled]);
    const q = g.value('Quantize', '/q', { scales: [0.5, 0.25], axis: 1, to: 'int8' }, [up]);
    const dq = g.value('Dequantize', '/dq', { scales: [0.5, 0.25], axis: 1, to: 'float16' }, [q]);
    const mm = g.value('MatMul', '/mm', {}, [dq, dq]);
    g.output('y', g.value('Softmax', '/softmax', { axis: -1 }, [mm]));
    expect(addon.recordReplay(toNativeGraph(g.graph('kinds'), new Map()))).toEqual([
      'addInput x -> float16[-1,2,4,4]',
      'addPooling /pool in=x op=average k=2x2 s=2x2 p=0,0,0,0 -> float16[-1,2,2,2]',
      'addResize /up in=/pool_output_0 mode=nearest scales=1,1,2,2 -> float16[-1,2,4,4]',
      'addConstant /q/scale w=/q/scale:float32[2] -> float32[2]',
      'addQuantize /q in=/up_output_0,/q/scale_output_0 axis=1 to=int8 -> int8[-1,2,4,4]',
      'addConstant /dq/scale w=/dq/scale:float32[2] -> float32[2]',
      'addDequantize /dq in=/q_output_0,/dq/scale_output_0 axis=1 to=float16 -> float16[-1,2,4,4]',
      'addMatrixMultiply /mm in=/dq_output_0,/dq_output_0 -> float16[-1,2,4,4]',
      'addSoftmax /softmax in=/mm_output_0 axis=3 -> float16[-1,2,4,4]',
      'markOutput y in=/softmax_output_0 -> float16[-1,2,4,4]',
    ]);
  });

  describe('refuses graphs it cannot take, with ERR_INVALID_ARGUMENT naming the layer', () => {
    const cases: [string, () => NativeGraph, RegExp][] = [
      ['an unknown kind', () => ({ name: 'g', params: {}, nodes: [{ kind: 'Frobnicate', name: '/f', inputs: [], outputs: [] } as never] }),
        /^Frobnicate layer '\/f': unknown node kind 'Frobnicate'$/],
      ['a missing parameter', () => toNativeGraph(convGraph(), new Map()),
        /^Convolution layer '\/conv': parameter 'w' is missing \(not in graph.params and no init\)$/],
      ['a parameter named like an Object property', () => toNativeGraph(convGraph(paramRef('constructor', [4, 2, 1, 1], 'conv.weight')), new Map()),
        /parameter 'constructor' is missing/],
      ['a dtype the native side does not know', () => toNativeGraph(convGraph(), new Map([['w', hostTensor('bfloat16', [4, 2, 1, 1], new Uint8Array(16))]])),
        /^Convolution layer '\/conv': parameter 'w': dtype 'bfloat16' is not supported/],
      ['a parameter of the wrong shape', () => toNativeGraph(convGraph(), new Map([['w', randomTensor([4, 2], rand)]])),
        /parameter 'w': has shape \[4,2\], the layer expects \[4,2,1,1\]/],
      ['parameter bytes that do not fit', () => ({ ...toNativeGraph(convGraph(), weights), params: { w: { dtype: 'float32', shape: [4, 2, 1, 1], data: new Uint8Array(3) } } }),
        /parameter 'w': holds 3 bytes, float32\[4,2,1,1\] needs 32/],
      ['a second symbolic dimension', () => {
        const g = new GraphAssembler();
        g.output('o1', g.input('a', 'float32', ['batch', 2]));
        g.output('o2', g.input('b', 'float32', ['n', 2]));
        return toNativeGraph(g.graph(), new Map());
      }, /^Input layer 'b' output 0: symbolic dimension 'n' besides 'batch'/],
      ['a batch norm left unfolded', () => {
        const g = new GraphAssembler();
        const bn = (n: string) => paramRef(n, [2], 'bn.weight');
        g.output('o', g.value('BatchNorm', '/bn', { eps: 1e-3, gamma: bn('g'), beta: bn('b'), mean: bn('m'), var: bn('v') }, [g.input('x', 'float32', ['batch', 2, 2, 2])]));
        const p = new Map(['g', 'b', 'm', 'v'].map((n) => [n, randomTensor([2], rand)]));
        return toNativeGraph(g.graph(), p);
      }, /^BatchNorm layer '\/bn': fold batch norms before replay/],
      ['something that is not a graph', () => null as never, /^graph: expected an object$/],
    ];
    for (const [what, graph, message] of cases) {
      it(what, () => {
        const e = thrown(() => addon.recordReplay(graph()));
        expect(e.code).toBe(ErrorCode.InvalidArgument);
        expect(e.message).toMatch(message);
      });
    }
  });
});

/** Capabilities for runIf, read at collection time (undefined when the addon is missing: beforeAll then fails). */
function loadCaps() {
  try {
    return loadNativeAddon().capabilities();
  } catch {
    return undefined;
  }
}
