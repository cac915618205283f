/** `netdef refit model.engine --weights new.pt -o refitted.engine`: new weights, same engine, no rebuild where the backend allows. */
import { performance } from 'node:perf_hooks';
import { ErrorCode, fail } from '../../common/errors.js';
import { Engine } from '../../engine/engine.js';
import { required, type Values } from '../args.js';
import type { CommandSpec } from '../command.js';

async function refit(values: Values, positionals: readonly string[]): Promise<number> {
  const file = positionals[0];
  if (!file || positionals.length > 1) fail(ErrorCode.InvalidArgument, `refit takes one engine file, got ${positionals.length}`);
  const weights = required(values, 'weights', 'the new weights');
  const out = required(values, 'output', 'the refitted engine file to write');
  await using engine = await Engine.load(file);
  const started = performance.now();
  await engine.refit(weights);
  const seconds = (performance.now() - started) / 1000;
  await engine.save(out);
  process.stderr.write(`wrote ${out}: ${engine.metadata.model} on ${engine.backend} refitted from ${weights} in ${seconds.toFixed(2)} s\n`);
  return 0;
}

export const refitCommand: CommandSpec = {
  name: 'refit',
  summary: 'Put new weights (same model) into a saved engine without rebuilding it where the backend allows.',
  positionals: 'MODEL.engine',
  options: ['weights', 'output'],
  required: { weights: 'the new .pt or .safetensors weights', output: 'the refitted engine file to write' },
  run: refit,
};
