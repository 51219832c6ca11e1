import { combine, split } from 'shamir-secret-sharing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Custodian, openCustodian } from '../../hsm/custodian.ts';
import { HsmError } from '../../hsm/errors.ts';
import {
  commitShare,
  createCeremonyKeys,
  precomputeHealthChallenges,
  receiveRelease,
  type ShareCommitmentRecord,
  verifyHealthResponse,
  wrapShareForImport,
} from '../../hsm/station.ts';
import { xwingKeygen, xwingPublicKey } from '../../src/crypto/xwing.ts';
import { type DevTokens, devTokens, digest32 } from './helpers.ts';

let dev: DevTokens;
const custodians: Custodian[] = [];
const KEY_CEREMONY = digest32(0xaa);
const CEREMONY_A = digest32(0x0a);
const CEREMONY_B = digest32(0x0b);
const quorum = xwingKeygen();
let shares: Uint8Array[] = [];
const commitments: ShareCommitmentRecord[] = [];

beforeAll(async () => {
  dev = await devTokens(3);
  shares = await split(quorum.seed, 3, 2);
  for (let i = 0; i < 3; i++) {
    const label = `custodian-${i + 1}`;
    const c = await openCustodian({ label, pin: dev.pins[label]!.user });
    custodians.push(c);
    const keys = await c.setup();
    const env = await wrapShareForImport({
      domain: 'land',
      epoch: 1,
      ceremony: KEY_CEREMONY,
      custodian: label,
      share: shares[i]!,
      transport: keys.transport,
      xwing: keys.xwing,
    });
    await c.importShare(env, { domain: 'land', epoch: 1, ceremony: KEY_CEREMONY });
    commitments.push(commitShare(label, 'land', 1, 'kc-1', shares[i]!));
  }
});

afterAll(() => {
  for (const c of custodians) c.close();
  dev?.cleanup();
});

describe('share release → station receive', () => {
  it('good_release: two custodians release, the station checks commitments and recombines the quorum seed', async () => {
    const station = createCeremonyKeys();
    const got: Uint8Array[] = [];
    for (const i of [0, 2]) {
      const env = await custodians[i]!.releaseShare({
        domain: 'land',
        epoch: 1,
        ceremony: CEREMONY_A,
        recipientP256: station.p256.publicKey,
        recipientXWing: station.xwing.publicKey,
      });
      got.push(
        await receiveRelease(station, env, {
          domain: 'land',
          epoch: 1,
          ceremony: CEREMONY_A,
          custodian: `custodian-${i + 1}`,
          commitment: commitments[i]!,
        }),
      );
    }
    expect(got[0]).toEqual(shares[0]);
    const seed = await combine(got);
    expect(xwingPublicKey(seed)).toEqual(quorum.publicKey);
  });

  it('fail_wrong_ceremony: a release bound to ceremony A is useless for ceremony B', async () => {
    const station = createCeremonyKeys();
    const env = await custodians[0]!.releaseShare({
      domain: 'land',
      epoch: 1,
      ceremony: CEREMONY_A,
      recipientP256: station.p256.publicKey,
      recipientXWing: station.xwing.publicKey,
    });
    const expectB = {
      domain: 'land',
      epoch: 1,
      ceremony: CEREMONY_B,
      custodian: 'custodian-1',
      commitment: commitments[0]!,
    };
    await expect(receiveRelease(station, env, expectB)).rejects.toMatchObject({ code: 'envelope_mismatch' });
    // rewrite the header to claim ceremony B: the X-Wing layer (header = AAD) refuses it
    const forged = Uint8Array.from(env);
    forged.set(CEREMONY_B, indexOf(forged, CEREMONY_A));
    await expect(receiveRelease(station, forged, expectB)).rejects.toMatchObject({ code: 'auth_failed' });
  });
});

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error('not found');
}

describe('health and destroy', () => {
  it('good_health: the token answers a one-time challenge recorded at split time', async () => {
    const [c1, c2] = precomputeHealthChallenges(shares[1]!, 'land', 1, 2);
    const r = await custodians[1]!.healthResponse('land', 1, c1!.challenge);
    expect(verifyHealthResponse(c1!, r)).toBe(true);
    expect(verifyHealthResponse(c2!, r)).toBe(false);
  });

  it('good_destroy: destroying a share returns a record and the share is gone', async () => {
    const rec = await custodians[1]!.destroyShare('land', 1);
    expect(rec).toMatchObject({ type: 'share-destruction', domain: 'land', epoch: 1, token: 'custodian-2' });
    expect(rec.objectId).toMatch(/^[0-9a-f]{32}$/);
    const err = await custodians[1]!.healthResponse('land', 1, digest32(1)).catch((e) => e);
    expect(err).toBeInstanceOf(HsmError);
    expect(err.code).toBe('object_missing');
  });
});
