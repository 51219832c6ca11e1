import { readFile } from 'node:fs/promises';
import type { HomeHsm } from '../../../hsm/index.ts';
import { homeUnwrapper, openArchive } from '../../archive/index.ts';
import { type Identity, parseKeyFile } from '../../crypto/keys.ts';
import { type Command, parse } from '../command.ts';
import { UsageError } from '../errors.ts';
import { HSM_HELP, hsmOptions, openHomeFromArgs } from '../hsm.ts';
import { inputFrom, outputTo } from '../io.ts';
import { progressBar } from '../progress.ts';

const help = `
Usage: embassy open (-i KEYFILE | --home-hsm LABEL) [-o OUT] [IN]

Opens a data-embassy archive IN (default stdin) into OUT (default stdout). The header MAC and the
body's key commitment are checked before any chunk; each chunk is released only after its tag
verifies. With -o the output appears only when the whole archive verified: a failed open leaves
nothing behind. On stdout, an error after valid chunks exits non-zero.

Options:
  -i, --identity KEYFILE   a private key file (from embassy keygen); repeatable
  -o, --output OUT         write the plaintext here (mode 0600)
  --home-hsm LABEL         open with the home HSM's key in token LABEL (routine restore at home)
${HSM_HELP}
`;

export const open: Command = {
  name: 'open',
  summary: 'open an archive with a key file',
  help,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      {
        identity: { type: 'string', short: 'i', multiple: true },
        output: { type: 'string', short: 'o' },
        'home-hsm': { type: 'string' },
        ...hsmOptions,
      },
      help,
    );
    if (positionals.length > 1) throw new UsageError('open takes at most one input file');
    const identities: Identity[] = [];
    for (const f of values.identity ?? []) identities.push(...parseKeyFile(await readFile(f, 'utf8')));
    if (identities.length === 0 && !values['home-hsm'])
      throw new UsageError('no key: give -i KEYFILE or --home-hsm LABEL');
    const home: HomeHsm | undefined = values['home-hsm']
      ? await openHomeFromArgs(values['home-hsm'], values)
      : undefined;
    const { src, size } = await inputFrom(positionals[0]);
    const sink = await outputTo(values.output, { binary: false, mode: 0o600 }).catch(async (e) => {
      await src.close();
      throw e;
    });
    const bar = progressBar('opening', size);
    try {
      await openArchive(src, sink, {
        identities,
        ...(home ? { home: homeUnwrapper(home) } : {}),
        onProgress: bar,
      });
    } finally {
      bar.end();
      home?.close();
      for (const id of identities) id.seed.fill(0);
    }
    return 0;
  },
};
