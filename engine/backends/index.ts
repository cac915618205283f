/** The backends netdef knows, by name, and the check that one can run here. */
import { ErrorCode, fail } from '../../common/errors.js';
import { clip } from '../../common/limits.js';
import type { Backend } from '../backend.js';
import { cudaBackend } from './cuda.js';
import { onnxruntimeBackend } from './onnxruntime.js';
import { tensorrtBackend } from './tensorrt.js';

export const BACKENDS: Readonly<Record<string, Backend>> = { onnxruntime: onnxruntimeBackend, cuda: cudaBackend, tensorrt: tensorrtBackend };

/** The default where no GPU backend is present. */
export const DEFAULT_BACKEND = 'onnxruntime';

/** The backend by name (an own key of BACKENDS only: `constructor` is no backend), if it can run here. */
export function selectBackend(name: string = DEFAULT_BACKEND): Backend {
  const backend = typeof name === 'string' && Object.hasOwn(BACKENDS, name) ? BACKENDS[name] : undefined;
  if (!backend) fail(ErrorCode.InvalidArgument, `unknown backend '${clip(String(name))}' (available: ${Object.keys(BACKENDS).join(', ')})`);
  const available = backend.available();
  if (!available.ok) fail(available.code ?? ErrorCode.Backend, `backend '${name}' cannot run here: ${available.reason}`);
  return backend;
}
