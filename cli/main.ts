/**
 * The `netdef` command. Errors are printed as `netdef: <CODE>: <message>` on stderr with exit code 1
 * for bad input (typed NetdefError) and 2 for anything unexpected. Each command's options, usage and
 * help come from one table (cli/options.ts, cli/command.ts).
 */
import { NetdefError } from '../common/errors.js';
import { NETDEF_VERSION } from '../common/version.js';
import { commandHelp, parseCommandArgs, type CommandSpec, usageLine } from './command.js';
import { COMMANDS } from './commands/index.js';

function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const list = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
  return `usage: netdef <command> [options]   (netdef <command> --help for its options)\n\ncommands:\n${list}\n\n`
    + `  netdef --version\n`;
}

async function runCommand(command: CommandSpec, args: readonly string[]): Promise<number> {
  try {
    const { values, positionals } = parseCommandArgs(command, args, COMMANDS);
    if (values.help) {
      process.stdout.write(commandHelp(command));
      return 0;
    }
    if (!command.positionals && positionals.length > 0) {
      process.stderr.write(`netdef: ERR_INVALID_ARGUMENT: ${command.name} takes no positional arguments, got '${positionals[0]}'\nusage: ${usageLine(command)}\n`);
      return 1;
    }
    return await command.run(values, positionals);
  } catch (e) {
    if (e instanceof NetdefError) {
      process.stderr.write(`netdef: ${e.code}: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`netdef: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 2;
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' && rest[0] ? findCommand(rest[0]) : undefined;
    process.stdout.write(topic ? commandHelp(topic) : mainHelp());
    return name ? 0 : 1;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${NETDEF_VERSION}\n`);
    return 0;
  }
  const command = findCommand(name);
  if (!command) {
    process.stderr.write(`netdef: unknown command '${name}'\n${mainHelp()}`);
    return 1;
  }
  return runCommand(command, rest);
}
