/**
 * The network's image input. `float32` (the default, as Ultralytics' exports): [B, 3, H, W] RGB
 * scaled to [0, 1] by the caller. `uint8`: the letterboxed RGB bytes themselves, and the graph
 * does Ultralytics' `im.float() / 255` in its first two layers (`/preprocess/Cast`,
 * `/preprocess/Div`): an exact cast and an IEEE division, so the network sees the same float32
 * values to the bit, while the host and the PCIe bus move a quarter of the bytes.
 */
import { hostTensor } from '../../common/host-tensor.js';
import type { GraphBuilder, Tensor } from '../../dsl/builder.js';
import type { Dim } from '../../dsl/ir/tensor-type.js';
import { PREPROCESS_SCOPE } from '../../dsl/quantize/int8-regions.js';

export type ImageInputDType = 'float32' | 'uint8';

/** The largest 8-bit value: Ultralytics divides by it. */
const PIXEL_MAX = 255;

export function imageInput(b: GraphBuilder, shape: readonly Dim[], dtype: ImageInputDType = 'float32'): Tensor {
  if (dtype === 'float32') return b.input('images', 'float32', shape);
  const bytes = b.input('images', 'uint8', shape);
  const scope = b.root().child(PREPROCESS_SCOPE.slice(1, -1));
  const max = scope.constant(hostTensor('float32', [1, 1, 1, 1], new Uint8Array(Float32Array.of(PIXEL_MAX).buffer)));
  return scope.div(scope.cast(bytes, 'float32'), max);
}
