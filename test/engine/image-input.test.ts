/**
 * A uint8 image input (models/yolov8/input.ts): the graph casts and divides by 255 itself, and
 * its output equals, to the bit, the float32-input graph fed `x / 255` (fp32 and fp16 policies,
 * CPU backend). The Detector builds its engines this way.
 */
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../dsl/precision/policy.js';
import { Engine } from '../../engine/engine.js';
import { prepareModel } from '../../engine/prepare.js';
import { decodeImage } from '../../vision/image.js';
import { letterbox } from '../../vision/letterbox.js';
import { imageToTensor } from '../../vision/tensor.js';
import { dataPath } from '../data.js';

const WEIGHTS = dataPath('weights', 'yolov8n.pt');

describe('uint8 image input', () => {
  it('is scaled in the graph by /preprocess/Cast and /preprocess/Div', async () => {
    const { graph } = await prepareModel({ weights: WEIGHTS, input: 'uint8' });
    const names = graph.nodes.map((n) => n.name);
    expect(names).toEqual(expect.arrayContaining(['/preprocess/Cast', '/preprocess/Div']));
    const input = graph.nodes.find((n) => n.kind === 'Input')!;
    expect(input.outputs[0]!.type.dtype).toBe('uint8');
  });

  it.each([['fp32', undefined], ['fp16', '*:fp16']])('gives the float32 input\'s output to the bit (%s)', async (_label, policy) => {
    const p = policy ? { policy: parsePolicy(policy) } : {};
    await using floats = await Engine.build(await prepareModel({ weights: WEIGHTS, ...p }));
    await using bytes = await Engine.build(await prepareModel({ weights: WEIGHTS, input: 'uint8', ...p }));
    expect(bytes.metadata.inputs[0]!.dtype).toBe('uint8');
    const image = letterbox(await decodeImage(dataPath('images', 'bus.jpg')), { shape: 640 }).image;
    const a = (await floats.run({ images: imageToTensor(image, 'float32') })).output0!;
    const b = (await bytes.run({ images: imageToTensor(image, 'uint8') })).output0!;
    expect(Buffer.compare(Buffer.from(a.data), Buffer.from(b.data))).toBe(0);
  });
});
