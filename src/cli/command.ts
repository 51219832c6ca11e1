import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { Faults } from '../fs/faults.ts';
import { UsageError } from './errors.ts';

export interface Command {
  name: string;
  summary: string;
  /** Full help text: usage line, description, options. */
  help: string;
  run(argv: string[], ctx?: CommandContext): Promise<void>;
}

/** What the shell hands every command besides its arguments. */
export interface CommandContext {
  /** Crash injection for tests; only the test-support wrapper of the CLI passes one. */
  faults?: Faults;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs with usage errors as one line, and `--help` on every command. */
export function parse<O extends Options>(argv: string[], options: O, help: string) {
  try {
    const parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if ((parsed.values as { help?: boolean }).help) {
      process.stdout.write(`${help.trim()}\n`);
      process.exit(0);
    }
    return parsed;
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split(/\.\s/)[0]} (see --help)`);
  }
}

export function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,10}$/.test(value) || Number(value) > 0xffffffff)
    throw new UsageError(`${name} must be a whole number`);
  return Number(value);
}
