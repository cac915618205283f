/** Every `netdef` command, in the order help lists them. */
import type { CommandSpec } from '../command.js';
import { benchmarkCommand } from './benchmark.js';
import { buildCommand } from './build.js';
import { calibrateCommand } from './calibrate.js';
import { convertCommand } from './convert.js';
import { detectCommand } from './detect.js';
import { evalCommand } from './eval.js';
import { exportOnnxCommand } from './export-onnx.js';
import { inspectCommand } from './inspect.js';
import { refitCommand } from './refit.js';

export const COMMANDS: readonly CommandSpec[] = [
  detectCommand, evalCommand, calibrateCommand, buildCommand, benchmarkCommand, refitCommand, convertCommand, inspectCommand, exportOnnxCommand,
];
