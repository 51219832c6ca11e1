import { readFile } from 'node:fs/promises';
import { formatKeyFile, formatPublicKey, parseKeyFile } from '../../crypto/keys.ts';
import { xwingKeygen } from '../../crypto/xwing.ts';
import { writeDurably } from '../../fs/durable.ts';
import { type Command, CommandError, parse } from '../command.ts';
import { UsageError } from '../errors.ts';

const help = `
Usage: embassy keygen [-o KEYFILE]
       embassy keygen -y KEYFILE

Generates an X-Wing (ML-KEM-768 + X25519) key pair. The private key file is written with mode 0600
and never overwritten; the public key (embassy1…) is the last line on stdout. Without -o the key
file itself goes to stdout.

For tests and development: in production a domain's quorum key exists only as Shamir shares in
custodians' HSMs, created by the key ceremony.

Options:
  -o, --output KEYFILE   write the private key file here (refuses to overwrite)
  -y KEYFILE             print the public key of an existing key file
`;

export const keygen: Command = {
  name: 'keygen',
  summary: 'generate a key pair (development and tests)',
  help,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { output: { type: 'string', short: 'o' }, y: { type: 'string' } },
      help,
    );
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" (see --help)`);
    if (values.y !== undefined) {
      for (const id of parseKeyFile(await readFile(values.y, 'utf8'))) {
        process.stdout.write(`${formatPublicKey(id.publicKey)}\n`);
      }
      return 0;
    }
    const { seed, publicKey } = xwingKeygen();
    const text = formatKeyFile(seed, new Date());
    seed.fill(0);
    if (values.output === undefined) {
      process.stdout.write(text);
    } else {
      // Created only if absent, complete or not at all (src/fs/durable.ts).
      await writeDurably(values.output, text, { mode: 0o600, exclusive: true }).catch(
        (e: NodeJS.ErrnoException) => {
          if (e.code === 'EEXIST')
            throw new CommandError(`${values.output} already exists; refusing to overwrite a key file`);
          throw e;
        },
      );
    }
    process.stdout.write(`${formatPublicKey(publicKey)}\n`);
    return 0;
  },
};
