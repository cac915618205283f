/**
 * The CUDA engine's runner: NativeRunner plus runImages (engine/image-run.ts), which the CUDA
 * engine implements (native/src/cuda/image_io.h) and TensorRT does not.
 */
import type { DType } from '../../common/dtype.js';
import { type CandidateQuery, type DeviceImage, type ImageRun, checkCandidateQuery, checkDeviceImages } from '../image-run.js';
import type { NativeLetterboxImage } from '../native/addon-types.js';
import { NativeRunner } from './native-runner.js';

export class CudaRunner extends NativeRunner {
  async runImages(images: readonly DeviceImage[], input: readonly [number, number], candidates?: CandidateQuery): Promise<ImageRun> {
    checkDeviceImages(images, input);
    if (candidates) checkCandidateQuery(candidates);
    const native: NativeLetterboxImage[] = images.map((im) => ({
      data: im.data, width: im.width, height: im.height,
      unpadWidth: im.geometry.newUnpadWidth, unpadHeight: im.geometry.newUnpadHeight, padLeft: im.geometry.padLeft, padTop: im.geometry.padTop,
    }));
    const query = candidates && { conf: candidates.conf, maxNms: candidates.maxNms, ...(candidates.classes ? { classes: [...candidates.classes] } : {}) };
    const out = await this.native.runImages(native, query);
    if (out.candidates) return { candidates: out.candidates };
    const outputs = Object.fromEntries(Object.entries(out.outputs ?? {}).map(([name, o]) => [name, { dtype: o.dtype as DType, shape: [...o.shape], data: o.data }]));
    return { outputs };
  }
}
