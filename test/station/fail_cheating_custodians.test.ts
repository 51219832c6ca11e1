import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CeremonyKeys, createCeremonyKeys } from '../../hsm/index.ts';
import { bufferSink, bufferSource, openArchive, sealArchive } from '../../src/archive/index.ts';
import { combineReleases, type Release, UnlockError } from '../../src/station/unlock.ts';
import { type CustodianQuorum, custodianQuorum } from './helpers.ts';

// A 3-of-5 quorum on SoftHSM2 tokens. A cheating custodian (a share that fails its commitment, a
// release made for another ceremony, garbage) must neither stop an unlock that three honest
// custodians support nor go unnamed.
describe('combineReleases skips bad shares and names every cheating custodian', () => {
  let q: CustodianQuorum;
  let archive: Uint8Array;
  const plaintext = new TextEncoder().encode('land register 2026\n');
  const ceremony = new Uint8Array(32).fill(0xc);
  const otherCeremony = new Uint8Array(32).fill(0xd);

  beforeAll(async () => {
    q = await custodianQuorum(5, 3, 'land');
    const sink = bufferSink();
    await sealArchive(bufferSource(plaintext), sink, {
      manifest: {
        domain: 'land',
        snapshotId: 'l1',
        sealEpoch: 1,
        createdAt: '2026-11-27T00:00:00Z',
        contentType: 'text/plain',
      },
      recipients: [{ publicKey: q.split.publicKey, epoch: 1 }],
      threads: 0,
    });
    archive = sink.result();
  });
  afterAll(() => q?.cleanup());

  const combineFor = (keys: CeremonyKeys, releases: Release[]) =>
    combineReleases({
      keys,
      domain: 'land',
      epoch: 1,
      ceremony,
      threshold: 3,
      publicKey: q.split.publicKey,
      releases,
    });

  /** custodian-1 fails its commitment, custodian-3 re-posts a release made for another ceremony. */
  async function withTwoCheaters(keys: CeremonyKeys): Promise<Release[]> {
    const releases = await q.release([0, 1, 2, 3, 4], ceremony, keys);
    releases[0] = { ...releases[0]!, commitment: q.split.shares[4]!.commitment };
    releases[2] = (await q.release([2], otherCeremony, keys))[0]!;
    return releases;
  }

  it('two cheaters first in line: the unlock goes on with three good shares and names both', async () => {
    const keys = createCeremonyKeys();
    const quorum = await combineFor(keys, await withTwoCheaters(keys));
    expect(quorum.cheaters.map((c) => c.custodian)).toEqual(['custodian-1', 'custodian-3']);
    expect(quorum.combined).toEqual(['custodian-2', 'custodian-4', 'custodian-5']);
    const sink = bufferSink();
    await openArchive(bufferSource(archive), sink, { identities: [quorum], threads: 0 });
    expect(Buffer.from(sink.result()).toString()).toBe(Buffer.from(plaintext).toString());
  });

  it('a cheater after three good releases is still checked and named', async () => {
    const keys = createCeremonyKeys();
    const releases = await q.release([0, 1, 2, 3], ceremony, keys);
    releases[3] = { ...releases[3]!, envelope: new Uint8Array(releases[3]!.envelope.length).fill(7) };
    const quorum = await combineFor(keys, releases);
    expect(quorum.combined).toEqual(['custodian-1', 'custodian-2', 'custodian-3']);
    expect(quorum.cheaters).toEqual([{ custodian: 'custodian-4', reason: expect.any(String) }]);
  });

  it('fewer than three good shares: refused with bad_share, naming every cheater and why', async () => {
    const keys = createCeremonyKeys();
    const releases = (await withTwoCheaters(keys)).slice(0, 4); // custodians 1-4: two good, two bad
    const err = (await combineFor(keys, releases).catch((e: unknown) => e)) as UnlockError;
    expect(err).toBeInstanceOf(UnlockError);
    expect(err.code).toBe('bad_share');
    expect(err.custodian).toBe('custodian-1');
    expect(err.cheaters.map((c) => c.custodian)).toEqual(['custodian-1', 'custodian-3']);
    expect(err.message).toContain('"custodian-1"');
    expect(err.message).toContain('"custodian-3"');
    for (const c of err.cheaters) expect(c.reason.length).toBeGreaterThan(0);
  });
});
