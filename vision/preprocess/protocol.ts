/** Messages between the main thread and the preprocessing workers (vision/preprocess/worker.ts). */
import type { LetterboxGeometry } from '../letterbox.js';
import type { InputDType } from '../tensor.js';

/** An image already in memory, as plain data that crosses threads. */
export interface RawRgb {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
  readonly path: string;
}

export interface DecodeRequest {
  readonly key: number;
  readonly source: string | Uint8Array | RawRgb;
  /** A name for a buffer source, used in errors. */
  readonly name?: string;
  /**
   * Hand the RGB bytes over with the reply (for a letterbox on the GPU) instead of keeping the image
   * for a `letterbox` request: one message per image instead of two.
   */
  readonly handOver?: boolean;
}

export interface DecodeReply {
  readonly width: number;
  readonly height: number;
  readonly path: string;
  readonly ms: number;
  /** The RGB bytes (HWC), with `handOver`. */
  readonly data?: Uint8Array;
}

export interface LetterboxRequest {
  readonly key: number;
  readonly shape: readonly [number, number];
  readonly auto: boolean;
  readonly dtype: InputDType;
  /**
   * Validation's preprocessing (vision/val-shapes.ts): first resize the long side to this size
   * (`load_image`), then letterbox without upscaling. Absent: predict's letterbox.
   */
  readonly valImgsz?: number;
}

export interface LetterboxReply {
  /** The [1, 3, H, W] tensor's bytes. */
  readonly data: Uint8Array;
  readonly geometry: LetterboxGeometry;
  /** The size after validation's load-resize (the letterbox's source); the decoded size otherwise. */
  readonly loaded: { readonly width: number; readonly height: number };
  readonly ms: number;
}
