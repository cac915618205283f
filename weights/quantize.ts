/**
 * Symmetric int8 quantization of convolution weights, one scale per output channel, as TensorRT's
 * explicit quantization expects (zero point 0): scale[k] = max|w[k,…]| / 127 and
 * q = clamp(roundHalfEven(w / scale[k]), -128, 127), in float32 arithmetic. The scales are
 * recomputed from whatever weights are bound, so a refit requantizes new weights with their own
 * ranges; activation scales (in the graph, from calibration) stay as they were.
 */
import { hostTensor, type HostTensor } from '../common/host-tensor.js';
import { roundHalfEven } from '../common/round.js';
import type { ParamRef } from '../dsl/ir/param.js';

/** The largest magnitude of a symmetric int8 value. */
export const INT8_MAX = 127;
const INT8_MIN = -128;


/** x quantized with `scale` (float32 division, round half to even, saturated to int8). */
export function quantizeValue(x: number, scale: number): number {
  return Math.min(INT8_MAX, Math.max(INT8_MIN, roundHalfEven(Math.fround(x / scale))));
}

/** The scale that maps [-amax, amax] onto [-127, 127]; a zero range gets scale 1 (all zeros stay zero). */
export function symmetricScale(amax: number): number {
  return amax > 0 ? Math.fround(amax / INT8_MAX) : 1;
}

/** Where the per-channel scales of a quantized weight are kept among the materialized parameters. */
export function weightScaleName(weight: ParamRef | string): string {
  return `${typeof weight === 'string' ? weight : weight.name}.scale`;
}

export interface QuantizedWeights {
  readonly weight: HostTensor;
  readonly scales: HostTensor;
}

/** Quantizes weights [K, …] per output channel k (the first dimension). */
export function quantizePerChannel(values: Float32Array, shape: readonly number[]): QuantizedWeights {
  const outChannels = shape[0]!;
  const perOut = values.length / outChannels;
  const q = new Int8Array(values.length);
  const scales = new Float32Array(outChannels);
  for (let k = 0; k < outChannels; k++) {
    let amax = 0;
    for (let i = 0; i < perOut; i++) amax = Math.max(amax, Math.abs(values[k * perOut + i]!));
    const scale = symmetricScale(amax);
    scales[k] = scale;
    for (let i = 0; i < perOut; i++) q[k * perOut + i] = quantizeValue(values[k * perOut + i]!, scale);
  }
  return {
    weight: hostTensor('int8', shape, new Uint8Array(q.buffer)),
    scales: hostTensor('float32', [outChannels], new Uint8Array(scales.buffer)),
  };
}
