import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rosterVersions } from '../../coordinator/repository.ts';
import { parseKeyFile, parsePublicKey } from '../../crypto/keys.ts';
import { archivesFromStore, homeRotateJob, keyAgeJob, rewrapJob } from '../../jobs/index.ts';
import { writeJobMetrics } from '../../jobs/metrics.ts';
import { verifyRosterChain } from '../../roster/index.ts';
import { openStore, type Store, storeOptionsFromEnv } from '../../store/index.ts';
import { type Command, finding, optionValue, parse, positiveInt } from '../command.ts';
import { UsageError } from '../errors.ts';
import { dataDirOf, HSM_HELP, hsmOptions, openHomeFromArgs } from '../hsm.ts';
import { rosterPin } from '../remote.ts';

const help = `
Usage: embassy jobs key-age [--as JOB]
       embassy jobs home-rotate --home-hsm LABEL [--keep-old]
       embassy jobs rewrap --domain D -i OLD-KEYFILE --to PUBKEY --epoch N

Re-keying jobs (docs/JOBS.md). Each is idempotent and resumable: kill it at any point and the next
run finishes the work, nothing rewrapped twice, nothing skipped (journals in DIR/jobs). Progress
with ETA on a terminal; metrics in DIR/jobs/<job>.prom (Prometheus textfile); every state change is
in the audit log. A job can never unlock or approve.

  key-age       opens a rotation request for every domain whose epoch is older than its policy
  home-rotate   rotates the home HSM key and rewraps every home stanza inside the HSM (the restore
                role runs it: it needs the home PIN)
  rewrap        after a rotation, rewraps every archive's quorum stanza from the old epoch key to the
                new one, header only. In production the rotation ceremony runs it in the station,
                where the old key exists; -i is for development

Options:
  --data-dir DIR     the deployment (store, journals); DATABASE_URL selects PostgreSQL
  --roster-pin HEX   the genesis roster id (default $EMBASSY_ROSTER_PIN or DIR/roster-pin)
  --as ID            the job principal recorded as actor (default backup-job)
${HSM_HELP}
`;

export const jobs: Command = {
  name: 'jobs',
  summary: 're-keying jobs: rewrap, home-key rotation, key-age policy',
  help,
  async run(argv, ctx = {}) {
    const { values, positionals } = parse(
      argv,
      {
        ...hsmOptions,
        'roster-pin': { type: 'string' },
        as: { type: 'string' },
        'home-hsm': { type: 'string' },
        'keep-old': { type: 'boolean' },
        domain: { type: 'string' },
        identity: { type: 'string', short: 'i' },
        to: { type: 'string' },
        epoch: { type: 'string' },
      },
      help,
    );
    const [action] = positionals;
    if (!action || !['key-age', 'home-rotate', 'rewrap'].includes(action)) {
      throw new UsageError('give one of: key-age, home-rotate, rewrap');
    }
    const dataDir = dataDirOf(values);
    const actor = `job/${values.as ?? 'backup-job'}`;
    const stateDir = join(dataDir, 'jobs');
    const store: Store = await openStore(storeOptionsFromEnv(dataDir));
    try {
      if (action === 'key-age') {
        const now = (ctx.now ?? (() => new Date()))();
        const { current } = verifyRosterChain(rosterPin(values), await rosterVersions(store.db), now);
        const r = await keyAgeJob({ store, roster: current.roster, actor, now });
        process.stdout.write(
          `checked ${r.domainsChecked} domains; rotation requests: ${r.requests.length === 0 ? 'none' : ''}\n`,
        );
        for (const q of r.requests)
          process.stdout.write(`  ${q.domain}/${q.epoch} ${q.opened ? 'opened' : 'already open'}\n`);
        await writeJobMetrics(stateDir, 'key-age', {
          complete: true,
          extra: { domains_checked: r.domainsChecked, rotation_requests: r.requests.length },
        });
        // A domain whose epoch is overdue failed its check, whether this run or an earlier one opened the request.
        const due = r.requests.map((q) => `${q.domain}/${q.epoch}`);
        return due.length === 0 ? 0 : finding(`key age: rotation due for ${due.join(', ')}`);
      } else if (action === 'home-rotate') {
        if (!values['home-hsm']) throw new UsageError('home-rotate needs --home-hsm LABEL');
        const home = await openHomeFromArgs(values['home-hsm'], values);
        try {
          const r = await homeRotateJob({
            home,
            archives: await archivesFromStore(store),
            stateDir,
            store,
            actor,
            retire: !values['keep-old'],
            progress: process.stderr.isTTY,
            ...(ctx.faults ? { faults: ctx.faults } : {}),
          });
          process.stdout.write(
            `${r.fromKekId} → ${r.toKekId}: ${r.done}/${r.total} archives, ${r.failed.length} failed${r.retired ? ', old key retired' : ''}\n`,
          );
          await writeJobMetrics(stateDir, 'home-rotate', r);
          return r.complete
            ? 0
            : finding(`home-rotate incomplete: ${r.total - r.done} of ${r.total} archives not rewrapped`);
        } finally {
          home.close();
        }
      } else {
        if (!values.domain || !values.identity || !values.to || !values.epoch) {
          throw new UsageError('rewrap needs --domain, -i OLD-KEYFILE, --to PUBKEY and --epoch N');
        }
        const r = await rewrapJob({
          domain: values.domain,
          identities: parseKeyFile(await readFile(values.identity, 'utf8')),
          recipient: {
            publicKey: optionValue(() => parsePublicKey(values.to!)),
            epoch: positiveInt(values.epoch, '--epoch', 1),
          },
          archives: await archivesFromStore(store, values.domain),
          stateDir,
          store,
          actor,
          progress: process.stderr.isTTY,
          ...(ctx.faults ? { faults: ctx.faults } : {}),
        });
        process.stdout.write(
          `${r.done}/${r.total} archives rewrapped or already done, ${r.failed.length} failed\n`,
        );
        for (const f of r.failed) process.stdout.write(`  ${f.id}: ${f.message}\n`);
        await writeJobMetrics(stateDir, 'rewrap', r);
        return r.complete
          ? 0
          : finding(`rewrap incomplete: ${r.total - r.done} of ${r.total} archives not rewrapped`);
      }
    } finally {
      await store.close();
    }
  },
};
