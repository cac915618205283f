/**
 * A command as a table entry (name, summary, positional arguments, the options it takes, what it
 * runs), and everything generated from it: argument parsing restricted to those options, refusal
 * of any other option with a suggestion, usage lines and per-command help.
 */
import { parseArgs } from 'node:util';
import { ErrorCode, fail } from '../common/errors.js';
import type { Values } from './args.js';
import { OPTIONS, type OptionName } from './options.js';

export interface CommandSpec {
  readonly name: string;
  /** One line: what the command does. */
  readonly summary: string;
  /** Positional arguments as shown in usage ('SOURCES...'), or '' for none. */
  readonly positionals: string;
  /** Options it takes (`help` is implied); shown in this order. */
  readonly options: readonly OptionName[];
  /** Options that must be given, with what they are. */
  readonly required?: Partial<Record<OptionName, string>>;
  readonly run: (values: Values, positionals: readonly string[]) => Promise<number>;
}

function optionSyntax(name: OptionName): string {
  const spec = OPTIONS[name];
  const value = 'value' in spec ? ` ${spec.value}` : '';
  return `--${name}${value}`;
}

export function usageLine(command: CommandSpec): string {
  const parts = command.options.map((o) => (command.required?.[o] ? optionSyntax(o) : `[${optionSyntax(o)}]`));
  return ['netdef', command.name, command.positionals, ...parts].filter(Boolean).join(' ');
}

/** `netdef <command> --help`: usage, summary, one line per option. */
export function commandHelp(command: CommandSpec): string {
  const names: OptionName[] = [...command.options, 'help'];
  const left = names.map((o) => {
    const spec = OPTIONS[o];
    return `${'short' in spec ? `-${spec.short}, ` : '    '}${optionSyntax(o)}`;
  });
  const width = Math.max(...left.map((l) => l.length));
  const lines = names.map((o, i) => {
    const need = command.required?.[o];
    return `  ${left[i]!.padEnd(width)}  ${need ? `(required) ${need}: ` : ''}${OPTIONS[o].help}`;
  });
  return `usage: ${usageLine(command)}\n\n${command.summary}\n\noptions:\n${lines.join('\n')}\n`;
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}

/** The closest option names to a misspelt one, nearest first (at most 2). */
export function suggestions(typed: string, candidates: readonly string[]): string[] {
  const limit = Math.max(2, Math.floor(typed.length / 3));
  return candidates.map((c) => ({ c, d: distance(typed, c) })).filter((x) => x.d <= limit).sort((x, y) => x.d - y.d).slice(0, 2).map((x) => x.c);
}

/** The option token at fault in an argument list, without leading dashes and any `=value`. */
function unknownOptionName(args: readonly string[], known: ReadonlySet<string>, shorts: ReadonlySet<string>): string | undefined {
  for (const arg of args) {
    if (arg === '--') return undefined;
    if (arg.startsWith('--')) {
      const name = arg.slice(2).split('=')[0]!;
      if (!known.has(name)) return `--${name}`;
    } else if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
      for (const ch of arg.slice(1)) if (!shorts.has(ch)) return `-${ch}`;
    }
  }
  return undefined;
}

function refuseUnknown(command: CommandSpec, token: string, all: readonly CommandSpec[]): never {
  const name = token.replace(/^-+/, '');
  const mine = [...command.options, 'help'];
  if (token === '-v') fail(ErrorCode.InvalidArgument, `-v is not an option of ${command.name}: -v/--version is \`netdef --version\`; did you mean --verbose?`);
  const elsewhere = all.filter((c) => c !== command && (c.options as readonly string[]).includes(name)).map((c) => c.name);
  if (elsewhere.length > 0) {
    fail(ErrorCode.InvalidArgument, `${token} is not an option of ${command.name} (it is one of ${elsewhere.join(', ')}); see netdef ${command.name} --help`);
  }
  const near = suggestions(name, mine);
  fail(ErrorCode.InvalidArgument, `unknown option ${token} for ${command.name}${near.length ? `; did you mean ${near.map((n) => `--${n}`).join(' or ')}?` : ''} (netdef ${command.name} --help lists them)`);
}

/** Parses a command's arguments: only its own options, each with the type the table gives it. */
export function parseCommandArgs(command: CommandSpec, args: readonly string[], all: readonly CommandSpec[]): { values: Values; positionals: string[] } {
  const names: OptionName[] = [...command.options, 'help'];
  const options = Object.fromEntries(names.map((n) => {
    const spec = OPTIONS[n];
    return [n, { type: spec.type, ...('short' in spec ? { short: spec.short } : {}) }];
  }));
  const shorts = new Set(names.flatMap((n) => ('short' in OPTIONS[n] ? [(OPTIONS[n] as { short: string }).short] : [])));
  const unknown = unknownOptionName(args, new Set<string>(names), shorts);
  if (unknown) refuseUnknown(command, unknown, all);
  try {
    const { values, positionals } = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
    return { values: values as Values, positionals };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) {
      fail(ErrorCode.InvalidArgument, `${command.name}: ${(err.message ?? '').replace(/'/g, '')}`);
    }
    throw e;
  }
}

/** Refuses options that may not be combined, naming both. */
export function exclusive(values: Values, a: OptionName, b: OptionName, why: string): void {
  if (values[a] !== undefined && values[b] !== undefined) fail(ErrorCode.InvalidArgument, `--${a} and --${b} cannot be used together: ${why}`);
}
