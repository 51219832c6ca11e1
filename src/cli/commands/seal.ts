import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { HomeHsm } from '../../../hsm/index.ts';
import { homeWrapper, type Manifest, sealArchive } from '../../archive/index.ts';
import { parsePublicKey, parseRecipientsFile } from '../../crypto/keys.ts';
import { type Command, optionValue, parse, positiveInt } from '../command.ts';
import { UsageError } from '../errors.ts';
import { HSM_HELP, hsmOptions, openHomeFromArgs } from '../hsm.ts';
import { inputFrom, outputTo } from '../io.ts';
import { progressBar } from '../progress.ts';

const help = `
Usage: embassy seal (-r PUBKEY | -R FILE)... [--domain D] [--epoch N] [-o OUT] [IN]

Seals IN (default stdin) into a data-embassy archive (docs/FORMAT.md) written to OUT (default
stdout). A fresh DEK encrypts the body; it is wrapped with HPKE/X-Wing to every recipient, so only
the holder of a domain's quorum key (a quorum of custodians) can open it. -o writes a temporary file
and renames it only when the archive is complete.

Options:
  -r, --recipient PUBKEY   a quorum public key (embassy1…); repeatable
  -R, --recipients-file F  a file of public keys, one per line; repeatable
  --domain D               registry domain, e.g. land (default: default)
  --epoch N                epoch of the recipients' quorum key (default: 1)
  --snapshot-id ID         snapshot id (default: <domain>-<UTC time>-<random>)
  --content-type T         MIME type of the plaintext (default: application/octet-stream)
  -o, --output OUT         write the archive here
  --home-hsm LABEL         also wrap the DEK under the home HSM's key in token LABEL (a home
                           stanza), for routine restores at home without a ceremony
${HSM_HELP}
`;

export const seal: Command = {
  name: 'seal',
  summary: 'seal a snapshot for a domain quorum key',
  help,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      {
        recipient: { type: 'string', short: 'r', multiple: true },
        'recipients-file': { type: 'string', short: 'R', multiple: true },
        domain: { type: 'string' },
        epoch: { type: 'string' },
        'snapshot-id': { type: 'string' },
        'content-type': { type: 'string' },
        output: { type: 'string', short: 'o' },
        'home-hsm': { type: 'string' },
        ...hsmOptions,
      },
      help,
    );
    if (positionals.length > 1) throw new UsageError('seal takes at most one input file');
    const keys = (values.recipient ?? []).map((r) => optionValue(() => parsePublicKey(r)));
    for (const f of values['recipients-file'] ?? [])
      keys.push(...parseRecipientsFile(await readFile(f, 'utf8')));
    if (keys.length === 0) throw new UsageError('no recipient: give -r PUBKEY or -R FILE');
    const epoch = positiveInt(values.epoch, '--epoch', 1);
    const domain = values.domain ?? 'default';
    const createdAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const inPath = positionals[0];
    const manifest: Manifest = {
      domain,
      snapshotId:
        values['snapshot-id'] ??
        `${domain}-${createdAt.replace(/[-:]/g, '')}-${randomBytes(3).toString('hex')}`,
      sealEpoch: epoch,
      createdAt,
      contentType: values['content-type'] ?? 'application/octet-stream',
      ...(inPath && inPath !== '-' ? { name: basename(inPath) } : {}),
    };
    const home: HomeHsm | undefined = values['home-hsm']
      ? await openHomeFromArgs(values['home-hsm'], values)
      : undefined;
    const { src, size } = await inputFrom(inPath);
    const sink = await outputTo(values.output, { binary: true, mode: 0o644 }).catch(async (e) => {
      await src.close();
      throw e;
    });
    const bar = progressBar('sealing', size);
    try {
      await sealArchive(src, sink, {
        manifest,
        recipients: keys.map((publicKey) => ({ publicKey, epoch })),
        ...(home ? { home: [homeWrapper(home)] } : {}),
        onProgress: bar,
      });
    } finally {
      bar.end();
      home?.close();
    }
    return 0;
  },
};
