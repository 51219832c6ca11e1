import { type ParseArgsConfig, parseArgs } from 'node:util';
import { describeError, EmbassyError } from '../errors.ts';
import type { Faults } from '../fs/faults.ts';
import { UsageError } from './errors.ts';

export interface Command {
  name: string;
  summary: string;
  /** Full help text: usage line, description, options. */
  help: string;
  /**
   * Runs the command; resolves to its exit status (docs/DECISIONS.md#d24): 0 success, 1 a finding
   * (a verification finding, a job with a failed item, a failed check). Failures and usage errors
   * are thrown; src/cli/main.ts turns them into one line on stderr and status 1 or 2.
   */
  run(argv: string[], ctx?: CommandContext): Promise<number>;
}

/** What the shell hands every command besides its arguments. */
export interface CommandContext {
  /** Crash injection for tests; only the test-support wrapper of the CLI passes one. */
  faults?: Faults;
  /** The clock (docs/DECISIONS.md#d53); only the test-support wrapper of the CLI injects one. */
  now?: () => Date;
}

/**
 * A well-formed command line refused on the state it meets (a key file exists, no keys for the
 * ceremony, the person declined): exit status 1, where a {@link UsageError} is 2.
 */
export class CommandError extends EmbassyError<'refused'> {
  constructor(message: string) {
    super('refused', message);
  }
}

/** Thrown by {@link parse} for `--help`: src/cli/main.ts prints the help and exits 0. */
export class HelpRequested {
  constructor(readonly help: string) {}
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * node:util parseArgs with usage errors as one line, and `--help` on every command.
 * @throws {UsageError} an unknown option or a missing value (exit status 2)
 * @throws {HelpRequested} `--help` or `-h`
 */
export function parse<O extends Options>(argv: string[], options: O, help: string) {
  const parsed = (() => {
    try {
      return parseArgs({
        args: argv,
        options: { ...options, help: { type: 'boolean', short: 'h' } },
        allowPositionals: true,
        strict: true,
      });
    } catch (e) {
      throw new UsageError(`${(e as Error).message.split(/\.\s/)[0]} (see --help)`);
    }
  })();
  if ((parsed.values as { help?: boolean }).help) throw new HelpRequested(help);
  return parsed;
}

/**
 * Reports a finding (a verification finding, a failed item, a failed check) as one line on stderr
 * and returns the exit status 1; the details are on stdout.
 *
 * @example
 * return report.findings.length === 0 ? 0 : finding(`${report.findings.length} findings`);
 */
export function finding(message: string): 1 {
  process.stderr.write(`embassy: ${message}\n`);
  return 1;
}

/**
 * Parses an option's value; a malformed one is a usage error (exit status 2), its message unchanged.
 *
 * @example
 * const keys = (values.recipient ?? []).map((r) => optionValue(() => parsePublicKey(r)));
 */
export function optionValue<T>(parseValue: () => T): T {
  try {
    return parseValue();
  } catch (e) {
    throw new UsageError(describeError(e));
  }
}

export function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,10}$/.test(value) || Number(value) > 0xffffffff)
    throw new UsageError(`${name} must be a whole number`);
  return Number(value);
}
