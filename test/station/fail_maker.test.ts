import { createHash, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArchiveError,
  bufferSink,
  bufferSource,
  encodeManifest,
  inspectArchive,
  openArchive,
  sealArchive,
} from '../../src/archive/index.ts';
import { jcs } from '../../src/crypto/jcs.ts';
import { identityFromSeed } from '../../src/crypto/keys.ts';
import type { Statement } from '../../src/crypto/statement.ts';
import { xwingKeygen } from '../../src/crypto/xwing.ts';
import { registrationFile, STATEMENT } from '../../src/protocol/statements.ts';
import { type Registration, RestoreRefused, restoreBinding } from '../../src/station/binding.ts';
import { type TestWorld, testWorld } from '../coordinator/world.ts';

// docs/DECISIONS.md#d4, docs/DECISIONS.md#d15: the station restores only archives signed by a job of the
// pinned roster and matching the job's signed registration (manifest, sequence and body digest).
describe('the station checks the maker signature before restoring', () => {
  let w: TestWorld;
  const quorum = identityFromSeed(xwingKeygen().seed);
  beforeAll(async () => {
    w = await testWorld('sqlite');
  });
  afterAll(async () => w?.cleanup());

  const manifest = (id: string) => ({
    domain: 'land',
    snapshotId: id,
    sealEpoch: 1,
    createdAt: '2026-11-27T00:00:00Z',
    contentType: 'text/csv',
  });
  const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  /** The registration of `archive` as the job signs it; `body` overrides fields. */
  const registration = async (
    id: string,
    sequence: number,
    archive: Uint8Array,
    body: Record<string, unknown> = {},
  ): Promise<Registration> => {
    const client = w.client('backup-job', w.fetch);
    const info = await inspectArchive(bufferSource(archive));
    const b = {
      id,
      domain: 'land',
      sealEpoch: 1,
      size: archive.length,
      manifestHash: sha256(encodeManifest(info.manifest)),
      bodyDigest: sha256(archive.subarray(info.headerBytes)),
      location: id,
      sequence,
      createdAt: new Date().toISOString(),
      ...body,
    };
    const s = await (await import('../../src/crypto/statement.ts')).signStatement(
      { type: STATEMENT.snapshot, roster: client.rosterId, signer: 'job/backup-job', body: b },
      w.job.sign,
    );
    return { id, statement: s as Statement };
  };
  const seal = async (
    id: string,
    maker?: { sequence: number; sign?: (p: Uint8Array) => Promise<Uint8Array>; signer?: string },
  ) => {
    const sink = bufferSink();
    await sealArchive(bufferSource(new TextEncoder().encode('parcel;owner\n')), sink, {
      manifest: manifest(id),
      recipients: [{ publicKey: quorum.publicKey, epoch: 1 }],
      threads: 0,
      ...(maker
        ? {
            maker: {
              signer: maker.signer ?? 'job/backup-job',
              rosterId: w.rosterPin,
              sequence: maker.sequence,
              sign: maker.sign ?? w.job.sign,
            },
          }
        : {}),
    });
    return sink.result();
  };
  const open = async (
    id: string,
    archive: Uint8Array,
    regs: Registration[],
    archivePath = '/nonexistent/a',
  ) => {
    const bind = restoreBinding({
      history: new Map([[w.rosterPin, w.roster]]),
      domain: 'land',
      registrations: regs,
    });
    const b = bind(id, archivePath);
    return openArchive(bufferSource(archive), bufferSink(), {
      identities: [quorum],
      threads: 0,
      maker: b.maker,
      bodyDigest: b.bodyDigest,
    }).then(
      () => 'opened',
      (e: unknown) => (e instanceof ArchiveError || e instanceof RestoreRefused ? e.code : String(e)),
    );
  };

  it('a signed, registered archive opens', async () => {
    const a = await seal('s-1', { sequence: 7 });
    expect(await open('s-1', a, [await registration('s-1', 7, a)])).toBe('opened');
  });

  it('an unsigned archive is refused (anyone can encrypt to the public key)', async () => {
    const a = await seal('s-2');
    expect(await open('s-2', a, [await registration('s-2', 8, a)])).toBe('unsigned');
  });

  it('an archive signed by a key outside the roster is refused', async () => {
    const stranger = generateKeyPairSync('ed25519').privateKey;
    const sign = async (p: Uint8Array) => new Uint8Array(nodeSign(null, p, stranger));
    const a = await seal('s-3', { sequence: 9, sign });
    expect(await open('s-3', a, [await registration('s-3', 9, a)])).toBe('maker_mismatch');
  });

  it('an older archive handed back under the same snapshot id is refused (rollback)', async () => {
    const old = await seal('s-4', { sequence: 10 });
    const now = await seal('s-4', { sequence: 11 });
    expect(await open('s-4', old, [await registration('s-4', 11, now)])).toBe('registration_mismatch');
  });

  it('a registration of another snapshot listed under this id is refused', async () => {
    const a = await seal('s-5', { sequence: 12 });
    const reg = await registration('s-5', 12, a, { id: 's-6' });
    expect(await open('s-5', a, [reg])).toBe('registration_mismatch');
  });

  it('an archive without any registration is refused', async () => {
    const a = await seal('s-7', { sequence: 13 });
    expect(await open('s-7', a, [])).toBe('not_registered');
  });

  it('good_reg_file: without a logged registration, the signed <archive>.reg beside the archive binds the restore', async () => {
    const a = await seal('s-10', { sequence: 15 });
    const path = join(w.archives, 's-10');
    writeFileSync(registrationFile(path), jcs((await registration('s-10', 15, a)).statement));
    expect(await open('s-10', a, [], path)).toBe('opened');
    const forged = await registration('s-10', 15, a, { bodyDigest: '11'.repeat(32) });
    writeFileSync(registrationFile(path), jcs(forged.statement));
    expect(await open('s-10', a, [], path)).toBe('registration_mismatch');
    writeFileSync(registrationFile(path), 'not a statement');
    expect(await open('s-10', a, [], path)).toBe('not_registered');
  });

  it('an archive whose manifest names another snapshot than the requested one is refused', async () => {
    const a = await seal('s-8', { sequence: 14 });
    expect(await open('s-9', a, [await registration('s-9', 14, a)])).toBe('wrong_snapshot');
  });
});
