/**
 * The native addon's boundary without a GPU: capabilities() says what is missing, building or
 * loading a CUDA engine is a typed error (no crash), and graphs the addon cannot take are typed
 * errors naming the layer. Also the recording of kinds yolov8n does not use (MatMul, Q/DQ, pooling,
 * resize, NMS), and the CUDA engine's refusal of NMS. Needs `npm run build:native` first; a missing
 * addon fails these tests.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, NetdefError } from '../../common/errors.js';
import { type HostTensor, hostTensor } from '../../common/host-tensor.js';
import type { Graph } from '../../dsl/ir/graph.js';
import type { NmsNode } from '../../dsl/ir/node.js';
import { paramRef } from '../../dsl/ir/param.js';
import type { NativeAddon, NativeGraph } from '../../engine/native/addon-types.js';
import { loadNativeAddon, nativeAddonPath, nativeAvailability, toNativeGraph } from '../../engine/native/load.js';
import { REPO_ROOT } from '../data.js';
import { GraphAssembler, randomTensor, rng } from '../onnx/helpers.js';
import { thrownNetdefError } from '../thrown.js';

const rand = rng(5);
const conv = { outChannels: 4, kernel: [1, 1], stride: [1, 1], padding: [0, 0, 0, 0], dilation: [1, 1], groups: 1, bias: null, fold: null, activation: 'silu' } as const;

const nmsFields = { boxCoding: 'corners', maxOutputBoxesPerClass: 5, iouThreshold: 0.45, scoreThreshold: 0.3, topK: 1000 } as const;

/** boxes[batch,6,4], scores[batch,6,3] (float16) -> NMS -> selected, count; `change` edits the NMS node as plain JS. */
function nmsGraph(change: (node: NmsNode) => object = (n) => n): Graph {
  const g = new GraphAssembler();
  const boxes = g.input('boxes', 'float16', ['batch', 6, 4]);
  const scores = g.input('scores', 'float16', ['batch', 6, 3]);
  const node = g.add('NMS', '/nms', nmsFields, [boxes, scores]);
  g.output('selected', node.outputs[0]!);
  g.output('count', node.outputs[1]!);
  return { ...g.graph('nms'), nodes: g.nodes.map((n) => (n === node ? change(node) as NmsNode : n)) };
}

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

  it('records NMS with corner-pair boxes in float16: one addNMS call, int32 indices with a data-dependent row count', () => {
    expect(addon.recordReplay(toNativeGraph(nmsGraph(), new Map()))).toEqual([
      'addInput boxes -> float16[-1,6,4]',
      'addInput scores -> float16[-1,6,3]',
      'addNMS /nms in=boxes,scores box=corner_pairs max_per_class=5 iou=0.45 score=0.3 top_k=1000 -> int32[-1,3], int32[]',
      'markOutput selected in=/nms_output_0 -> int32[-1,3]',
      'markOutput count in=/nms_output_1 -> int32[]',
    ]);
  });

  // The raw addon, so the refusal comes from the replay into the CUDA engine's network, which runs
  // before any device is touched (the wrapper would first check for a CUDA device). An addon built
  // without the engine has no such network to ask.
  it.runIf(loadCaps()?.cudaEngine !== false)('has the CUDA engine refuse NMS with ERR_INVALID_ARGUMENT naming the layer and saying what to use instead', async () => {
    const raw = createRequire(import.meta.url)(nativeAddonPath()) as NativeAddon;
    const e = await raw.buildCudaEngine(toNativeGraph(nmsGraph(), new Map()), { batch: { min: 1, opt: 1, max: 1 } }).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(Error);
    expect((e as { code: string }).code).toBe(ErrorCode.InvalidArgument);
    expect((e as Error).message).toMatch(/^NMS layer '\/nms': the CUDA engine does not implement NMS: .*host \(vision\/nms\.ts.*TensorRT backend/);
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
      ['NMS with an unknown box coding', () => toNativeGraph(nmsGraph((n) => ({ ...n, boxCoding: 'xyxy' })), new Map()),
        /^NMS layer '\/nms': unknown boxCoding 'xyxy' \(corners or centerSizes\)$/],
      ['NMS with a topK beyond TensorRT\'s limit', () => toNativeGraph(nmsGraph((n) => ({ ...n, topK: 5001 })), new Map()),
        /^NMS layer '\/nms': 'topK' must be an integer in \[1, 5000\]/],
      ['NMS with an IoU threshold above 1', () => toNativeGraph(nmsGraph((n) => ({ ...n, iouThreshold: 1.5 })), new Map()),
        /^NMS layer '\/nms': 'iouThreshold' must be in \[0, 1\]$/],
      ['NMS with no boxes per class', () => toNativeGraph(nmsGraph((n) => ({ ...n, maxOutputBoxesPerClass: 0 })), new Map()),
        /^NMS layer '\/nms': 'maxOutputBoxesPerClass' must be an integer in \[1, 2147483647\]/],
      ['NMS with one output', () => toNativeGraph(nmsGraph((n) => ({ ...n, outputs: n.outputs.slice(0, 1) })), new Map()),
        /^NMS layer '\/nms': must have 2 output\(s\), found 1$/],
      ['NMS with int64 indices', () => toNativeGraph(nmsGraph((n) => ({ ...n, outputs: [{ ...n.outputs[0]!, type: { ...n.outputs[0]!.type, dtype: 'int64' } }, n.outputs[1]] })), new Map()),
        /^NMS layer '\/nms': outputs must be int32 \[selected, 3\] and int32 \[\], found int64\[-1,3\] and int32\[\]$/],
      ['NMS reading scores in ONNX\'s [batch, classes, boxes] layout', () => {
        const g = new GraphAssembler();
        const boxes = g.input('boxes', 'float32', ['batch', 6, 4]);
        const scores = g.input('scores', 'float32', ['batch', 3, 6]);
        const valid = nmsGraph().nodes.find((n) => n.kind === 'NMS')!;
        return toNativeGraph({ name: 'g', meta: { model: 'g' }, nodes: [...g.nodes, { ...valid, inputs: [boxes.name, scores.name] }] }, new Map());
      }, /^NMS layer '\/nms': boxes \[-1,6,4\] and scores \[-1,3,6\] must agree on \[batch, boxes\]$/],
    ];
    for (const [what, graph, message] of cases) {
      it(what, () => {
        const e = thrownNetdefError(() => addon.recordReplay(graph()));
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
