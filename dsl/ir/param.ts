import type { HostTensor } from '../../common/host-tensor.js';

/** What a parameter is, so tools can check, initialise and fold it. */
export type ParamRole = 'conv.weight' | 'conv.bias' | 'bn.weight' | 'bn.bias' | 'bn.mean' | 'bn.var';

/**
 * A reference to a weight by its Ultralytics state_dict name, with the shape the graph expects.
 * `init` gives a fixed value for parameters that are part of the architecture (the DFL's arange
 * convolution): used when the weight file lacks the name.
 */
export interface ParamRef {
  readonly name: string;
  readonly shape: readonly number[];
  readonly role: ParamRole;
  readonly init?: HostTensor;
}

/** Batch-norm statistics folded into a convolution: w' = w·γ/√(σ²+ε), b' = (b−μ)·γ/√(σ²+ε)+β. */
export interface BnFold {
  readonly gamma: ParamRef;
  readonly beta: ParamRef;
  readonly mean: ParamRef;
  readonly var: ParamRef;
  readonly eps: number;
  /** The convolution's own bias before folding, if it had one. */
  readonly convBias: ParamRef | null;
}

export function paramRef(name: string, shape: readonly number[], role: ParamRole, init?: HostTensor): ParamRef {
  return Object.freeze({ name, shape: Object.freeze([...shape]), role, ...(init ? { init } : {}) });
}
