/** `netdef convert model.pt -o model.safetensors`: Ultralytics names kept, model facts in the metadata. */
import { performance } from 'node:perf_hooks';
import { ErrorCode, fail } from '../../common/errors.js';
import { convertPtToSafetensors } from '../../weights/convert.js';
import { required, str, type Values } from '../args.js';
import type { CommandSpec } from '../command.js';

const DTYPE_CHOICES = ['keep', 'float32', 'float16'] as const;

async function convert(values: Values, positionals: readonly string[]): Promise<number> {
  const input = positionals[0];
  if (!input || positionals.length > 1) fail(ErrorCode.InvalidArgument, `convert takes one .pt file, got ${positionals.length}`);
  const out = required(values, 'output', 'the .safetensors file to write');
  const dtype = str(values, 'dtype') ?? 'keep';
  if (!(DTYPE_CHOICES as readonly string[]).includes(dtype)) fail(ErrorCode.InvalidArgument, `--dtype must be one of ${DTYPE_CHOICES.join(', ')}, got '${dtype}'`);
  const started = performance.now();
  const summary = await convertPtToSafetensors(input, out, { dtype: dtype as (typeof DTYPE_CHOICES)[number] });
  const seconds = (performance.now() - started) / 1000;
  const info = summary.info;
  process.stderr.write(`wrote ${out}: ${summary.tensors} tensors, ${(summary.bytes / 1e6).toFixed(1)} MB`
    + `${info.scale ? `, yolov8${info.scale}` : ''}${info.nc ? `, ${info.nc} classes` : ''} in ${seconds.toFixed(2)} s\n`);
  return 0;
}

export const convertCommand: CommandSpec = {
  name: 'convert',
  summary: 'Convert an Ultralytics .pt checkpoint to safetensors (Ultralytics names kept; nc, names, scale, strides in the metadata).',
  positionals: 'MODEL.pt',
  options: ['output', 'dtype'],
  required: { output: 'the .safetensors file to write' },
  run: convert,
};
