/**
 * YOLOv8 building blocks, named and wired as Ultralytics' `nn/modules/conv.py` and `block.py`
 * write them, so layer and weight names match the official export and state_dict.
 */
import type { Module, Tensor } from '../../dsl/builder.js';

/** Ultralytics sets every BatchNorm2d's eps to 1e-3 (`initialize_weights`). */
export const BN_EPS = 1e-3;

export function channelsOf(x: Tensor): number {
  return x.type.shape[1] as number;
}

/** Conv: conv (no bias) + BatchNorm + SiLU, 'same' padding (autopad). */
export function Conv(m: Module, x: Tensor, c2: number, k = 1, s = 1, options: { groups?: number; act?: boolean } = {}): Tensor {
  const y = m.child('conv').conv2d(x, { outChannels: c2, kernel: k, stride: s, padding: 'same', groups: options.groups ?? 1, bias: false });
  const z = m.child('bn').batchNorm(y, { eps: BN_EPS });
  return options.act === false ? z : m.child('act').silu(z);
}

/** Bottleneck: cv1 (k 3) then cv2 (k 3), with a residual add when asked and shapes allow. */
export function Bottleneck(m: Module, x: Tensor, c2: number, shortcut: boolean, expansion = 0.5): Tensor {
  const hidden = Math.trunc(c2 * expansion);
  const y = Conv(m.child('cv2'), Conv(m.child('cv1'), x, hidden, 3, 1), c2, 3, 1);
  return shortcut && channelsOf(x) === c2 ? m.add(x, y) : y;
}

/** C2f: cv1 to 2c channels, split in halves, n bottlenecks chained on the last part, concat all, cv2. */
export function C2f(m: Module, x: Tensor, c2: number, n: number, shortcut: boolean): Tensor {
  const EXPANSION = 0.5;
  const c = Math.trunc(c2 * EXPANSION);
  const parts = m.split(Conv(m.child('cv1'), x, 2 * c, 1, 1), [c, c], 1);
  const bottlenecks = m.list('m');
  for (let i = 0; i < n; i++) parts.push(Bottleneck(bottlenecks.at(i), parts[parts.length - 1]!, c, shortcut, 1.0));
  return Conv(m.child('cv2'), m.concat(parts, 1), c2, 1);
}

/** SPPF: cv1 to c1/2, three chained max-pools (k 5), concat the four, cv2. */
export function SPPF(m: Module, x: Tensor, c2: number, k = 5): Tensor {
  const POOLS = 3;
  let y = Conv(m.child('cv1'), x, Math.trunc(channelsOf(x) / 2), 1, 1);
  const parts = [y];
  for (let i = 0; i < POOLS; i++) {
    // Ultralytics calls one MaxPool2d module three times; the ONNX export names the calls m, m_1, m_2.
    y = m.child(i === 0 ? 'm' : `m_${i}`).maxPool(y, { kernel: k, stride: 1, padding: Math.floor(k / 2) });
    parts.push(y);
  }
  return Conv(m.child('cv2'), m.concat(parts, 1), c2, 1);
}
