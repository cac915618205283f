/**
 * The C++ replay of yolov8n (official weights, policy "*:fp16,/model.22/:fp32") into the addon's
 * recording network: the calls a TensorRT-shaped network receives, with layer names, tensor types,
 * casts and weight names; and of yolov8n with NMS in the graph (models/yolov8/nms.ts). Needs the addon: `npm run build:native` first (CI builds it); without it
 * these tests fail with that instruction, they never skip.
 *
 * The replay itself compares every layer's output type with the graph's, so a recording that
 * completes also means the recording network inferred every shape and dtype as the IR did.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../dsl/precision/policy.js';
import { POLICY_PRESETS } from '../../dsl/precision/presets.js';
import { fakeRanges } from '../calibrate/fake-ranges.js';
import { loadNativeAddon, toNativeGraph } from '../../engine/native/load.js';
import { prepareModel } from '../../engine/prepare.js';
import { NMS_TOPK_LIMIT } from '../../dsl/ir/nodes/nms.js';
import { NMS_OUTPUTS } from '../../models/yolov8/nms.js';
import { dataPath } from '../data.js';
import { yolov8nWithNms } from '../nms-model.js';

/** One recorded call: `<call> <name> [in=a,b] [key=value ...] -> <type>[, <type>]`. */
interface Call {
  readonly call: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly args: Readonly<Record<string, string>>;
  readonly out: string;
}

