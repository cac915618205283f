import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { dataPath } from '../data.js';
import { netdef } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'netdef-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Ultralytics' fused-model summaries (parameters, GFLOPs at 640).
const FUSED = { n: [3_151_904, 8.7], s: [11_156_544, 28.6], m: [25_886_080, 78.9], l: [43_668_288, 165.2], x: [68_200_608, 257.8] } as const;

describe('netdef convert / inspect / export-onnx', () => {
  it('converts yolov8s.pt to safetensors and inspects the result', async () => {
    const out = join(dir, 'yolov8s.safetensors');
    const conv = await netdef('convert', dataPath('weights', 'yolov8s.pt'), '-o', out);
    expect(conv.code, conv.stderr).toBe(0);
    expect(conv.stderr).toMatch(/wrote .*yolov8s\.safetensors: 355 tensors, .* yolov8s, 80 classes/);
    const res = await netdef('inspect', '--weights', out, '--json');
    expect(res.code, res.stderr).toBe(0);
    const report = JSON.parse(res.stdout) as { model: string; totals: { parameters: number; gflops: number } };
    expect(report.model).toBe('yolov8s');
    expect(report.totals.parameters).toBe(11_156_544);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it.each(Object.entries(FUSED))('inspect --model yolov8%s gives Ultralytics\' totals', async (scale, [parameters, gflops]) => {
    const res = await netdef('inspect', '--model', `yolov8${scale}`);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(`${parameters.toLocaleString('en-US')} parameters, ${gflops.toFixed(1)} GFLOPs`);
  });

  it('shows each layer\'s dtype under a precision policy', async () => {
    const res = await netdef('inspect', '--weights', dataPath('weights', 'yolov8n.pt'), '--precision-policy', '*:fp16,/model.22/:fp32');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/\/model\.0\/conv\/Conv\s+Convolution\s+\[batch, 16, 320, 320\]\s+float16\s+model\.0\.conv\.weight model\.0\.conv\.bias/);
    expect(res.stdout).toMatch(/\/model\.22\/dfl\/conv\/Conv\s+Convolution\s+\[batch, 1, 4, 8400\]\s+float32\s+model\.22\.dfl\.conv\.weight/);
    expect(res.stdout).toMatch(/images\/Cast_float16\s+Cast\s+\[batch, 3, 640, 640\]\s+float16/);
  });

  it('reads a JSON precision policy from a file', async () => {
    const policy = join(dir, 'policy.json');
    writeFileSync(policy, JSON.stringify({ default: 'fp16', layers: { '/model.22/dfl/': 'fp32' } }));
    const res = await netdef('inspect', '--model', 'yolov8n', '--precision-policy', policy, '--json');
    const layers = (JSON.parse(res.stdout) as { layers: { layer: string; dtype: string }[] }).layers;
    expect(layers.find((l) => l.layer === '/model.22/dfl/Softmax')?.dtype).toBe('float32');
    expect(layers.find((l) => l.layer === '/model.22/Sigmoid')?.dtype).toBe('float16');
  });

  it('exports an ONNX file that ONNX Runtime opens and runs', async () => {
    const out = join(dir, 'yolov8n.onnx');
    const res = await netdef('export-onnx', '--weights', dataPath('weights', 'yolov8n.pt'), '-o', out);
    expect(res.code, res.stderr).toBe(0);
    const session = await ort.InferenceSession.create(out);
    expect(session.inputNames).toEqual(['images']);
    expect(session.outputNames).toEqual(['output0']);
    const x = new ort.Tensor('float32', new Float32Array(2 * 3 * 640 * 640).fill(0.5), [2, 3, 640, 640]);
    const y = (await session.run({ images: x })).output0!;
    expect(y.dims).toEqual([2, 84, 8400]);
    await session.release();
  });

  it.each([
    [['convert', 'missing.pt', '-o', 'x.safetensors'], 'ERR_FILE_NOT_FOUND', 'missing.pt'],
    [['inspect', '--weights', 'test'], 'ERR_FILE_NOT_FOUND', 'weights file test: is a directory'],
    [['detect', dataPath('images', 'bus.jpg'), '--weights', 'test'], 'ERR_FILE_NOT_FOUND', 'weights file test: is a directory'],
    [['inspect', '--model', 'yolov8n', '--precision-policy', '*:fp64'], 'ERR_PRECISION_POLICY', "unknown precision 'fp64'"],
    [['inspect', '--model', 'yolov9n'], 'ERR_MODEL_SPEC', "unknown model 'yolov9n'"],
    [['inspect'], 'ERR_INVALID_ARGUMENT', 'give a weights file'],
    [['export-onnx', '--model', 'yolov8n'], 'ERR_INVALID_ARGUMENT', '--output is required'],
    [['inspect', '--model', 'yolov8n', '--imgsz', '630'], 'ERR_MODEL_SPEC', 'multiples of 32'],
  ])('netdef %j fails with %s', async (args, code, text) => {
    const res = await netdef(...args);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(code);
    expect(res.stderr).toContain(text);
    expect(res.stdout).toBe('');
  });

  it('writes nothing when conversion fails on a truncated checkpoint', async () => {
    const truncated = join(dir, 'cut.pt');
    const { readFileSync } = await import('node:fs');
    writeFileSync(truncated, readFileSync(dataPath('weights', 'yolov8n.pt')).subarray(0, 3_000_000));
    const out = join(dir, 'cut.safetensors');
    const res = await netdef('convert', truncated, '-o', out);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('ERR_ZIP_FORMAT');
    expect(res.stderr).toContain('cut.pt');
    expect(existsSync(out)).toBe(false);
  });
});
