/**
 * `--device`, `--backend` and `--threads` together, as Ultralytics' `device=` reads: `cpu` is the
 * CPU backend (onnxruntime); a GPU index N is the cuda backend (or tensorrt when asked for) on GPU
 * N. Like Ultralytics' select_device, the index is applied through CUDA_VISIBLE_DEVICES before the
 * native addon initialises CUDA, so the engine's GPU 0 is the physical GPU N. Contradictions
 * (`--device cpu --backend cuda`, `--threads` on a GPU backend) are refused, naming both options.
 */
import { ErrorCode, fail } from '../common/errors.js';
import { positiveInt, str, type Values } from './args.js';

const CPU_BACKEND = 'onnxruntime';
const GPU_BACKENDS: readonly string[] = ['cuda', 'tensorrt'];
const DEFAULT_GPU_BACKEND = 'cuda';

export interface Placement {
  readonly backend?: string;
  readonly threads?: number;
}

export function placement(values: Values): Placement {
  const device = str(values, 'device');
  let backend = str(values, 'backend');
  if (device !== undefined) {
    if (device === 'cpu') {
      if (backend !== undefined && backend !== CPU_BACKEND) fail(ErrorCode.InvalidArgument, `--device cpu runs the ${CPU_BACKEND} backend; it contradicts --backend ${backend}`);
      backend = CPU_BACKEND;
    } else {
      if (!/^\d+$/.test(device)) fail(ErrorCode.InvalidArgument, `--device must be cpu or a GPU index (0, 1, ...), got '${device}'`);
      if (backend !== undefined && !GPU_BACKENDS.includes(backend)) fail(ErrorCode.InvalidArgument, `--device ${device} is a GPU; --backend ${backend} runs on the CPU (use --backend cuda or tensorrt)`);
      backend ??= DEFAULT_GPU_BACKEND;
      process.env['CUDA_VISIBLE_DEVICES'] = device;
    }
  }
  const threads = positiveInt(values, 'threads');
  if (threads !== undefined && backend !== undefined && backend !== CPU_BACKEND) {
    fail(ErrorCode.InvalidArgument, `--threads sets the CPU backend's threads; it does nothing for --backend ${backend}`);
  }
  return { ...(backend !== undefined ? { backend } : {}), ...(threads !== undefined ? { threads } : {}) };
}
