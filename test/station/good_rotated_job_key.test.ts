// docs/DECISIONS.md#d15: maker and registration keys are looked up in the roster version each statement
// names, inside the verified history. The job's key is rotated (version 2), then the job is removed
// (version 3); an archive sealed and registered under version 1 still restores, while an archive whose
// maker key is not in the version its maker signature names is refused. SQLite and PostgreSQL.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveError, atomicFileSink, bufferSource, sealArchive } from '../../src/archive/index.ts';
import { registerSnapshot } from '../../src/backup/index.ts';
import { ed25519KeySigner } from '../../src/crypto/ed25519-signer.ts';
import { decide, release } from '../../src/custodian/client.ts';
import { newDevKey, rosterSigningKey } from '../../src/devkit/signers.ts';
import { CoordinatorClient, type PayloadSigner } from '../../src/protocol/client.ts';
import {
  assembleSignedRoster,
  nextVersion,
  type RosterDoc,
  rosterIdHex,
  signRoster,
  tokenSigner,
} from '../../src/roster/index.ts';
import { requestUnlock, unlockAndRestore } from '../../src/station/client.ts';
import { JUSTIFICATION } from '../coordinator/helpers.ts';
import { DIALECTS, type TestWorld, testWorld } from '../coordinator/world.ts';

const QUORUM = ['custodian-1', 'custodian-3', 'custodian-5'];

describe.each(DIALECTS)('restores survive job key rotation and removal (%s)', (dialect) => {
  let w: TestWorld;
  beforeAll(async () => {
    w = await testWorld(dialect);
  });
  afterAll(async () => w?.cleanup());

  const signerOf = (principal: string): { signer: string; sign: PayloadSigner } => {
    const c = w.custodians.get(principal);
    if (c) return { signer: `custodian/${principal}`, sign: tokenSigner(c.token) };
    return { signer: 'station/station-lux', sign: w.station.sign };
  };
  /** A client of `principal` that pinned roster version `doc`. */
  const clientAt = (doc: RosterDoc, principal: string, s = signerOf(principal)) =>
    new CoordinatorClient({
      baseUrl: 'http://coordinator.invalid',
      principal,
      signer: s.signer,
      rosterId: rosterIdHex(doc),
      sign: s.sign,
      fetch: w.fetch,
      now: () => w.coordinator.clock,
    });
  /** Signs `doc` by every custodian and installs it as the next version. */
  const install = async (current: RosterDoc, doc: RosterDoc) => {
    const sigs = [];
    for (const id of w.roster.custodians.map((c) => c.id))
      sigs.push(await signRoster(doc, id, tokenSigner(w.custodians.get(id)!.token)));
    await clientAt(current, 'custodian-1').post('/v1/roster', assembleSignedRoster(doc, sigs));
  };
  /** Seals `data` as `id` with `maker` naming `makerRoster`, and registers it through `job`. */
  const sealAndRegister = async (
    id: string,
    data: Uint8Array,
    maker: { rosterId: string; sequence: number; sign: PayloadSigner },
    job: CoordinatorClient,
  ) => {
    const path = join(w.archives, id);
    await sealArchive(bufferSource(data), await atomicFileSink(path, 0o644), {
      manifest: {
        domain: 'land',
        snapshotId: id,
        sealEpoch: 1,
        createdAt: '2026-11-28T00:00:00Z',
        contentType: 'text/csv',
      },
      recipients: [{ publicKey: w.splits.get('land')!.publicKey, epoch: 1 }],
      maker: { signer: 'job/backup-job', ...maker },
      threads: 0,
    });
    await registerSnapshot(job, path, { now: () => w.coordinator.clock });
  };
  const restoreAt = async (doc: RosterDoc, snapshot: string) => {
    const station = {
      id: 'station-lux',
      roster: doc,
      client: clientAt(doc, 'station-lux'),
      now: () => w.coordinator.clock,
    };
    const { ceremony, keys } = await requestUnlock(station, {
      domain: 'land',
      epoch: 1,
      snapshots: [snapshot],
      justification: JUSTIFICATION,
      ttlSeconds: 3600,
    });
    const custodian = (id: string) => ({
      id,
      roster: doc,
      client: clientAt(doc, id),
      token: w.custodians.get(id)!.token,
      journal: w.custodians.get(id)!.journal,
      now: () => w.coordinator.clock,
    });
    for (const cu of QUORUM) await decide(custodian(cu), ceremony.id, 'approve');
    for (const cu of QUORUM) await release(custodian(cu), ceremony.id);
    const out = join(w.dataDir, `out-${ceremony.id}`);
    const result = await unlockAndRestore(station, ceremony.id, keys, (s) => join(w.archives, s), out).catch(
      (e: Error) => e,
    );
    return { out, result };
  };

  it('good_rotated_job_key: an archive sealed before the job key was rotated and the job removed restores; a maker key outside its named version is refused', async () => {
    const v1 = w.roster;
    const data = Buffer.from('parcel;owner\n12-004;Tamm\n');
    const before = await w.snapshot('land', data);

    // Version 2: the job's key is rotated.
    const newKey = newDevKey();
    const newSign = ed25519KeySigner(newKey.privateKey);
    const v2 = nextVersion(v1, {
      jobs: v1.jobs.map((j) =>
        j.id === 'backup-job' ? { ...j, signingKey: rosterSigningKey(newKey.publicKey) } : j,
      ),
    });
    await install(v1, v2);
    // Under version 2 the job registers an archive whose maker signature, by its new key, names
    // version 1, where that key is not the job's.
    const misnamed = `land-misnamed-${dialect}`;
    await sealAndRegister(
      misnamed,
      data,
      { rosterId: rosterIdHex(v1), sequence: Date.now() * 1000 + 999_999, sign: newSign },
      clientAt(v2, 'backup-job', { signer: 'job/backup-job', sign: newSign }),
    );

    // Version 3: the job is removed.
    const v3 = nextVersion(v2, { jobs: v2.jobs.filter((j) => j.id !== 'backup-job') });
    await install(v2, v3);

    const good = await restoreAt(v3, before);
    expect(good.result).not.toBeInstanceOf(Error);
    expect(readFileSync(join(good.out, before)).equals(data)).toBe(true);

    const bad = await restoreAt(v3, misnamed);
    expect(bad.result).toBeInstanceOf(ArchiveError);
    expect((bad.result as ArchiveError).code).toBe('maker_mismatch');
    expect((bad.result as Error).message).toContain(`the maker signature of snapshot ${misnamed}`);
    expect(readdirSync(bad.out)).toEqual([]);
  });
});
