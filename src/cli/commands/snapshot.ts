import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { fileSource, homeWrapper, inspectArchive, sealArchive } from '../../archive/index.ts';
import { STATEMENT } from '../../coordinator/protocol.ts';
import { currentEpoch, quorumKey } from '../../roster/index.ts';
import { type Command, parse } from '../command.ts';
import { UsageError } from '../errors.ts';
import { hsmOptions, openHomeFromArgs } from '../hsm.ts';
import { inputFrom, outputTo } from '../io.ts';
import { REMOTE_HELP, remoteOptions, softwareClient } from '../remote.ts';

const help = `
Usage: embassy snapshot seal --domain D [--snapshot-id ID] [--content-type T] [--home-hsm LABEL] -o OUT [IN]
       embassy snapshot register FILE --location URI
       embassy snapshot list [--domain D]

seal seals to the domain's current quorum key as the pinned roster states it (never as the
coordinator says) and signs the archive as its maker (the job's --key; docs/DECISIONS.md#d4). register signs a snapshot-registration with the job's key (id, domain, epoch,
size, SHA-256 digest, location, a sequence that only increases). list shows the registry.
${REMOTE_HELP}
`;

const digestOf = (path: string) =>
  new Promise<string>((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });

export const snapshot: Command = {
  name: 'snapshot',
  summary: 'seal, register and list snapshots (backup jobs)',
  help,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      {
        ...remoteOptions,
        ...hsmOptions,
        domain: { type: 'string' },
        'snapshot-id': { type: 'string' },
        'content-type': { type: 'string' },
        'home-hsm': { type: 'string' },
        location: { type: 'string' },
        output: { type: 'string', short: 'o' },
      },
      help,
    );
    const [action, file] = positionals;
    if (action === 'seal') {
      if (!values.domain || !values.output) throw new UsageError('seal needs --domain D and -o OUT');
      const { roster, client } = await softwareClient(values);
      const epoch = currentEpoch(roster, values.domain);
      const createdAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const home = values['home-hsm'] ? await openHomeFromArgs(values['home-hsm'], values) : undefined;
      try {
        const { src } = await inputFrom(file);
        await sealArchive(src, await outputTo(values.output, { binary: true, mode: 0o644 }), {
          manifest: {
            domain: values.domain,
            snapshotId: values['snapshot-id'] ?? `${values.domain}-${createdAt.replace(/[-:]/g, '')}`,
            sealEpoch: epoch.epoch,
            createdAt,
            contentType: values['content-type'] ?? 'application/octet-stream',
            ...(file ? { name: basename(file) } : {}),
          },
          recipients: [{ publicKey: quorumKey(epoch).publicKey, epoch: epoch.epoch }],
          ...(home ? { home: [homeWrapper(home)] } : {}),
          maker: {
            signer: `job/${values.as}`,
            rosterId: client.rosterId,
            sequence: Date.now(),
            sign: (p) => client.sign(p),
          },
        });
      } finally {
        home?.close();
      }
      process.stdout.write(`${values.output}\n`);
    } else if (action === 'register') {
      if (!file) throw new UsageError('register needs the archive file');
      const { client } = await softwareClient(values);
      const info = await inspectArchive(await fileSource(file));
      const maker = info.stanzas.find((x) => x.type === 'maker');
      await client.post(
        '/v1/snapshots',
        await client.statement(STATEMENT.snapshot, {
          id: info.manifest.snapshotId,
          domain: info.manifest.domain,
          sealEpoch: info.manifest.sealEpoch,
          size: info.headerBytes + info.bodyBytes,
          digest: await digestOf(file),
          location: values.location ?? file,
          sequence: maker?.type === 'maker' ? maker.sequence : Date.now(),
          createdAt: new Date().toISOString(),
        }),
      );
      process.stdout.write(`registered ${info.manifest.snapshotId}\n`);
    } else if (action === 'list') {
      const { client } = await softwareClient(values).catch(async () => ({ client: undefined }));
      const url = `/v1/snapshots${values.domain ? `?domain=${encodeURIComponent(values.domain)}` : ''}`;
      const res = client
        ? await client.get<{
            snapshots: { id: string; domain: string; sealEpoch: number; size: number; location: string }[];
          }>(url)
        : { snapshots: [] };
      for (const s of res.snapshots)
        process.stdout.write(`${s.id}\t${s.domain}\tepoch ${s.sealEpoch}\t${s.size} bytes\t${s.location}\n`);
    } else {
      throw new UsageError('give one of: seal, register FILE, list');
    }
  },
};
