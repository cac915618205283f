/**
 * The int8 pass (dsl/passes/quantize-int8.ts) on YOLOv8's graph and on a one-convolution graph:
 * where Quantize nodes go, which layers move int8 data, shared scales, the errors for a missing or
 * foreign calibration, and the ONNX Runtime int8 path: real integer convolutions (ConvInteger in
 * the optimized model), whose results equal an int32 reference computed here.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type * as OrtModule from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { toFloat32 } from '../../common/host-tensor.js';
import { exportOnnx } from '../../dsl/onnx/export.js';
import { decodeModel } from '../../dsl/onnx/proto.js';
import { POLICY_PRESETS } from '../../dsl/precision/presets.js';
import { type Graph } from '../../dsl/ir/graph.js';
import { verifyGraph } from '../../dsl/ir/verify.js';
import type { ConvolutionNode, QuantizeNode } from '../../dsl/ir/node.js';
import { applyPrecision } from '../../dsl/passes/apply-precision.js';
import { foldBatchNorm } from '../../dsl/passes/fold-batch-norm.js';
import { quantizeInt8 } from '../../dsl/passes/quantize-int8.js';
import { parsePolicy } from '../../dsl/precision/policy.js';
import { type Calibration, writeCalibration } from '../../engine/calibrate/calibration-file.js';
import { graphDigest } from '../../engine/calibrate/probes.js';
import { Engine } from '../../engine/engine.js';
import { prepareModel } from '../../engine/prepare.js';
import { buildYolov8 } from '../../models/yolov8/model.js';
import { materializeParams } from '../../weights/bind.js';
import { randomWeights } from '../../weights/random.js';
import { quantizeValue, weightScaleName } from '../../weights/quantize.js';
import { netdef } from '../cli/run.js';
import { fakeRanges } from './fake-ranges.js';
import { dataPath } from '../data.js';
import { writePerturbed } from '../engine/perturb.js';
import { letterbox } from '../images.js';
import { GraphAssembler, randomTensor, rng } from '../onnx/helpers.js';

const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof OrtModule;


function yolo(policyText: string): { typed: Graph; quantized: Graph } {
  const folded = foldBatchNorm(buildYolov8({ scale: 'n', nc: 80 }));
  const policy = parsePolicy(policyText);
  const typed = applyPrecision(folded, policy);
  return { typed, quantized: verifyGraph(quantizeInt8(typed, policy, { source: 'test', amax: fakeRanges(folded) })) };
}

describe('the int8 pass on yolov8n', () => {
  it('quantizes every int8 convolution\'s input once per tensor and keeps fp16 layers as they were', () => {
    const { quantized } = yolo(POLICY_PRESETS.get('int8-mixed')!);
    const convs = quantized.nodes.filter((n): n is ConvolutionNode => n.kind === 'Convolution');
    expect(convs.filter((c) => c.quant)).toHaveLength(61);
    for (const name of ['/model.0/conv/Conv', '/model.1/conv/Conv', '/model.22/dfl/conv/Conv']) {
      const c = convs.find((n) => n.name === name)!;
      expect(c.quant).toBeUndefined();
      expect(c.outputs[0]!.type.dtype).toBe('float16');
    }
    const quantizes = quantized.nodes.filter((n) => n.kind === 'Quantize');
    expect(new Set(quantizes.map((q) => q.inputs[0])).size).toBe(quantizes.length);
    expect(quantizes.map((q) => q.name)).toContain('/model.1/act/Silu/Quantize'); // the fp16 output entering int8 is quantized directly
  });

  it('runs SPPF\'s max pools, the neck\'s resizes and concats on int8, with one scale per concat', () => {
    const { quantized } = yolo('*:int8');
    const dtype = (name: string) => quantized.nodes.find((n) => n.name === name)!.outputs[0]!.type.dtype;
    for (const name of ['/model.9/m/MaxPool', '/model.9/m_2/MaxPool', '/model.9/Concat', '/model.10/Resize', '/model.11/Concat', '/model.12/Split']) {
      expect(dtype(name), name).toBe('int8');
    }
    // A C2f with a shortcut adds its split output to a convolution's as int8 data: that split runs on int8 too.
    expect(dtype('/model.2/Split')).toBe('int8');
    const producers = new Map(quantized.nodes.flatMap((n) => n.outputs.map((o) => [o.name, n] as const)));
    for (const concat of quantized.nodes.filter((n) => n.kind === 'Concat' && n.outputs[0]!.type.dtype === 'int8')) {
      const scales = concat.inputs.map((i) => scaleOf(producers, i));
      expect(new Set(scales).size, concat.name).toBe(1);
    }
  });

  it('has each Bottleneck add read its shortcut as int8 through the Quantize the int8 layers share', () => {
    for (const policy of ['*:int8', POLICY_PRESETS.get('int8-mixed')!]) {
      const { quantized } = yolo(policy);
      const producers = new Map(quantized.nodes.flatMap((n) => n.outputs.map((o) => [o.name, n] as const)));
      const adds = quantized.nodes.filter((n) => n.kind === 'ElementWise' && /\/m\.\d+\/Add$/.test(n.name));
      expect(adds.map((a) => a.name), policy).toEqual(['/model.2/m.0/Add', '/model.4/m.0/Add', '/model.4/m.1/Add', '/model.6/m.0/Add', '/model.6/m.1/Add', '/model.8/m.0/Add']);
      for (const add of adds) {
        // x + cv2(cv1(x)) (Ultralytics' order): the shortcut dequantized from an int8 tensor, then cv2's SiLU output.
        const [shortcut, conv] = add.inputs.map((i) => producers.get(i)!);
        expect(conv!.kind, add.name).toBe('Activation');
        expect(shortcut, add.name).toMatchObject({ kind: 'Dequantize', name: `${add.name}/Dequantize`, to: 'float32' });
        const q = shortcut!.inputs[0]!;
        expect(producers.get(q)!.outputs[0]!.type.dtype).toBe('int8');
        // The int8 tensor the add reads is the one the Bottleneck's cv1 reads.
        const cv1 = quantized.nodes.find((n) => n.name === add.name.replace(/Add$/, 'cv1/conv/Conv'))!;
        expect(cv1.inputs[0], add.name).toBe(q);
        expect((shortcut as unknown as QuantizeNode).scales[0]).toBe(scaleOf(producers, q));
      }
    }
  });

  it('names every tensor a calibration lacks, and refuses an int8 policy without one', async () => {
    const folded = foldBatchNorm(buildYolov8({ scale: 'n', nc: 80 }));
    const policy = parsePolicy('*:int8');
    const amax = fakeRanges(folded);
    amax.delete('/model.9/m/MaxPool_output_0');
    expect(() => quantizeInt8(applyPrecision(folded, policy), policy, { source: 'cal.json', amax }))
      .toThrow(expect.objectContaining({ code: 'ERR_CALIBRATION', message: expect.stringContaining("/model.9/m/MaxPool_output_0") }) as Error);
    await expect(prepareModel({ model: 'yolov8n', policy })).rejects.toMatchObject({ code: 'ERR_CALIBRATION', message: expect.stringContaining('netdef calibrate') });
  });

  it('refuses a calibration made for another graph or other weights', async () => {
    const weights = dataPath('weights', 'yolov8n.pt');
    const folded = foldBatchNorm(buildYolov8({ scale: 'n', nc: 80 }));
    const base: Calibration = {
      source: 'n.calib.json', method: { name: 'minmax' }, images: 1, imgsz: [640, 640], model: 'yolov8n', graphDigest: graphDigest(folded),
      weightsDigest: 'f'.repeat(64), amax: fakeRanges(folded),
    };
    const policy = parsePolicy('*:int8');
    await expect(prepareModel({ weights, policy, calibration: base })).rejects.toMatchObject({ code: 'ERR_CALIBRATION', message: expect.stringMatching(/n\.calib\.json.*other weights/) });
    const foreign = { ...base, model: 'yolov8s', graphDigest: graphDigest(foldBatchNorm(buildYolov8({ scale: 's', nc: 80 }))) };
    await expect(prepareModel({ weights, policy, calibration: foreign })).rejects.toMatchObject({ code: 'ERR_CALIBRATION', message: expect.stringContaining('another graph (yolov8s)') });
  });
});

function scaleOf(producers: Map<string, { kind: string; inputs: readonly string[] }>, tensor: string): number {
  let node = producers.get(tensor);
  while (node && node.kind !== 'Quantize') node = producers.get(node.inputs[0]!);
  return (node as unknown as QuantizeNode).scales[0]!;
}

describe('int8 convolutions on ONNX Runtime', () => {
  /** x → Quantize → int8 3x3 convolution (stride 2, padding 1, bias) → y, with weights quantized per channel. */
  function oneConv(inputScale: number) {
    const g = new GraphAssembler();
    const x = g.input('x', 'float32', [1, 8, 7, 9]);
    const q = g.value('Quantize', '/q', { to: 'int8', scales: [inputScale], axis: null }, [x]);
    const y = g.value('Convolution', '/conv', {
      outChannels: 4, kernel: [3, 3], stride: [2, 2], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1,
      weight: { name: 'w', shape: [4, 8, 3, 3], role: 'conv.weight' }, bias: { name: 'b', shape: [4], role: 'conv.bias' }, fold: null, activation: null,
      quant: { inputScale },
    }, [q]);
    g.output('y', y);
    return g.graph();
  }

  it('computes int32 sums of the int8 values, rescaled per channel, and ONNX Runtime runs ConvInteger', async () => {
    const rand = rng(7);
    const s = 0.02;
    const w = randomTensor([4, 8, 3, 3], rand);
    const b = randomTensor([4], rand);
    const graph = oneConv(s);
    // The weights quantized as binding does (weights/quantize.ts), through the graph's own materialization.
    const store = { source: { path: 'mem' }, info: {}, tensors: new Map([['w', w], ['b', b]]) } as unknown as Parameters<typeof materializeParams>[1];
    const params = materializeParams(graph, store);
    const wq = new Int8Array(params.get('w')!.data.buffer, params.get('w')!.data.byteOffset, 4 * 8 * 9);
    const ws = toFloat32(params.get(weightScaleName('w'))!);
    const xs = randomTensor([1, 8, 7, 9], rand, 'float32', -3, 3);
    const dir = mkdtempSync(join(tmpdir(), 'netdef-int8-'));
    const optimized = join(dir, 'optimized.onnx');
    const session = await ort.InferenceSession.create(exportOnnx(graph, params), { graphOptimizationLevel: 'all', optimizedModelFilePath: optimized, intraOpNumThreads: 1 });
    const out = await session.run({ x: new ort.Tensor('float32', toFloat32(xs), [1, 8, 7, 9]) });
    await session.release();
    const got = out.y!.data as Float32Array;
    // Reference: q(x), int32 sums with zero padding, then acc · (s · ws[k]) + b[k] in float32.
    const xq = toFloat32(xs).map((v) => quantizeValue(v, Math.fround(s)));
    const bias = toFloat32(b);
    const [oh, ow] = [4, 5];
    expect(got.length).toBe(4 * oh * ow);
    for (let k = 0; k < 4; k++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let acc = 0;
          for (let c = 0; c < 8; c++) {
            for (let ky = 0; ky < 3; ky++) {
              for (let kx = 0; kx < 3; kx++) {
                const iy = oy * 2 - 1 + ky;
                const ix = ox * 2 - 1 + kx;
                if (iy < 0 || iy >= 7 || ix < 0 || ix >= 9) continue;
                acc += xq[(c * 7 + iy) * 9 + ix]! * wq[((k * 8 + c) * 3 + ky) * 3 + kx]!;
              }
            }
          }
          const expected = Math.fround(Math.fround(acc * Math.fround(Math.fround(s) * ws[k]!)) + bias[k]!);
          expect(got[(k * oh + oy) * ow + ox]).toBe(expected);
        }
      }
    }
    expect(readFileSync(optimized).includes(Buffer.from('ConvInteger'))).toBe(true);
  });

  it('exports yolov8n all-int8 with a ConvInteger for each of its 64 convolutions and no float Conv', async () => {
    const { quantized } = yolo('*:int8');
    const params = materializeParams(quantized, randomWeights(buildYolov8({ scale: 'n', nc: 80 }), 0));
    const ops = decodeModel(exportOnnx(quantized, params)).graph!.node!.map((n) => n.op_type);
    expect(ops.filter((op) => op === 'ConvInteger')).toHaveLength(64);
    expect(ops).not.toContain('Conv');
  });
});

