import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCeremonyKeys } from '../../hsm/index.ts';
import { bufferSink, bufferSource, openArchive, sealArchive } from '../../src/archive/index.ts';
import { type SplitResult, subsets } from '../../src/station/key-ceremony.ts';
import { combineReleases, UnlockError } from '../../src/station/unlock.ts';
import { type CustodianQuorum, custodianQuorum } from './helpers.ts';

// Key ceremony and unlock through real SoftHSM2 custodian tokens.
let q: CustodianQuorum;
let split: SplitResult;
let archive: Uint8Array;
const plaintext = new TextEncoder().encode('census 2026: 1 374 687 residents\n');
const ceremonyA = new Uint8Array(32).fill(0xa);
const ceremonyB = new Uint8Array(32).fill(0xb);

beforeAll(async () => {
  q = await custodianQuorum(4, 3);
  split = q.split;
  const sink = bufferSink();
  await sealArchive(bufferSource(plaintext), sink, {
    manifest: {
      domain: 'census',
      snapshotId: 'c1',
      sealEpoch: 1,
      createdAt: '2026-11-27T00:00:00Z',
      contentType: 'text/plain',
    },
    recipients: [{ publicKey: split.publicKey, epoch: 1 }],
    threads: 0,
  });
  archive = sink.result();
});

afterAll(() => q?.cleanup());

const release = (ids: number[], ceremony: Uint8Array, keys = createCeremonyKeys()) =>
  q.release(ids, ceremony, keys);

describe('key ceremony', () => {
  it('checks every t-subset against the public key and commits to every share', () => {
    expect(split.subsetsChecked).toBe([...subsets(4, 3)].length);
    expect(new Set(split.shares.map((s) => s.x)).size).toBe(4);
    expect(split.shares.every((s) => s.commitment.commitment.length === 32)).toBe(true);
  });
});

describe('invariant 3: no decryption below threshold', () => {
  it('any 3 of 4 released shares open the archive', async () => {
    const keys = createCeremonyKeys();
    for (const ids of subsets(4, 3)) {
      const quorum = await combineReleases({
        keys,
        domain: 'census',
        epoch: 1,
        ceremony: ceremonyA,
        threshold: 3,
        publicKey: split.publicKey,
        releases: await release(ids, ceremonyA, keys),
      });
      const sink = bufferSink();
      await openArchive(bufferSource(archive), sink, { identities: [quorum], threads: 0 });
      expect(Buffer.from(sink.result()).toString()).toBe(Buffer.from(plaintext).toString());
    }
  });

  it('two shares are refused before combining', async () => {
    const keys = createCeremonyKeys();
    const req = {
      keys,
      domain: 'census',
      epoch: 1,
      ceremony: ceremonyA,
      threshold: 3,
      publicKey: split.publicKey,
    };
    await expect(
      combineReleases({ ...req, releases: await release([0, 1], ceremonyA, keys) }),
    ).rejects.toMatchObject({
      code: 'below_threshold',
    });
  });

  it('two shares combined with a lower claimed threshold do not give the quorum key', async () => {
    const keys = createCeremonyKeys();
    const req = {
      keys,
      domain: 'census',
      epoch: 1,
      ceremony: ceremonyA,
      threshold: 2,
      publicKey: split.publicKey,
    };
    await expect(
      combineReleases({ ...req, releases: await release([0, 1], ceremonyA, keys) }),
    ).rejects.toMatchObject({
      code: 'wrong_key',
    });
  });

  it('a release made for ceremony A is useless in ceremony B, and the custodian is named', async () => {
    const keys = createCeremonyKeys();
    const releases = await release([0, 1, 2], ceremonyA, keys);
    const err = await combineReleases({
      keys,
      domain: 'census',
      epoch: 1,
      ceremony: ceremonyB,
      threshold: 3,
      publicKey: split.publicKey,
      releases,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnlockError);
    expect((err as UnlockError).custodian).toBe('custodian-1');
  });

  it('a release to another station key is useless to this station', async () => {
    const mine = createCeremonyKeys();
    const releases = await release([0, 1, 2], ceremonyA, createCeremonyKeys());
    await expect(
      combineReleases({
        keys: mine,
        domain: 'census',
        epoch: 1,
        ceremony: ceremonyA,
        threshold: 3,
        publicKey: split.publicKey,
        releases,
      }),
    ).rejects.toMatchObject({ code: 'bad_share' });
  });

  it('a share that fails its commitment names the cheating custodian', async () => {
    const keys = createCeremonyKeys();
    const releases = await release([0, 1, 2], ceremonyA, keys);
    releases[1] = { ...releases[1]!, commitment: split.shares[3]!.commitment }; // custodian-2 checked against another share
    const err = (await combineReleases({
      keys,
      domain: 'census',
      epoch: 1,
      ceremony: ceremonyA,
      threshold: 3,
      publicKey: split.publicKey,
      releases,
    }).catch((e: unknown) => e)) as UnlockError;
    expect(err.code).toBe('bad_share');
    expect(err.custodian).toBe('custodian-2');
  });
});
