import { join } from 'node:path';
import type { CeremonyView } from '../../protocol/views.ts';
import { requestUnlock, unlockAndRestore } from '../../station/client.ts';
import { stationKeys } from '../../station/keys.ts';
import { type Command, CommandError, parse, positiveInt } from '../command.ts';
import { UsageError } from '../errors.ts';
import { dataDirOf } from '../hsm.ts';
import { REMOTE_HELP, remoteOptions, softwareClient } from '../remote.ts';

const help = `
Usage: embassy station request --domain D [--epoch N] --snapshot ID... --legal-basis CODE --case REF --reason TEXT [--ttl SECONDS]
       embassy station status ID
       embassy station unlock ID -o DIR [--archives DIR]

The recovery station. request opens a signed unlock request naming fresh per-ceremony recipient
keys (kept in DATA-DIR/station/, mode 0600, until the unlock). unlock fetches the releases, checks
each against the pinned roster and its commitment, combines, checks the quorum public key,
restores the requested snapshots into DIR and closes the ceremony.

Options:
  --archives DIR   where sealed archives are (default: each snapshot's registered location)
${REMOTE_HELP}
  --data-dir DIR   local state (default $EMBASSY_DATA_DIR or ./.embassy)
`;

export const station: Command = {
  name: 'station',
  summary: 'open unlock requests and restore (recovery stations)',
  help,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      {
        ...remoteOptions,
        'data-dir': { type: 'string' },
        domain: { type: 'string' },
        epoch: { type: 'string' },
        snapshot: { type: 'string', multiple: true },
        'legal-basis': { type: 'string' },
        case: { type: 'string' },
        reason: { type: 'string' },
        ttl: { type: 'string' },
        output: { type: 'string', short: 'o' },
        archives: { type: 'string' },
      },
      help,
    );
    const [action, id] = positionals;
    const { roster, client } = await softwareClient(values);
    const session = { id: values.as!, roster, client };
    const keyStore = stationKeys(join(dataDirOf(values), 'station'));
    if (action === 'request') {
      if (
        !values.domain ||
        !values.snapshot?.length ||
        !values['legal-basis'] ||
        !values.case ||
        !values.reason
      ) {
        throw new UsageError('request needs --domain, --snapshot, --legal-basis, --case and --reason');
      }
      const { ceremony, keys } = await requestUnlock(session, {
        domain: values.domain,
        epoch: positiveInt(values.epoch, '--epoch', 1),
        snapshots: values.snapshot,
        justification: { legalBasis: values['legal-basis'], caseReference: values.case, text: values.reason },
        ttlSeconds: positiveInt(values.ttl, '--ttl', 86400),
      });
      await keyStore.save(ceremony.id, keys);
      process.stdout.write(`${ceremony.id}\n`);
    } else if (action === 'status') {
      if (!id) throw new UsageError('status needs a ceremony id');
      const v = await client.get<CeremonyView>(`/v1/ceremonies/${id}`);
      process.stdout.write(
        `${v.id} ${v.state} (${v.verdict.approvers.length} approvals, ${v.releases.length} releases, deadline ${v.deadline})\n`,
      );
    } else if (action === 'unlock') {
      if (!id || !values.output) throw new UsageError('unlock needs a ceremony id and -o DIR');
      const keys = keyStore.load(id);
      if (!keys) throw new CommandError(`no ceremony keys for ${id} in ${keyStore.dir}`);
      const { snapshots } = await client.get<{ snapshots: { id: string; location: string }[] }>(
        '/v1/snapshots',
      );
      const where = (s: string) =>
        values.archives ? join(values.archives, s) : (snapshots.find((x) => x.id === s)?.location ?? s);
      const res = await unlockAndRestore(session, id, keys, where, values.output);
      keyStore.destroy(id);
      for (const f of res.files)
        process.stdout.write(
          `restored ${f.snapshot} → ${f.path} (${f.bytes} bytes; sealed ${f.createdAt} by ${f.maker}, sequence ${f.sequence})\n`,
        );
      process.stdout.write(`released by ${res.releasedBy.join(', ')}\n`);
      for (const c of res.cheaters) process.stdout.write(`bad release from ${c.custodian}: ${c.reason}\n`);
    } else {
      throw new UsageError('give one of: request, status ID, unlock ID -o DIR');
    }
    return 0;
  },
};
