import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../dsl/builder.js';
import { verifyGraph } from '../../dsl/ir/verify.js';
import { applyPrecision } from '../../dsl/passes/apply-precision.js';
import { foldBatchNorm } from '../../dsl/passes/fold-batch-norm.js';
import { FP32_POLICY, parsePolicy } from '../../dsl/precision/policy.js';
import { POLICY_PRESETS } from '../../dsl/precision/presets.js';
import { buildYolov8 } from '../../models/yolov8/model.js';

function convBnSilu() {
  const b = new GraphBuilder('t');
  const x = b.input('x', 'float32', ['batch', 3, 8, 8]);
  const m = b.root().list('model').at(0);
  const y = m.child('conv').conv2d(x, { outChannels: 4, kernel: 3 });
  const z = m.child('act').silu(m.child('bn').batchNorm(y, { eps: 1e-3 }));
  b.output('out', z);
  return b.build({ model: 't' });
}

describe('foldBatchNorm', () => {
  it('folds a BatchNorm into the convolution before it and rewires its readers', () => {
    const before = convBnSilu();
    const after = verifyGraph(foldBatchNorm(before));
    expect(before.nodes.map((n) => n.kind)).toEqual(['Input', 'Convolution', 'BatchNorm', 'Activation', 'Output']);
    expect(after.nodes.map((n) => n.kind)).toEqual(['Input', 'Convolution', 'Activation', 'Output']);
    const conv = after.nodes[1]!;
    if (conv.kind !== 'Convolution') throw new Error('expected a convolution');
    expect(conv.fold?.gamma.name).toBe('model.0.bn.weight');
    expect(conv.fold?.var.name).toBe('model.0.bn.running_var');
    expect(conv.fold?.eps).toBe(1e-3);
    expect(conv.bias?.name).toBe('model.0.conv.bias');
    expect(after.nodes[2]!.inputs).toEqual([conv.outputs[0]!.name]);
  });

  it('returns the same graph when there is nothing to fold', () => {
    const folded = foldBatchNorm(convBnSilu());
    expect(foldBatchNorm(folded)).toBe(folded);
  });

  it('leaves no BatchNorm in YOLOv8', () => {
    const g = foldBatchNorm(buildYolov8({ scale: 'n', nc: 80 }));
    expect(g.nodes.some((n) => n.kind === 'BatchNorm')).toBe(false);
    verifyGraph(g);
  });
});

describe('applyPrecision', () => {
  it('returns the same graph under an all-fp32 policy', () => {
    const g = foldBatchNorm(convBnSilu());
    expect(applyPrecision(g, FP32_POLICY)).toBe(g);
  });

  it('inserts casts where types change and keeps float32 graph inputs and outputs', () => {
    const g = verifyGraph(applyPrecision(foldBatchNorm(convBnSilu()), parsePolicy('*:fp16,/model.0/act/:fp32')));
    expect(g.nodes.map((n) => `${n.kind}:${n.outputs[0]?.type.dtype}`)).toEqual([
      'Input:float32', 'Cast:float16', 'Convolution:float16', 'Cast:float32', 'Activation:float32', 'Output:float32',
    ]);
    expect(g.nodes[1]!.name).toBe('x/Cast_float16');
  });

  it('gives yolov8n fp16 everywhere but /model.22/, with casts only at the boundaries', () => {
    const g = verifyGraph(applyPrecision(foldBatchNorm(buildYolov8({ scale: 'n', nc: 80 })), parsePolicy('*:fp16,/model.22/:fp32')));
    const casts = g.nodes.filter((n) => n.kind === 'Cast').map((n) => n.name);
    expect(casts).toEqual(['images/Cast_float16', '/model.15/cv2/act/Silu/Cast_float32', '/model.18/cv2/act/Silu/Cast_float32', '/model.21/cv2/act/Silu/Cast_float32']);
    for (const n of g.nodes) {
      if (n.kind === 'Input' || n.kind === 'Cast' || n.kind === 'Output' || n.kind === 'Constant') continue;
      expect(n.outputs[0]!.type.dtype, n.name).toBe(n.name.startsWith('/model.22/') ? 'float32' : 'float16');
    }
  });

  it('gives yolov8n under the fp16-fp32-decode preset fp32 only in the box decode, with every rule matching a layer', () => {
    const text = POLICY_PRESETS.get('fp16-fp32-decode')!;
    const g = verifyGraph(applyPrecision(foldBatchNorm(buildYolov8({ scale: 'n', nc: 80 })), parsePolicy(text)));
    const computing = g.nodes.filter((n) => !['Input', 'Cast', 'Output', 'Constant'].includes(n.kind));
    const fp32 = computing.filter((n) => n.outputs[0]!.type.dtype === 'float32').map((n) => n.name);
    for (const rule of text.split(',').slice(1)) expect(fp32.some((name) => name.startsWith(rule.split(':')[0]!)), rule).toBe(true);
    expect(fp32.every((name) => /^\/model\.22\/(Sub|Add|Div|Mul|Concat_[45])/.test(name)), fp32.join(' ')).toBe(true);
    expect(computing.filter((n) => n.kind === 'Convolution').every((n) => n.outputs[0]!.type.dtype === 'float16')).toBe(true);
  });

  it('converts constants to the dtype of their readers', () => {
    const g = verifyGraph(applyPrecision(foldBatchNorm(buildYolov8({ scale: 'n', nc: 80 })), parsePolicy('*:fp16')));
    const constants = g.nodes.filter((n) => n.kind === 'Constant');
    expect(constants.length).toBe(3);
    for (const c of constants) expect(c.outputs[0]!.type.dtype).toBe('float16');
    expect(g.nodes.at(-1)!.outputs[0]!.type.dtype).toBe('float32');
  });

  it('gives each output of a multi-output layer its own cast (Split into an fp32 box decode)', () => {
    const policy = parsePolicy('*:fp16,/model.22/Sub:fp32,/model.22/Add:fp32,/model.22/Div:fp32,/model.22/Mul:fp32,/model.22/Concat_4:fp32');
    const g = verifyGraph(applyPrecision(foldBatchNorm(buildYolov8({ scale: 'n', nc: 80 })), policy));
    const casts = g.nodes.filter((n) => n.kind === 'Cast').map((n) => n.name);
    expect(casts).toContain('/model.22/Split_1/Cast_0_float32');
    expect(casts).toContain('/model.22/Split_1/Cast_1_float32');
    expect(new Set(g.nodes.map((n) => n.name)).size).toBe(g.nodes.length);
  });

  it('types an int8 layer\'s float parts as float32, for the int8 pass to quantize', () => {
    const g = verifyGraph(applyPrecision(convBnSilu(), parsePolicy('*:fp16,/model.0/conv/:int8')));
    expect(g.nodes.find((n) => n.name === '/model.0/conv/Conv')!.outputs[0]!.type.dtype).toBe('float32');
  });
});