describe('netdef inspect with int8 layers', () => {
  it('shows each layer\'s precision and its int8 scales', async () => {
    const folded = foldBatchNorm(buildYolov8({ scale: 'n', nc: 80 }));
    const file = join(mkdtempSync(join(tmpdir(), 'netdef-inspect-')), 'n.calib.json');
    await writeCalibration(file, {
      source: file, method: { name: 'minmax' }, images: 1, imgsz: [640, 640], model: 'yolov8n', graphDigest: graphDigest(folded),
      weightsDigest: '0'.repeat(64), amax: fakeRanges(folded),
    });
    const res = await netdef('inspect', '--model', 'yolov8n', '--precision-policy', 'int8-mixed', '--calib', file, '--json');
    expect(res.code, res.stderr).toBe(0);
    const layers = (JSON.parse(res.stdout) as { layers: { layer: string; precision: string; scales: string }[] }).layers;
    const row = (name: string) => layers.find((l) => l.layer === name)!;
    expect(row('/model.2/cv1/conv/Conv')).toMatchObject({ precision: 'int8', scales: `x ${(2 / 127).toPrecision(4)}, w per channel` });
    expect(row('/model.1/conv/Conv')).toMatchObject({ precision: 'fp16', scales: '' });
    expect(row('/model.9/m/MaxPool').precision).toBe('int8');
    expect(row('/model.1/act/Silu/Quantize').scales).toBe((2 / 127).toPrecision(4));
  });
});

