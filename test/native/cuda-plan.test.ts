/**
 * The CUDA engine's build passes on yolov8n (official weights), run here without a GPU through the
 * addon's planCudaEngine: what each layout mode would run, before anything is timed.
 *  - The stem takes the direct convolution: the input Cast is folded into it, it writes NHWC in
 *    channels-last mode, and no Reformat runs between it and the next convolution.
 *  - The DFL's 16 -> 1 convolution takes the direct convolution too; every other convolution is
 *    cuDNN's (tensor cores).
 *  - SPPF's pools keep the channels-last layout and run without Reformats.
 * Needs the addon (`npm run build:native`; CI builds it).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../dsl/precision/policy.js';
import type { NativePlannedMode } from '../../engine/native/addon-types.js';
import { loadNativeAddon, toNativeGraph } from '../../engine/native/load.js';
import { prepareModel } from '../../engine/prepare.js';
import { dataPath } from '../data.js';

const STEM = '/model.0/conv/Conv';
const DFL = '/model.22/dfl/conv/Conv';

function op(mode: NativePlannedMode, name: string) {
  const found = mode.ops.find((o) => o.name === name);
  if (!found) throw new Error(`${mode.mode}: no op ${name} (ops: ${mode.ops.map((o) => o.name).join(', ')})`);
  return found;
}

async function plan(policy: string): Promise<NativePlannedMode[]> {
  const prepared = await prepareModel({ weights: dataPath('weights', 'yolov8n.pt'), policy: parsePolicy(policy) });
  return loadNativeAddon().planCudaEngine(toNativeGraph(prepared.graph, prepared.params));
}

describe('the CUDA engine plan of yolov8n in fp16', () => {
  let modes: NativePlannedMode[];
  beforeAll(async () => {
    modes = await plan('*:fp16');
  });

  it('considers both layout modes', () => {
    expect(modes.map((m) => m.mode)).toEqual(['row-major', 'channels-last fp16']);
  });

  it('runs the stem and the DFL convolution on the direct kernel, every other convolution on cuDNN', () => {
    for (const m of modes) {
      const convs = m.ops.filter((o) => o.kind === 'Convolution' && o.fusedInto === '');
      expect(convs).toHaveLength(64);
      expect(convs.filter((o) => o.direct).map((o) => o.name), m.mode).toEqual([STEM, DFL]);
      expect(op(m, 'images/Cast_float16').fusedInto, m.mode).toBe(STEM);
    }
  });

  it('channels-last: the stem writes NHWC, and neither it nor SPPF needs a Reformat', () => {
    const m = modes.find((x) => x.mode === 'channels-last fp16')!;
    expect(op(m, STEM).layout).toBe('nhwc');
    const reformats = m.ops.filter((o) => o.kind === 'Reformat').map((o) => o.name);
    expect(reformats.filter((n) => n.includes('/model.0/') || n.includes('/model.9/')), reformats.join('\n')).toEqual([]);
    const pools = m.ops.filter((o) => o.kind === 'Pooling');
    expect(pools).toHaveLength(3);
    for (const p of pools) expect(p.layout, p.name).toBe('nhwc');
  });

  it('row-major: nothing is reformatted, and SPPF\'s pools write into their concat', () => {
    const m = modes.find((x) => x.mode === 'row-major')!;
    expect(m.ops.filter((o) => o.kind === 'Reformat')).toEqual([]);
    expect(op(m, STEM).layout).toBe('nchw');
    // C2f blocks, SPPF and the Detect head's per-level concats take inputs in place in both modes.
    expect(m.concatInputsInPlace).toBeGreaterThan(0);
    const channelsLast = modes.find((x) => x.mode === 'channels-last fp16')!;
    expect(channelsLast.concatInputsInPlace).toBe(m.concatInputsInPlace);
  });
});

describe('the CUDA engine plan of yolov8n in fp32', () => {
  it('is row-major only, with the stem on the direct kernel and no Cast to fold', async () => {
    const modes = await plan('*:fp32');
    expect(modes.map((m) => m.mode)).toEqual(['row-major']);
    expect(op(modes[0]!, STEM).direct).toBe(true);
    expect(modes[0]!.ops.some((o) => o.kind === 'Cast')).toBe(false);
  });
});
