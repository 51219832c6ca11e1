import { basename } from 'node:path';
import { homeWrapper } from '../../archive/index.ts';
import { registerSnapshot, sealSnapshot } from '../../backup/index.ts';
import { registrationFile } from '../../protocol/statements.ts';
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
      const home = values['home-hsm'] ? await openHomeFromArgs(values['home-hsm'], values) : undefined;
      try {
        const { src } = await inputFrom(file);
        await sealSnapshot(src, await outputTo(values.output, { binary: true, mode: 0o644 }), {
          roster,
          domain: values.domain,
          client,
          ...(values['snapshot-id'] ? { snapshotId: values['snapshot-id'] } : {}),
          ...(values['content-type'] ? { contentType: values['content-type'] } : {}),
          ...(file ? { name: basename(file) } : {}),
          ...(home ? { home: [homeWrapper(home)] } : {}),
        });
      } finally {
        home?.close();
      }
      process.stdout.write(`${values.output}\n`);
    } else if (action === 'register') {
      if (!file) throw new UsageError('register needs the archive file');
      const { client } = await softwareClient(values);
      const r = await registerSnapshot(client, file, values.location ? { location: values.location } : {});
      process.stdout.write(
        `registered ${r.id} (body digest ${r.bodyDigest}; signed registration in ${registrationFile(file)})\n`,
      );
    } else if (action === 'list') {
      // A client that cannot be made (no --as or --key, a wrong pin) is a failure, not an empty list.
      const { client } = await softwareClient(values);
      const url = `/v1/snapshots${values.domain ? `?domain=${encodeURIComponent(values.domain)}` : ''}`;
      const res = await client.get<{
        snapshots: { id: string; domain: string; sealEpoch: number; size: number; location: string }[];
      }>(url);
      for (const s of res.snapshots)
        process.stdout.write(`${s.id}\t${s.domain}\tepoch ${s.sealEpoch}\t${s.size} bytes\t${s.location}\n`);
    } else {
      throw new UsageError('give one of: seal, register FILE, list');
    }
    return 0;
  },
};
