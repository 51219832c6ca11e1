/** A rehearsal deployment per test file (PKCS#11 state is per process; vitest runs files in forks). */
import { rmSync } from 'node:fs';
import { type CeremonyEnv, openDeployment } from '../../ceremonies/index.ts';
import { entries, treeHead } from '../../src/audit/log.ts';
import { registrationOf } from '../../src/backup/index.ts';
import { ed25519KeySigner } from '../../src/crypto/ed25519-signer.ts';
import { createRehearsal } from '../../src/devkit/ceremonies.ts';
import { readDevKeyFile } from '../../src/devkit/signers.ts';

export async function rehearsal(opts: { domains?: string[]; absent?: string[] } = {}) {
  const dataDir = await createRehearsal({ domains: opts.domains ?? ['land'] });
  const env = await openDeployment(dataDir, opts.absent ? { absent: opts.absent } : {});
  return {
    dataDir,
    env,
    async reopen(absent?: string[]): Promise<CeremonyEnv> {
      return openDeployment(dataDir, absent ? { absent } : {});
    },
    cleanup: async (e: CeremonyEnv = env) => {
      await e.close().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Every audit entry of a kind, parsed. */
export async function auditEntries(env: CeremonyEnv, kind: string) {
  const head = await treeHead(env.store.db);
  const all = await entries(env.store.db, 0, head.size);
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON entries, inspected field by field in tests
  return all.map((e) => JSON.parse(e.entry) as Record<string, any>).filter((e) => e['kind'] === kind);
}

/**
 * Seals `data` for a domain's live epoch into DIR/embassy-store and registers it. Test fixture: the
 * row and its audit entry are written directly, not through the coordinator's snapshot route.
 */
export async function sealSnapshot(env: CeremonyEnv, domain: string, id: string, data: Uint8Array) {
  const { appendEntry } = await import('../../src/audit/log.ts');
  const { atomicFileSink, bufferSource, sealArchive } = await import('../../src/archive/index.ts');
  const { currentEpoch, quorumKey } = await import('../../src/roster/index.ts');
  const { mkdirSync } = await import('node:fs');
  const { join } = await import('node:path');
  const e = currentEpoch(env.roster(), domain);
  const dir = join(env.dataDir, 'embassy-store');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, id);
  // The rehearsal's backup-job key (buildDevDeployment writes it): the archive carries the job's maker
  // signature and the row its signed registration, as the station checks both (docs/DECISIONS.md#d4).
  const { signStatement } = await import('../../src/crypto/statement.ts');
  const { STATEMENT } = await import('../../src/protocol/statements.ts');
  const sign = ed25519KeySigner(readDevKeyFile(join(env.dataDir, 'backup-job.pem')));
  const rosterId = (await import('../../src/roster/index.ts')).rosterIdHex(env.roster());
  const seq = Date.now() * 1000 + Math.floor(Math.random() * 1000);
  const res = await sealArchive(bufferSource(data), await atomicFileSink(path, 0o644), {
    manifest: {
      domain,
      snapshotId: id,
      sealEpoch: e.epoch,
      createdAt: '2026-11-27T00:00:00Z',
      contentType: 'text/csv',
    },
    recipients: [{ publicKey: quorumKey(e).publicKey, epoch: e.epoch }],
    maker: { signer: 'job/backup-job', rosterId, sequence: seq, sign },
    threads: 0,
  });
  const registration = await signStatement(
    {
      type: STATEMENT.snapshot,
      roster: rosterId,
      signer: 'job/backup-job',
      body: await registrationOf(path),
    },
    sign,
  );
  await env.store.transaction(async (trx) => {
    await trx
      .insertInto('snapshots')
      .values({
        id,
        domain,
        seal_epoch: e.epoch,
        size: res.archiveBytes,
        digest: (registration.body as { bodyDigest: string }).bodyDigest,
        location: path,
        sequence: seq,
        manifest_json: JSON.stringify(registration),
        registered_by: 'job/backup-job',
        registered_at: new Date().toISOString(),
      })
      .execute();
    await appendEntry(trx, {
      kind: 'snapshot-registration',
      actor: 'job/backup-job',
      data: { id, fixture: true },
    });
  });
  return path;
}

/** Opens an archive file with an identity into memory. */
export async function openWith(path: string, identity: import('../../src/crypto/keys.ts').Identity) {
  const { bufferSink, fileSource, openArchive } = await import('../../src/archive/index.ts');
  const sink = bufferSink();
  await openArchive(await fileSource(path), sink, { identities: [identity] });
  return sink.result();
}
