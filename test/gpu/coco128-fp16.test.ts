/** coco128 mAP50-95 of yolov8n in fp16 within 0.003 of fp32 on the CUDA engine. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parsePolicy } from '../../dsl/precision/policy.js';
import { evaluate } from '../../engine/evaluate.js';
import { gpuData } from './support.js';

const MAX_MAP_DROP = 0.003;

it('yolov8n fp16 mAP50-95 within 0.003 of fp32 on coco128', async () => {
  const weights = gpuData('yolov8n', 'weights.safetensors');
  const fp32 = await evaluate(weights, gpuData('coco128'), { backend: 'cuda', policy: parsePolicy('*:fp32') });
  const fp16 = await evaluate(weights, gpuData('coco128'), { backend: 'cuda', policy: parsePolicy('*:fp16') });
  console.log(`coco128 yolov8n cuda: fp32 mAP50-95 ${fp32.map50_95.toFixed(4)} mAP50 ${fp32.map50.toFixed(4)}; fp16 mAP50-95 ${fp16.map50_95.toFixed(4)} mAP50 ${fp16.map50.toFixed(4)}`);
  assert.ok(Math.abs(fp16.map50_95 - fp32.map50_95) <= MAX_MAP_DROP);
});
