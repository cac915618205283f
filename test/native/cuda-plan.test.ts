/**
 * The CUDA engine's build passes on yolov8n (official weights), run here without a GPU through the
 * addon's planCudaEngine: what each layout mode would run, before anything is timed.
 *  - The stem takes the direct convolution: the input Cast is folded into it, it writes NHWC in
 *    channels-last mode, and no Reformat runs between it and the next convolution.
 *  - Every other convolution is cuDNN's (tensor cores), but the DFL's, which with the rest of the
 *    Detect head's tail (reshapes, concat, splits, softmax, decode, sigmoid, output Cast) runs as one
 *    DetectDecode op reading the per-level outputs in their layout, in fp16, fp32 and mixed
 *    policies; a policy that splits the decode's dtypes leaves the tail unfused.
 *  - SPPF's pools keep the channels-last layout, and channels-last needs no Reformat at all.
 *  - In channels-last fp16 netdef's igemm kernel could run every tensor-core convolution (its
 *    geometry check, views included: what a build times beside cuDNN unless NETDEF_CUDA_IGEMM_FP16=0).
 *  - The weights' device buffer holds each weight once (a channels-last filter only as its KRSC copy).
 *  - Side streams (on by default, NETDEF_CUDA_STREAMS=0 turns them off): the Detect head's six
 *    branches and nothing else, and the arena reported both ways.
 * Needs the addon (`npm run build:native`; CI builds it).
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parsePolicy } from '../../dsl/precision/policy.js';
import { POLICY_PRESETS } from '../../dsl/precision/presets.js';
import type { NativePlannedMode } from '../../engine/native/addon-types.js';
import { loadNativeAddon, toNativeGraph } from '../../engine/native/load.js';
import { prepareModel } from '../../engine/prepare.js';
import { fakeRanges } from '../calibrate/fake-ranges.js';
import type { ActivationRanges } from '../../dsl/passes/quantize-int8.js';
import { dataPath } from '../data.js';

const STEM = '/model.0/conv/Conv';
const DFL = '/model.22/dfl/conv/Conv';
const DECODE = '/model.22/DetectDecode';

function op(mode: NativePlannedMode, name: string) {
  const found = mode.ops.find((o) => o.name === name);
  if (!found) throw new Error(`${mode.mode}: no op ${name} (ops: ${mode.ops.map((o) => o.name).join(', ')})`);
  return found;
}

async function plan(policy: string, calibration?: ActivationRanges): Promise<NativePlannedMode[]> {
  const prepared = await prepareModel({ weights: dataPath('weights', 'yolov8n.pt'), policy: parsePolicy(policy), ...(calibration ? { calibration } : {}) });
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

  it('runs the stem on the direct kernel, every other unfused convolution on cuDNN', () => {
    for (const m of modes) {
      const convs = m.ops.filter((o) => o.kind === 'Convolution' && o.fusedInto === '');
      expect(convs).toHaveLength(63);
      expect(convs.filter((o) => o.direct).map((o) => o.name), m.mode).toEqual([STEM]);
      expect(op(m, 'images/Cast_float16').fusedInto, m.mode).toBe(STEM);
    }
  });

  it("leaves every tensor-core convolution to netdef's igemm kernel as a candidate in channels-last, none in row-major", () => {
    for (const m of modes) {
      const convs = m.ops.filter((o) => o.kind === 'Convolution' && o.fusedInto === '' && !o.direct);
      expect(convs).toHaveLength(62);
      const reasons = new Set(convs.map((o) => o.igemmWhyNot));
      if (m.mode === 'channels-last fp16') expect([...reasons], m.mode).toEqual(['']);
      else expect([...reasons], m.mode).toEqual(['its tensors are not NHWC']);
    }
    // The stem runs on the direct kernel: no igemm question asked.
    expect(op(modes[1]!, STEM).igemmWhyNot).toBeUndefined();
  });

  it('runs the Detect head from its per-level outputs to the network output as one DetectDecode op', () => {
    for (const m of modes) {
      const decode = op(m, DECODE);
      expect(decode.kind).toBe('DetectDecode');
      expect(decode.fusedInto).toBe('');
      const fused = m.ops.filter((o) => o.fusedInto === DECODE).map((o) => o.name);
      expect(fused, m.mode).toEqual(expect.arrayContaining([DFL, '/model.22/dfl/Softmax', '/model.22/Concat_3', '/model.22/Sigmoid', '/model.22/Mul', '/model.22/Concat_5']));
      // Everything after the per-level concats runs in the one op.
      const after = m.ops.slice(m.ops.findIndex((o) => o.name === '/model.22/Concat_2') + 1);
      expect(after.filter((o) => o.fusedInto === '').map((o) => o.name), m.mode).toEqual([DECODE]);
    }
  });

  it('channels-last: the stem writes NHWC, and nothing needs a Reformat (stem, SPPF, Detect head)', () => {
    const m = modes.find((x) => x.mode === 'channels-last fp16')!;
    expect(op(m, STEM).layout).toBe('nhwc');
    expect(m.ops.filter((o) => o.kind === 'Reformat').map((o) => o.name)).toEqual([]);
    const pools = m.ops.filter((o) => o.kind === 'Pooling');
    expect(pools).toHaveLength(3);
    for (const p of pools) expect(p.layout, p.name).toBe('nhwc');
  });

  it('holds each weight on the device once: a channels-last filter only as its KRSC copy (within alignment)', () => {
    for (const m of modes) {
      expect(m.weightBytes, m.mode).toBeGreaterThan(0);
      // Each entry of the buffer starts 256-byte aligned: a few KB over the weights' own bytes,
      // where keeping both KCRS originals and KRSC copies would be about twice.
      expect(m.deviceWeightBytes / m.weightBytes, m.mode).toBeGreaterThanOrEqual(0.99);
      expect(m.deviceWeightBytes / m.weightBytes, m.mode).toBeLessThanOrEqual(1.01);
    }
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

describe('side streams in the plan of yolov8n in fp16', () => {
  const HEAD_BRANCH = /^\/model\.22\/cv[23]\.[012]\//;
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each([
    ['by default', undefined],
    ['with NETDEF_CUDA_STREAMS=1', '1'],
  ])("%s, runs the Detect head's six per-level branches on side streams, each branch on one stream, nothing else", async (_label, value) => {
    vi.stubEnv('NETDEF_CUDA_STREAMS', value);
    for (const m of await plan('*:fp16')) {
      const side = m.ops.filter((o) => o.sideStream >= 0);
      expect(side.map((o) => o.name).every((n) => HEAD_BRANCH.test(n)), m.mode).toBe(true);
      // Each branch is three convolutions (the third a plain Conv), and all six branches are hoisted.
      expect(side.filter((o) => o.kind === 'Convolution'), m.mode).toHaveLength(18);
      const streamOf = new Map<string, Set<number>>();
      for (const o of side) {
        const branch = o.name.split('/')[2]!;
        streamOf.set(branch, (streamOf.get(branch) ?? new Set()).add(o.sideStream));
      }
      expect([...streamOf.keys()].sort(), m.mode).toEqual(['cv2.0', 'cv2.1', 'cv2.2', 'cv3.0', 'cv3.1', 'cv3.2']);
      expect([...streamOf.values()].every((s) => s.size === 1), m.mode).toBe(true);
      // What runs beside the neck stays allocated from its fork to its join: never less memory.
      expect(m.arenaBytes, m.mode).toBeGreaterThanOrEqual(m.arenaBytesOneStream);
      expect(m.arenaBytesOneStream, m.mode).toBeGreaterThan(0);
    }
  });

  it('keeps every op on the main stream with NETDEF_CUDA_STREAMS=0; another value is refused, naming it', async () => {
    vi.stubEnv('NETDEF_CUDA_STREAMS', '0');
    for (const m of await plan('*:fp16')) {
      expect(m.ops.filter((o) => o.sideStream >= 0), m.mode).toEqual([]);
      expect(m.arenaBytes, m.mode).toBe(m.arenaBytesOneStream);
    }
    vi.stubEnv('NETDEF_CUDA_STREAMS', 'yes');
    await expect(plan('*:fp16')).rejects.toThrow(/NETDEF_CUDA_STREAMS='yes'/);
  });
});

describe('the Detect head tail under other policies', () => {
  const fusedFor = async (policy: string) => (await plan(policy)).map((m) => m.ops.some((o) => o.name === DECODE && o.kind === 'DetectDecode'));
  it('fuses under fp32, the fp16-fp32-decode preset and an fp32 head', async () => {
    expect(await fusedFor('*:fp32')).toEqual([true]);
    expect(await fusedFor(POLICY_PRESETS.get('fp16-fp32-decode')!)).toEqual([true, true]);
    expect(await fusedFor('*:fp16,/model.22/:fp32')).toEqual([true, true]);
  });
  it('leaves it unfused where the decode mixes dtypes (the kernel has one decode dtype)', async () => {
    expect(await fusedFor('*:fp16,/model.22/Sub:fp32')).toEqual([false, false]);
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

describe('the CUDA engine plan of yolov8n in int8', () => {
  it('folds each Bottleneck add, its shortcut Dequantize and the Quantize after it into cv2 (an int8 residual)', async () => {
    // Made-up ranges for every tensor calibration measures: the plan depends on where Q/DQ sit, not on the scales.
    const { graph } = await prepareModel({ weights: dataPath('weights', 'yolov8n.pt') });
    const calibration: ActivationRanges = { source: 'test', amax: fakeRanges(graph) };
    for (const policy of ['*:int8', POLICY_PRESETS.get('int8-mixed')!]) {
      for (const m of await plan(policy, calibration)) {
        const adds = m.ops.filter((o) => /\/m\.\d+\/Add$/.test(o.name));
        expect(adds.map((a) => a.name), `${policy} ${m.mode}`).toEqual(['/model.2/m.0/Add', '/model.4/m.0/Add', '/model.4/m.1/Add', '/model.6/m.0/Add', '/model.6/m.1/Add', '/model.8/m.0/Add']);
        for (const add of adds) {
          const cv2 = add.name.replace(/Add$/, 'cv2/conv/Conv');
          expect(add.fusedInto, `${policy} ${m.mode}`).toBe(cv2);
          expect(op(m, `${add.name}/Dequantize`).fusedInto, `${policy} ${m.mode}`).toBe(cv2);
          expect(op(m, `${add.name}/Quantize`).fusedInto, `${policy} ${m.mode}`).toBe(cv2);
        }
        // No Dequantize runs on its own anywhere in the int8 region.
        expect(m.ops.filter((o) => o.kind === 'Dequantize' && o.fusedInto === '').map((o) => o.name), `${policy} ${m.mode}`).toEqual([]);
      }
    }
  });
});
