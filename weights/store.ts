import type { HostTensor } from '../common/host-tensor.js';

/** What a checkpoint says about the model it holds (read from a .pt or a netdef safetensors file). */
export interface ModelInfo {
  /** Ultralytics scale letter ('n', 's', 'm', 'l', 'x') when known. */
  readonly scale?: string;
  /** Number of classes. */
  readonly nc?: number;
  /** Class names, index = class id. */
  readonly names?: readonly string[];
  /** Detection strides (8, 16, 32). */
  readonly strides?: readonly number[];
  /** The model family / config name as stored (e.g. 'yolov8n.yaml'). */
  readonly config?: string;
}

/** Where a set of weights came from. */
export interface WeightSource {
  readonly path: string;
  readonly format: 'pt' | 'safetensors' | 'random' | 'memory';
  /** sha256 of the file's bytes (hex), or of the original .pt for converted files. */
  readonly sha256?: string;
}

/**
 * Weights by their Ultralytics state_dict names, kept in their stored dtype, plus what the file
 * says about the model. Produced by the .pt and safetensors readers; consumed by binding.
 */
export interface WeightStore {
  readonly tensors: ReadonlyMap<string, HostTensor>;
  readonly info: ModelInfo;
  readonly source: WeightSource;
}
