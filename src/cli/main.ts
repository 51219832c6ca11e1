/**
 * `embassy`: a thin shell over the library. It parses arguments, calls one function, prints the
 * result; every failure is one line on stderr and a non-zero exit, never a stack trace.
 */
import { describeError } from '../errors.ts';
import { type Command, type CommandContext, HelpRequested } from './command.ts';
import { UsageError } from './errors.ts';

/**
 * Commands load on demand: `embassy seal` should not pay for the coordinator, the database drivers
 * or the ceremonies (startup time and resident memory, which the benchmarks measure).
 */
const commands: { name: string; summary: string; load: () => Promise<Command> }[] = [
  {
    name: 'keygen',
    summary: 'generate a key pair (development and tests)',
    load: async () => (await import('./commands/keygen.ts')).keygen,
  },
  {
    name: 'seal',
    summary: 'seal a snapshot for a domain quorum key',
    load: async () => (await import('./commands/seal.ts')).seal,
  },
  {
    name: 'open',
    summary: 'open an archive with a key file or the home HSM',
    load: async () => (await import('./commands/open.ts')).open,
  },
  {
    name: 'inspect',
    summary: "print an archive's header without a key",
    load: async () => (await import('./commands/inspect.ts')).inspect,
  },
  {
    name: 'serve',
    summary: 'run the coordinator HTTP service',
    load: async () => (await import('./commands/serve.ts')).serve,
  },
  {
    name: 'custodian',
    summary: 'list, review, approve, veto and release (custodians)',
    load: async () => (await import('./commands/custodian.ts')).custodian,
  },
  {
    name: 'station',
    summary: 'open unlock requests and restore (recovery stations)',
    load: async () => (await import('./commands/station.ts')).station,
  },
  {
    name: 'snapshot',
    summary: 'seal, register and list snapshots (backup jobs)',
    load: async () => (await import('./commands/snapshot.ts')).snapshot,
  },
  {
    name: 'audit',
    summary: 'export the audit log, verify a bundle offline',
    load: async () => (await import('./commands/audit.ts')).audit,
  },
  {
    name: 'ceremony',
    summary: 'list, print and run the key ceremonies',
    load: async () => (await import('./commands/ceremony.ts')).ceremony,
  },
  {
    name: 'jobs',
    summary: 're-keying jobs: rewrap, home-key rotation, key-age policy',
    load: async () => (await import('./commands/jobs.ts')).jobs,
  },
  {
    name: 'demo',
    summary: 'run the whole story on embedded defaults',
    load: async () => (await import('./commands/demo.ts')).demo,
  },
];

const usage = `Usage: embassy <command> [options]

data-embassy: key custody and threshold unlock for a state's registries kept abroad.

Commands:
${commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}

Run "embassy <command> --help" for a command's options. Docs: README.md, docs/FORMAT.md, SECURITY.md.
`;

/**
 * The exit status of a failed command line (docs/DECISIONS.md#d24): 2 when it cannot be run as
 * given (unknown option or subcommand, missing argument, malformed value), 1 for any other failure.
 */
export const statusOf = (e: unknown): 0 | 1 | 2 => (e instanceof UsageError ? 2 : 1);

/**
 * Runs one command line and returns its exit status (docs/DECISIONS.md#d24): 0 success; 1 failure
 * or any finding (the command returns it); 2 usage. A failure is one line on stderr, never a stack
 * trace (unless EMBASSY_DEBUG is set).
 */
export async function main(argv: string[], ctx: CommandContext = {}): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      const cmd = commands.find((c) => c.name === rest[0]);
      process.stdout.write(cmd ? `${(await cmd.load()).help.trim()}\n` : usage);
      return 0;
    }
    const cmd = commands.find((c) => c.name === name);
    if (!cmd) throw new UsageError(`unknown command "${name}" (see embassy --help)`);
    return await (await cmd.load()).run(rest, ctx);
  } catch (e) {
    if (e instanceof HelpRequested) {
      process.stdout.write(`${e.help.trim()}\n`);
      return 0;
    }
    process.stderr.write(`embassy: ${describeError(e)}\n`);
    if (process.env.EMBASSY_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return statusOf(e);
  }
}

/**
 * The process around {@link main}, and the one place that sets the exit status: exit through
 * process.exit on signals (so temporary outputs are removed by their exit handlers) and on a
 * failing stdout. `bin/embassy.mjs` calls it; the test-support wrapper calls it with a Faults object.
 */
export function runMain(argv: string[], ctx: CommandContext = {}): void {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => process.exit(130));
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    process.stderr.write(`embassy: ${describeError(e)}\n`);
    process.exit(1);
  });
  void main(argv, ctx).then((code) => {
    process.exitCode = code;
  });
}
