/**
 * docs/cli.md, generated from the option and command tables (`npm run docs:cli`), so the reference
 * users read is the help the command prints; test/cli/reference.test.ts checks it is current.
 */
import { commandHelp } from './command.js';
import { COMMANDS } from './commands/index.js';
import { OPTIONS, type OptionOrigin } from './options.js';

const ORIGIN_TEXT: Readonly<Record<OptionOrigin, string>> = {
  ultralytics: 'Ultralytics (`yolo predict/val`)',
  trtexec: 'trtexec',
  onnxruntime: 'onnxruntime-node',
  netdef: 'netdef',
};

export function cliReference(): string {
  const sections = COMMANDS.map((c) => `## netdef ${c.name}\n\n\`\`\`text\n${commandHelp(c)}\`\`\`\n`);
  const origins = (Object.keys(ORIGIN_TEXT) as OptionOrigin[]).map((origin) => {
    const names = Object.entries(OPTIONS).filter(([, spec]) => spec.origin === origin).map(([name]) => `\`--${name}\``);
    return `| ${ORIGIN_TEXT[origin]} | ${names.join(', ')} |`;
  });
  return [
    '# netdef command reference',
    '',
    'Generated from the option table (cli/options.ts) by `npm run docs:cli`; `netdef <command> --help` prints the same.',
    'An option a command does not list is refused with an error naming it (and the command it belongs to, or the nearest spelling).',
    '',
    '## Where the options come from',
    '',
    '| names and meanings of | options |',
    '|---|---|',
    ...origins,
    '',
    ...sections,
  ].join('\n');
}
