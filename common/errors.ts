/**
 * Typed errors with stable codes. Every error netdef throws on bad input is a NetdefError whose
 * `code` never changes between versions and whose message names the file, tensor or layer at fault.
 */
export const ErrorCode = {
  /** An argument (option, path, name) is invalid before any work starts. */
  InvalidArgument: 'ERR_INVALID_ARGUMENT',
  /** A file that should exist does not, or cannot be read. */
  FileNotFound: 'ERR_FILE_NOT_FOUND',
  /** A file cannot be written (missing folder, permissions, disk full); nothing is left half-written. */
  FileWrite: 'ERR_FILE_WRITE',
  /** A zip container (PyTorch .pt) is cut short or damaged. */
  ZipFormat: 'ERR_ZIP_FORMAT',
  /** A pickle stream is malformed or uses an opcode the restricted unpickler does not accept. */
  PickleFormat: 'ERR_PICKLE_FORMAT',
  /** A pickle names a global outside the allowlist; nothing was executed. */
  PickleForbidden: 'ERR_PICKLE_FORBIDDEN_GLOBAL',
  /** A .pt file holds no usable model / state_dict. */
  CheckpointFormat: 'ERR_CHECKPOINT_FORMAT',
  /** A safetensors header is malformed (length, JSON, metadata). */
  SafetensorsHeader: 'ERR_SAFETENSORS_HEADER',
  /** A safetensors tensor's offsets are out of range, overlapping or not contiguous. */
  SafetensorsOffsets: 'ERR_SAFETENSORS_OFFSETS',
  /** A safetensors tensor has a dtype netdef does not know. */
  SafetensorsDtype: 'ERR_SAFETENSORS_DTYPE',
  /** Weights do not fit the graph: missing, unexpected, wrong shape or dtype (all listed). */
  WeightsMismatch: 'ERR_WEIGHTS_MISMATCH',
  /** A DSL call is inconsistent (shapes, channels, dtypes); the message names the layer. */
  DslShape: 'ERR_DSL_SHAPE',
  /** A graph fails verification (dangling tensor, duplicate name, cycle, stale types). */
  GraphInvalid: 'ERR_GRAPH_INVALID',
  /** A precision policy cannot be parsed or names an unknown precision. */
  PolicySyntax: 'ERR_PRECISION_POLICY',
  /**
   * A calibration is unusable: missing for an int8 policy, truncated or malformed, made for another
   * graph or other weights, or lacking tensors the int8 layers read (the file and tensors are named).
   */
  Calibration: 'ERR_CALIBRATION',
  /** A backend cannot build or run the graph. */
  Backend: 'ERR_BACKEND',
  /** An engine file is truncated, corrupted, or from another format, netdef version, backend or GPU. */
  EngineFormat: 'ERR_ENGINE_FORMAT',
  /** The model description (scale, class count) is unknown or inconsistent. */
  ModelSpec: 'ERR_MODEL_SPEC',
  /** An image file or buffer cannot be decoded (not an image, truncated, unsupported); the message names it. */
  ImageDecode: 'ERR_IMAGE_DECODE',
  /** A video or stream cannot be opened or ends early (ffmpeg's own message is quoted). */
  VideoDecode: 'ERR_VIDEO_DECODE',
  /** No ffmpeg: neither NETDEF_FFMPEG, nor the @ffmpeg-installer package, nor one on PATH. */
  FfmpegMissing: 'ERR_FFMPEG_NOT_FOUND',
  /** An evaluation dataset is malformed: no labels or annotations, a bad label line, non-COCO JSON. */
  Dataset: 'ERR_DATASET',
  /** No CUDA driver or no CUDA device on this machine (the CPU backend still works). */
  NoCudaDevice: 'ERR_NO_CUDA_DEVICE',
  /** cuDNN 9 cannot be loaded (libcudnn.so.9 missing or too old). */
  CudnnUnavailable: 'ERR_CUDNN_UNAVAILABLE',
  /** The GPU (or the host) ran out of memory; nothing was left half-built. */
  OutOfMemory: 'ERR_OUT_OF_MEMORY',
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export class NetdefError extends Error {
  readonly code: ErrorCodeValue;
  /** Structured details (for example the list of weight mismatches). */
  readonly details: unknown;

  constructor(code: ErrorCodeValue, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NetdefError';
    this.code = code;
    this.details = options?.details;
  }
}

export function fail(code: ErrorCodeValue, message: string, details?: unknown): never {
  throw new NetdefError(code, message, { details });
}