function parse(line: string): Call {
  const [head, out] = line.split(' -> ') as [string, string];
  const [call, name, ...rest] = head.split(' ') as [string, string, ...string[]];
  const args: Record<string, string> = {};
  for (const kv of rest) {
    const eq = kv.indexOf('=');
    args[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const { in: inputs = '', ...others } = args;
  return { call, name, inputs: inputs ? inputs.split(',') : [], args: others, out };
}

const LAYER_CALLS = new Set(['addConstant', 'addConvolution', 'addConvolutionInt8', 'addActivation', 'addElementWise', 'addConcatenation', 'addSlice', 'addPooling',
  'addResize', 'addShuffle', 'addSoftmax', 'addMatrixMultiply', 'addCast', 'addQuantize', 'addDequantize', 'addNMS']);

describe('replay of yolov8n under "*:fp16,/model.22/:fp32" into the recording network', () => {
  let lines: string[];
  let calls: Call[];
  let byName: Map<string, Call>;
  /** dtype of every tensor by name, as the recording reports it. */
  const tensorType = new Map<string, string>();

  beforeAll(async () => {
    const addon = loadNativeAddon(); // fails here, with the build instruction, when the addon is missing
    const prepared = await prepareModel({ weights: dataPath('weights', 'yolov8n.pt'), policy: parsePolicy('*:fp16,/model.22/:fp32') });
    lines = addon.recordReplay(toNativeGraph(prepared.graph, prepared.params));
    calls = lines.map(parse);
    byName = new Map(calls.map((c) => [c.name, c]));
    for (const c of calls) tensorType.set(c.call === 'addInput' ? c.name : `${c.name}_output_0`, c.out);
  });

  it('starts with the fp32 input, its cast to fp16 and the first convolution with its folded weights', () => {
    expect(lines.slice(0, 4)).toEqual([
      'addInput images -> float32[-1,3,640,640]',
      'addCast images/Cast_float16 in=images to=float16 -> float16[-1,3,640,640]',
      'addConvolution /model.0/conv/Conv in=images/Cast_float16_output_0 out=16 k=3x3 s=2x2 d=1x1 p=1,1,1,1 g=1 ' +
        'w=model.0.conv.weight:float16[16,3,3,3] b=model.0.conv.bias:float16[16] -> float16[-1,16,320,320]',
      'addActivation /model.0/act/Silu in=/model.0/conv/Conv_output_0 op=silu -> float16[-1,16,320,320]',
    ]);
  });

  it('casts the three fp16 feature maps to fp32 where they enter the head, and nothing else', () => {
    const casts = calls.filter((c) => c.call === 'addCast' && c.args.to === 'float32');
    expect(casts.map((c) => c.name)).toEqual(['/model.15/cv2/act/Silu/Cast_float32', '/model.18/cv2/act/Silu/Cast_float32', '/model.21/cv2/act/Silu/Cast_float32']);
    for (const cast of casts) {
      expect(tensorType.get(cast.inputs[0]!)).toMatch(/^float16\[/);
      expect(cast.out).toMatch(/^float32\[/);
      const readers = calls.filter((c) => c.inputs.includes(`${cast.name}_output_0`));
      expect(readers.length).toBeGreaterThan(0);
      for (const r of readers) expect(r.name.startsWith('/model.22/')).toBe(true);
    }
    expect(calls.filter((c) => c.call === 'addCast')).toHaveLength(4);
  });

  it('gives every convolution weights of its own dtype, named as in the state_dict', () => {
    const convs = calls.filter((c) => c.call === 'addConvolution');
    expect(convs).toHaveLength(64);
    for (const conv of convs) {
      const dtype = conv.out.slice(0, conv.out.indexOf('['));
      expect(conv.args.w).toMatch(new RegExp(`^model\\.[\\w.]+\\.weight:${dtype}\\[`));
      expect(dtype).toBe(conv.name.startsWith('/model.22/') ? 'float32' : 'float16');
    }
    expect(byName.get('/model.22/dfl/conv/Conv')).toMatchObject({
      inputs: ['/model.22/dfl/Softmax_output_0'],
      args: { out: '1', k: '1x1', w: 'model.22.dfl.conv.weight:float32[1,16,1,1]' },
      out: 'float32[-1,1,4,8400]',
    });
    expect(byName.get('/model.22/dfl/conv/Conv')!.args.b).toBeUndefined();
  });

  it('replays each Split as one slice per output', () => {
    expect(byName.has('/model.2/Split')).toBe(false);
    expect(byName.get('/model.2/Split/slice_0')).toMatchObject({ call: 'addSlice', args: { start: '0,0,0,0', size: '-1,16,160,160', stride: '1,1,1,1' } });
    expect(byName.get('/model.2/Split/slice_1')).toMatchObject({ call: 'addSlice', args: { start: '0,16,0,0', size: '-1,16,160,160' } });
    expect(byName.get('/model.22/Split/slice_1')).toMatchObject({ args: { start: '0,64,0', size: '-1,80,8400' }, out: 'float32[-1,80,8400]' });
    expect(calls.filter((c) => c.call === 'addSlice')).toHaveLength(20);
  });

  it('reshapes constants of lower rank before they broadcast, and keeps the DFL transpose', () => {
    expect(byName.get('/model.22/Div/broadcast_1')).toMatchObject({ call: 'addShuffle', inputs: ['/model.22/Constant_1_output_0'], args: { reshape: '1,1,1' } });
    expect(byName.get('/model.22/Mul/broadcast_1')).toMatchObject({ args: { reshape: '1,1,8400' }, out: 'float32[1,1,8400]' });
    expect(byName.get('/model.22/dfl/Transpose')).toMatchObject({ call: 'addShuffle', args: { perm: '0,2,1,3' }, out: 'float32[-1,16,4,8400]' });
  });

  it('ends by marking output0 as float32 [batch, 84, 8400]', () => {
    expect(lines.at(-1)).toBe('markOutput output0 in=/model.22/Concat_5_output_0 -> float32[-1,84,8400]');
    expect(calls.filter((c) => c.call === 'markOutput')).toHaveLength(1);
  });

  it('names every layer once, reads only tensors made before, and has no batch norm left', () => {
    const layers = calls.filter((c) => LAYER_CALLS.has(c.call));
    expect(layers.length + 2).toBe(calls.length); // plus addInput and markOutput
    expect(new Set(layers.map((c) => c.name)).size).toBe(layers.length);
    const made = new Set<string>();
    for (const c of calls) {
      for (const i of c.inputs) expect(made.has(i), `${c.name} reads ${i}`).toBe(true);
      made.add(c.call === 'addInput' ? c.name : `${c.name}_output_0`);
    }
    expect(lines.some((l) => /BatchNorm|\.bn\./.test(l))).toBe(false);
  });
});

describe('replay of yolov8n with NMS in the graph (same policy) into the recording network', () => {
  const NMS = '/model.22/nms/NonMaxSuppression';
  let plain: string[];
  let lines: string[];
  let calls: Call[];

  beforeAll(async () => {
    const addon = loadNativeAddon();
    const policy = parsePolicy('*:fp16,/model.22/:fp32');
    const prepared = await prepareModel({ weights: dataPath('weights', 'yolov8n.pt'), policy });
    plain = addon.recordReplay(toNativeGraph(prepared.graph, prepared.params));
    const model = await yolov8nWithNms({ iouThreshold: 0.6, scoreThreshold: 0.05, maxPerClass: 100 }, policy);
    lines = addon.recordReplay(toNativeGraph(model.graph, model.params));
    calls = lines.map(parse);
  });

  it('replays the default graph first, call for call, then the NMS tail', () => {
    expect(lines.slice(0, plain.length)).toEqual(plain);
    expect(lines.slice(plain.length).map((l) => parse(l).name)).toEqual([
      '/model.22/nms/Split/slice_0', '/model.22/nms/Split/slice_1', '/model.22/nms/Transpose', '/model.22/nms/Transpose_1',
      NMS, NMS_OUTPUTS.indices, NMS_OUTPUTS.count,
    ]);
  });

  it('transposes boxes and scores to INMSLayer\'s [batch, anchors, 4] and [batch, anchors, 80], in fp32 as the policy says for /model.22/', () => {
    const byName = new Map(calls.map((c) => [c.name, c]));
    expect(byName.get('/model.22/nms/Transpose')).toMatchObject({ call: 'addShuffle', args: { perm: '0,2,1' }, out: 'float32[-1,8400,4]' });
    expect(byName.get('/model.22/nms/Transpose_1')).toMatchObject({ call: 'addShuffle', args: { perm: '0,2,1' }, out: 'float32[-1,8400,80]' });
  });

  it('records one addNMS call with its settings, int32 [-1, 3] indices and an int32 count', () => {
    const nms = calls.filter((c) => c.call === 'addNMS');
    expect(nms).toEqual([{
      call: 'addNMS', name: NMS, inputs: ['/model.22/nms/Transpose_output_0', '/model.22/nms/Transpose_1_output_0'],
      args: { box: 'center_sizes', max_per_class: '100', iou: '0.6', score: '0.05', top_k: String(NMS_TOPK_LIMIT) },
      out: 'int32[-1,3], int32[]',
    }]);
  });

  it('marks output0, the indices and their count as outputs', () => {
    expect(lines.filter((l) => l.startsWith('markOutput '))).toEqual([
      'markOutput output0 in=/model.22/Concat_5_output_0 -> float32[-1,84,8400]',
      `markOutput ${NMS_OUTPUTS.indices} in=${NMS}_output_0 -> int32[-1,3]`,
      `markOutput ${NMS_OUTPUTS.count} in=${NMS}_output_1 -> int32[]`,
    ]);
  });
});

describe('replay of yolov8n under the int8-mixed preset (explicit quantization)', () => {
  let calls: Call[];

  beforeAll(async () => {
    const addon = loadNativeAddon();
    const weights = dataPath('weights', 'yolov8n.pt');
    const fp32 = await prepareModel({ weights });
    // Ranges as a calibration would give them (their values do not matter to the calls).
    const amax = fakeRanges(fp32.graph, 4);
    const prepared = await prepareModel({ weights, policy: parsePolicy(POLICY_PRESETS.get('int8-mixed')!), calibration: { source: 'test', amax } });
    calls = addon.recordReplay(toNativeGraph(prepared.graph, prepared.params)).map(parse);
  });

  it('keeps the first two Conv modules and the DFL in fp16, every other convolution int8 with per-channel weight scales', () => {
    expect(calls.filter((c) => c.call === 'addConvolution').map((c) => c.name)).toEqual(['/model.0/conv/Conv', '/model.1/conv/Conv', '/model.22/dfl/conv/Conv']);
    const int8 = calls.filter((c) => c.call === 'addConvolutionInt8');
    expect(int8).toHaveLength(61);
    expect(int8[0]).toMatchObject({
      name: '/model.2/cv1/conv/Conv', inputs: ['/model.1/act/Silu/Quantize_output_0'],
      args: {
        x_scale: expect.stringMatching(/^0\.0314/) as unknown as string, out: '32', k: '1x1',
        w: 'model.2.cv1.conv.weight:int8[32,32,1,1]', w_scale: 'model.2.cv1.conv.weight.scale:float32[32]', b: 'model.2.cv1.conv.bias:float32[32]',
      },
      out: 'float32[-1,32,160,160]',
    });
  });

  it('quantizes the fp16 activation entering int8 directly, runs SPPF\'s pools and the neck\'s concats on int8, and dequantizes only residual shortcuts', () => {
    const byName = new Map(calls.map((c) => [c.name, c]));
    expect(byName.get('/model.1/act/Silu/Quantize')).toMatchObject({
      call: 'addQuantize', inputs: ['/model.1/act/Silu_output_0', '/model.1/act/Silu/Quantize/scale_output_0'], out: 'int8[-1,32,160,160]',
    });
    for (const name of ['/model.9/m/MaxPool', '/model.9/Concat', '/model.10/Resize', '/model.11/Concat']) expect(byName.get(name)!.out, name).toMatch(/^int8\[/);
    // The only Dequantize layers: each Bottleneck add's shortcut, read from the int8 tensor its cv1 reads.
    const dequantizes = calls.filter((c) => c.call === 'addDequantize');
    expect(dequantizes.map((c) => c.name)).toEqual(['/model.2/m.0/Add', '/model.4/m.0/Add', '/model.4/m.1/Add', '/model.6/m.0/Add', '/model.6/m.1/Add', '/model.8/m.0/Add'].map((a) => `${a}/Dequantize`));
    for (const dq of dequantizes) {
      const cv1 = byName.get(dq.name.replace(/Add\/Dequantize$/, 'cv1/conv/Conv'))!;
      expect(dq.inputs[0], dq.name).toBe(cv1.inputs[0]);
      expect(byName.get(dq.name.replace(/\/Dequantize$/, ''))!.inputs[0], dq.name).toBe(`${dq.name}_output_0`);
    }
  });
});
