/**
 * `embassy`: a thin shell over the library. It parses arguments, calls one function, prints the
 * result; every failure is one line on stderr and a non-zero exit, never a stack trace.
 */
import type { Command } from './command.ts';
import { audit } from './commands/audit.ts';
import { ceremony } from './commands/ceremony.ts';
import { custodian } from './commands/custodian.ts';
import { demo } from './commands/demo.ts';
import { inspect } from './commands/inspect.ts';
import { keygen } from './commands/keygen.ts';
import { open } from './commands/open.ts';
import { seal } from './commands/seal.ts';
import { serve } from './commands/serve.ts';
import { snapshot } from './commands/snapshot.ts';
import { station } from './commands/station.ts';
import { describeError } from './errors.ts';

const commands: Command[] = [
  keygen,
  seal,
  open,
  inspect,
  serve,
  custodian,
  station,
  snapshot,
  audit,
  ceremony,
  demo,
];

const usage = `Usage: embassy <command> [options]

data-embassy: key custody and threshold unlock for a state's registries kept abroad.

Commands:
${commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}

Run "embassy <command> --help" for a command's options. Docs: README.md, docs/FORMAT.md, SECURITY.md.
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const cmd = commands.find((c) => c.name === rest[0]);
    process.stdout.write(cmd ? `${cmd.help.trim()}\n` : usage);
    return 0;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`embassy: unknown command "${name}" (see embassy --help)\n`);
    return 2;
  }
  await cmd.run(rest);
  return 0;
}

// Exit through process.exit on signals so temporary outputs are removed by their exit handlers.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => process.exit(130));
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  process.stderr.write(`embassy: ${describeError(e)}\n`);
  process.exit(1);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`embassy: ${describeError(e)}\n`);
    if (process.env.EMBASSY_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    process.exitCode = 1;
  },
);