describe('int8 engine files', () => {
  it('record the activation ranges; a refit keeps them and requantizes the new weights, as an engine built from them with those ranges', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netdef-int8-engine-'));
    const weights = dataPath('weights', 'yolov8n.pt');
    const perturbed = join(dir, 'perturbed.safetensors');
    await writePerturbed(weights, perturbed);
    const imgsz: [number, number] = [160, 160];
    const fp32 = await prepareModel({ weights, imgsz });
    const calibration = { source: 'test', amax: fakeRanges(fp32.graph, 4) };
    const policy = parsePolicy(POLICY_PRESETS.get('int8-mixed')!);
    const file = join(dir, 'n-int8.engine');
    await using built = await Engine.build(await prepareModel({ weights, imgsz, policy, calibration }));
    await built.save(file);
    const input = (await letterbox(dataPath('images', 'bus.jpg'), 160)).tensor;
    await using loaded = await Engine.load(file);
    expect(Object.keys(loaded.metadata.activationRanges ?? {}).sort()).toEqual([...calibration.amax.keys()].sort());
    await loaded.refit(perturbed);
    await using direct = await Engine.build(await prepareModel({ weights: perturbed, imgsz, policy, calibration }));
    const [a, b] = [toFloat32((await loaded.run({ images: input })).output0!), toFloat32((await direct.run({ images: input })).output0!)];
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(toFloat32((await built.run({ images: input })).output0!)));
  });
});
