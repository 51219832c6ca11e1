import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveError, bufferSink, bufferSource, openArchive, sealArchive } from '../../src/archive/index.ts';
import { identityFromSeed } from '../../src/crypto/keys.ts';
import type { Statement } from '../../src/crypto/statement.ts';
import { xwingKeygen } from '../../src/crypto/xwing.ts';
import { STATEMENT } from '../../src/protocol/statements.ts';
import { makerVerifier, type Registration } from '../../src/station/maker.ts';
import { type TestWorld, testWorld } from '../coordinator/world.ts';

// docs/DECISIONS.md#d4: the station restores only archives signed by a job of the pinned roster and
// matching the job's logged registration.
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
  const registration = async (id: string, sequence: number, sign = w.job.sign): Promise<Registration> => {
    const client = w.client('backup-job', w.fetch);
    const body = {
      id,
      domain: 'land',
      sealEpoch: 1,
      size: 1,
      digest: '0'.repeat(64),
      location: id,
      sequence,
      createdAt: new Date().toISOString(),
    };
    const s = await (await import('../../src/crypto/statement.ts')).signStatement(
      { type: STATEMENT.snapshot, roster: client.rosterId, signer: 'job/backup-job', body },
      sign,
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
  const open = async (archive: Uint8Array, regs: Registration[]) =>
    openArchive(bufferSource(archive), bufferSink(), {
      identities: [quorum],
      threads: 0,
      maker: makerVerifier(w.roster, regs),
    }).then(
      () => 'opened',
      (e: unknown) => (e instanceof ArchiveError ? e.code : String(e)),
    );

  it('a signed, registered archive opens', async () => {
    expect(await open(await seal('s-1', { sequence: 7 }), [await registration('s-1', 7)])).toBe('opened');
  });

  it('an unsigned archive is refused (anyone can encrypt to the public key)', async () => {
    expect(await open(await seal('s-2'), [await registration('s-2', 8)])).toBe('unsigned');
  });

  it('an archive signed by a key outside the roster is refused', async () => {
    const stranger = generateKeyPairSync('ed25519').privateKey;
    const sign = async (p: Uint8Array) => new Uint8Array(nodeSign(null, p, stranger));
    expect(await open(await seal('s-3', { sequence: 9, sign }), [await registration('s-3', 9)])).toBe(
      'maker_mismatch',
    );
  });

  it('an older archive handed back under the same snapshot id is refused (rollback)', async () => {
    const old = await seal('s-4', { sequence: 10 });
    expect(await open(old, [await registration('s-4', 11)])).toBe('maker_mismatch');
  });

  it('an archive whose maker stanza names another archive is refused', async () => {
    const a = await seal('s-5', { sequence: 12 });
    expect(await open(a, [await registration('s-6', 12)])).toBe('maker_mismatch');
  });
});
