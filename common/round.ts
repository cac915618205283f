/** Round half to even (banker's rounding): OpenCV's cvRound, ONNX QuantizeLinear and CUDA's __float2int_rn. */
export function roundHalfEven(v: number): number {
  const floor = Math.floor(v);
  const diff = v - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}
