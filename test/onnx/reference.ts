/**
 * Straightforward CPU references (NCHW, row-major, float32 or float64 arithmetic) that the ONNX
 * Runtime results are compared with. Written for clarity, not speed: naive loops only.
 */

export interface Conv2dArgs {
  readonly x: Float32Array;
  readonly shape: readonly [number, number, number, number];
  readonly w: Float32Array;
  readonly wShape: readonly [number, number, number, number];
  readonly bias: Float32Array | null;
  readonly stride: readonly [number, number];
  /** [top, left, bottom, right] */
  readonly pad: readonly [number, number, number, number];
  readonly dilation: readonly [number, number];
  readonly groups: number;
}

export function outSize(size: number, k: number, s: number, before: number, after: number, d = 1): number {
  return Math.floor((size + before + after - d * (k - 1) - 1) / s) + 1;
}

export function conv2d(a: Conv2dArgs): { data: Float32Array; shape: number[] } {
  const [n, c, h, w] = a.shape;
  const [o, cg, kh, kw] = a.wShape;
  const oh = outSize(h, kh, a.stride[0], a.pad[0], a.pad[2], a.dilation[0]);
  const ow = outSize(w, kw, a.stride[1], a.pad[1], a.pad[3], a.dilation[1]);
  const og = o / a.groups;
  const out = new Float32Array(n * o * oh * ow);
  for (let b = 0; b < n; b++) for (let oc = 0; oc < o; oc++) {
    const g = Math.floor(oc / og);
    for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) {
      let sum = a.bias ? a.bias[oc]! : 0;
      for (let ic = 0; ic < cg; ic++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
        const iy = y * a.stride[0] - a.pad[0] + i * a.dilation[0];
        const ix = x * a.stride[1] - a.pad[1] + j * a.dilation[1];
        if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
        sum += a.x[((b * c + g * cg + ic) * h + iy) * w + ix]! * a.w[((oc * cg + ic) * kh + i) * kw + j]!;
      }
      out[((b * o + oc) * oh + y) * ow + x] = sum;
    }
  }
  return { data: out, shape: [n, o, oh, ow] };
}

export const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
export const silu = (v: number): number => v * sigmoid(v);
export const relu = (v: number): number => Math.max(0, v);

export function map(x: Float32Array, f: (v: number) => number): Float32Array {
  return x.map(f);
}

/** Max pooling (padded cells never win) or average pooling counting padded cells (PyTorch's default). */
export function pool2d(
  x: Float32Array, shape: readonly [number, number, number, number], op: 'max' | 'average',
  k: readonly [number, number], s: readonly [number, number], pad: readonly [number, number, number, number],
): { data: Float32Array; shape: number[] } {
  const [n, c, h, w] = shape;
  const oh = outSize(h, k[0], s[0], pad[0], pad[2]);
  const ow = outSize(w, k[1], s[1], pad[1], pad[3]);
  const out = new Float32Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++) for (let y = 0; y < oh; y++) for (let xo = 0; xo < ow; xo++) {
    let acc = op === 'max' ? -Infinity : 0;
    for (let i = 0; i < k[0]; i++) for (let j = 0; j < k[1]; j++) {
      const iy = y * s[0] - pad[0] + i;
      const ix = xo * s[1] - pad[1] + j;
      if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
      const v = x[(p * h + iy) * w + ix]!;
      acc = op === 'max' ? Math.max(acc, v) : acc + v;
    }
    out[(p * oh + y) * ow + xo] = op === 'max' ? acc : acc / (k[0] * k[1]);
  }
  return { data: out, shape: [n, c, oh, ow] };
}

/** Nearest upsampling by integer factors on the last two axes. */
export function upsampleNearest(x: Float32Array, shape: readonly [number, number, number, number], sh: number, sw: number): Float32Array {
  const [n, c, h, w] = shape;
  const out = new Float32Array(n * c * h * sh * w * sw);
  for (let p = 0; p < n * c; p++) for (let y = 0; y < h * sh; y++) for (let xo = 0; xo < w * sw; xo++) {
    out[(p * h * sh + y) * w * sw + xo] = x[(p * h + Math.floor(y / sh)) * w + Math.floor(xo / sw)]!;
  }
  return out;
}

/** Softmax over axis 1 of an [outer, axis, inner] view. */
export function softmax(x: Float32Array, outer: number, axis: number, inner: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
    const at = (k: number) => (o * axis + k) * inner + i;
    let max = -Infinity;
    for (let k = 0; k < axis; k++) max = Math.max(max, x[at(k)]!);
    let sum = 0;
    for (let k = 0; k < axis; k++) sum += Math.exp(x[at(k)]! - max);
    for (let k = 0; k < axis; k++) out[at(k)] = Math.exp(x[at(k)]! - max) / sum;
  }
  return out;
}

/** Row-major strides of a shape. */
function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/** A binary operation with NumPy broadcasting of `b` (rank <= rank of a) onto `a`'s shape. */
export function broadcastBinary(a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[], f: (x: number, y: number) => number): Float32Array {
  const rank = aShape.length;
  const bFull = [...new Array<number>(rank - bShape.length).fill(1), ...bShape];
  const as = strides(aShape);
  const bs = strides(bFull);
  return a.map((v, i) => {
    let bi = 0;
    for (let d = 0; d < rank; d++) {
      const idx = Math.floor(i / as[d]!) % aShape[d]!;
      bi += (bFull[d] === 1 ? 0 : idx) * bs[d]!;
    }
    return f(v, b[bi]!);
  });
}

/** Batched [batch, m, k] x [k, n]. */
export function matmul(a: Float32Array, batch: number, m: number, k: number, b: Float32Array, n: number): Float32Array {
  const out = new Float32Array(batch * m * n);
  for (let p = 0; p < batch; p++) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let sum = 0;
    for (let q = 0; q < k; q++) sum += a[(p * m + i) * k + q]! * b[q * n + j]!;
    out[(p * m + i) * n + j] = sum;
  }
  return out;
}

/** Round half to even (ONNX QuantizeLinear's rounding). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Permutes a row-major tensor: out dim i is input dim perm[i]. */
export function transpose(x: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = strides(shape);
  const outStrides = strides(outShape);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    let src = 0;
    for (let d = 0; d < perm.length; d++) src += (Math.floor(i / outStrides[d]!) % outShape[d]!) * inStrides[perm[d]!]!;
    out[i] = x[src]!;
  }
  return out;
}
