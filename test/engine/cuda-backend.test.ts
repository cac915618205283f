/**
 * The cuda backend as seen from a machine without a GPU (CI): a typed "no CUDA device" error, no
 * crash, and the CPU backend keeps working. On a machine with a GPU the same checks assert that the
 * backend is available instead (the GPU behaviour itself is tested by `npm run test:gpu`).
 */
import { describe, expect, it } from 'vitest';
import { cudaBackend } from '../../engine/backends/cuda.js';
import { selectBackend } from '../../engine/backends/index.js';
import { Detector } from '../../engine/detector.js';
import { loadNativeAddon } from '../../engine/native/load.js';
import { netdef } from '../cli/run.js';
import { dataPath } from '../data.js';

const hasGpu = loadNativeAddon().capabilities().cuda.ok;

describe('cuda backend availability', () => {
  it(hasGpu ? 'is available on this GPU machine' : 'fails with ERR_NO_CUDA_DEVICE here', () => {
    if (hasGpu) {
      expect(cudaBackend.available()).toEqual({ ok: true });
      return;
    }
    const availability = cudaBackend.available();
    expect(availability.ok).toBe(false);
    expect(() => selectBackend('cuda')).toThrow(expect.objectContaining({ code: 'ERR_NO_CUDA_DEVICE' }));
    expect(cudaBackend.target()).toBe('none');
  });

  it.skipIf(hasGpu)('reports it from the CLI and the Detector, while the CPU backend keeps working', async () => {
    const res = await netdef('detect', dataPath('images', 'bus.jpg'), '--weights', dataPath('weights', 'yolov8n.pt'), '--backend', 'cuda', '--no-save');
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('ERR_NO_CUDA_DEVICE');
    await expect(Detector.load(dataPath('weights', 'yolov8n.pt'), { backend: 'cuda' })).rejects.toMatchObject({ code: 'ERR_NO_CUDA_DEVICE' });
    await using cpu = await Detector.load(dataPath('weights', 'yolov8n.pt'));
    const [r] = await cpu.detect(dataPath('images', 'bus.jpg'));
    expect(r!.detections.length).toBeGreaterThan(3);
  });
});
