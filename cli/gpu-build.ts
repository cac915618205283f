/** The GPU backends' build flags shared by `build` and `benchmark`, refused with a backend that does not read them. */
import { ErrorCode, fail } from '../common/errors.js';
import type { Fp32Math, TacticSearch } from '../engine/backend.js';
import { str, type Values } from './args.js';

export interface GpuBuildOptions {
  readonly timingCache?: string;
  readonly search?: TacticSearch;
  readonly fp32Math?: Fp32Math;
}

/** --timing-cache and --fp32-math (cuda and tensorrt), --tactic-search (cuda). */
export function gpuBuildOptions(values: Values, backend: string | undefined): GpuBuildOptions {
  const timingCache = str(values, 'timing-cache');
  const search = str(values, 'tactic-search');
  const fp32Math = str(values, 'fp32-math');
  const gpu = backend === 'cuda' || backend === 'tensorrt';
  if (timingCache !== undefined && !gpu) fail(ErrorCode.InvalidArgument, '--timing-cache is read by the cuda and tensorrt backends: add --backend cuda or --backend tensorrt');
  if (fp32Math !== undefined && !gpu) fail(ErrorCode.InvalidArgument, '--fp32-math is read by the cuda and tensorrt backends: add --backend cuda or --backend tensorrt');
  if (search !== undefined && backend !== 'cuda') fail(ErrorCode.InvalidArgument, '--tactic-search is the cuda backend\'s: add --backend cuda');
  if (search !== undefined && search !== 'heuristic' && search !== 'exhaustive') fail(ErrorCode.InvalidArgument, `--tactic-search must be heuristic or exhaustive, got '${search}'`);
  if (fp32Math !== undefined && fp32Math !== 'fma' && fp32Math !== 'tf32') fail(ErrorCode.InvalidArgument, `--fp32-math must be fma or tf32, got '${fp32Math}'`);
  return {
    ...(timingCache !== undefined ? { timingCache } : {}), ...(search !== undefined ? { search: search as TacticSearch } : {}),
    ...(fp32Math !== undefined ? { fp32Math: fp32Math as Fp32Math } : {}),
  };
}
