import { runDemo } from '../../demo/story.ts';
import { type Command, parse } from '../command.ts';

const help = `
Usage: embassy demo [--data-dir DIR]

Runs the whole story on embedded defaults and narrates it: SoftHSM2 tokens, a 3-of-5 key ceremony
for two domains, sealing sample registries, an unlock by a quorum of custodian tokens, a restore
checked byte for byte, and a routine restore with the home HSM. Exits 0 only if every check held;
leaves DIR (default .embassy-demo) in place to inspect.

Options:
  --data-dir DIR   where tokens, archives and restored files go (default .embassy-demo)
`;

export const demo: Command = {
  name: 'demo',
  summary: 'run the whole story on embedded defaults',
  help,
  async run(argv) {
    const { values } = parse(argv, { 'data-dir': { type: 'string' } }, help);
    await runDemo({
      dataDir: values['data-dir'] ?? '.embassy-demo',
      log: (l) => process.stdout.write(`${l}\n`),
    });
    return 0;
  },
};
