/**
 * The `netdef` command. Errors are printed as `netdef: <CODE>: <message>` on stderr with exit code 1
 * for bad input (typed NetdefError) and 2 for anything unexpected.
 */
import { parseArgs } from 'node:util';
import { NetdefError } from '../common/errors.js';
import { NETDEF_VERSION } from '../common/version.js';
import { buildCommand, buildUsage } from './commands/build.js';
import { convert, convertUsage } from './commands/convert.js';
import { detect, detectUsage } from './commands/detect.js';
import { evalCommand, evalUsage } from './commands/eval.js';
import { exportOnnxCommand, exportUsage } from './commands/export-onnx.js';
import { inspect, inspectUsage } from './commands/inspect.js';
import { refitCommand, refitUsage } from './commands/refit.js';

const OPTIONS = {
  output: { type: 'string', short: 'o' },
  weights: { type: 'string' },
  model: { type: 'string' },
  'precision-policy': { type: 'string' },
  imgsz: { type: 'string' },
  batch: { type: 'string' },
  dtype: { type: 'string' },
  json: { type: 'boolean' },
  rect: { type: 'boolean' },
  agnostic: { type: 'boolean' },
  conf: { type: 'string' },
  iou: { type: 'string' },
  'max-det': { type: 'string' },
  classes: { type: 'string' },
  'save-dir': { type: 'string' },
  backend: { type: 'string' },
  workspace: { type: 'string' },
  'timing-cache': { type: 'string' },
  'trt-weights': { type: 'string' },
  nms: { type: 'boolean' },
  engine: { type: 'string' },
  data: { type: 'string' },
  format: { type: 'string' },
  annotations: { type: 'string' },
  'per-class': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

const USAGE = `usage:
  ${detectUsage}
  ${buildUsage}
  ${refitUsage}
  ${evalUsage}
  ${convertUsage}
  ${inspectUsage}
  ${exportUsage}
  netdef --version`;


export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 1;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${NETDEF_VERSION}\n`);
    return 0;
  }
  try {
    const { values, positionals } = parseArgs({ args: [...rest], options: OPTIONS, allowPositionals: true, strict: true });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    switch (command) {
      case 'convert': await convert(values, positionals); return 0;
      case 'inspect': await inspect(values); return 0;
      case 'export-onnx': await exportOnnxCommand(values); return 0;
      case 'detect': return await detect(values, positionals);
      case 'eval': return await evalCommand(values);
      case 'build': return await buildCommand(values);
      case 'refit': return await refitCommand(values, positionals);
      default:
        process.stderr.write(`netdef: unknown command '${command}'\n${USAGE}\n`);
        return 1;
    }
  } catch (e) {
    if (e instanceof NetdefError) {
      process.stderr.write(`netdef: ${e.code}: ${e.message}\n`);
      return 1;
    }
    const err = e as { code?: string; message?: string };
    if (typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`netdef: ${err.message}\n${USAGE}\n`);
      return 1;
    }
    process.stderr.write(`netdef: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 2;
  }
}
