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
    // even a station that re-seals the outer layer under a ceremony-B header cannot use it:
    // the in-token KEK was derived over ceremony A
    const p = parseReleaseEnvelope(env);
    const inner = await hpkeOpen(station.xwing.seed, p.sealed.enc, hpkeInfo('release'), p.aad, p.sealed.ct);
    const headerB = encodeReleaseHeader({ ...p.header, ceremony: CEREMONY_B });
    const resealed = encodeEnvelope(
      headerB,
      await hpkeSeal(station.xwing.publicKey, hpkeInfo('release'), headerB, inner),
    );
    await expect(receiveRelease(station, resealed, expectB)).rejects.toMatchObject({ code: 'auth_failed' });
    expect(await receiveRelease(station, env, { ...expectB, ceremony: CEREMONY_A })).toEqual(shares[0]);
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

describe('tampering and misdirection', () => {
  it('fail_tampered_import: a flipped byte in the import envelope is refused and leaves no object', async () => {
    const c = custodians[0]!;
    const keys = await c.publicKeys();
    const env = await wrapShareForImport({
      domain: 'land',
      epoch: 2,
      ceremony: KEY_CEREMONY,
      custodian: 'custodian-1',
      share: shares[0]!,
      transport: keys.transport,
      xwing: keys.xwing,
    });
    for (const at of [env.length - 5, env.length - 200, 40]) {
      const bad = Uint8Array.from(env);
      bad[at]! ^= 0x01;
      const err = await c
        .importShare(bad, { domain: 'land', epoch: 2, ceremony: KEY_CEREMONY })
        .catch((e) => e);
      expect(err).toBeInstanceOf(HsmError);
      expect(['auth_failed', 'bad_envelope', 'envelope_mismatch']).toContain(err.code);
    }
    expect((await c.listShares()).map((s) => s.label)).toEqual(['share-land-1']);
  });

  it('fail_tampered_wrapped_share: a wrapped share modified under a valid outer layer fails inside the token', async () => {
    const c = custodians[0]!;
    const keys = await c.publicKeys();
    const env = await craftImport(keys, shares[0]!, (inner) => {
      inner.wrapped[3]! ^= 0x80;
    });
    await expect(
      c.importShare(env, { domain: 'land', epoch: 3, ceremony: KEY_CEREMONY }),
    ).rejects.toMatchObject({
      code: 'auth_failed',
    });
    expect((await c.listShares()).map((s) => s.label)).toEqual(['share-land-1']);
  });

  it('fail_kcv_mismatch: a share whose key-check value differs is removed again', async () => {
    const c = custodians[0]!;
    const keys = await c.publicKeys();
    const env = await craftImport(keys, shares[0]!, (inner) => {
      inner.kcv[0]! ^= 1;
    });
    const err = await c
      .importShare(env, { domain: 'land', epoch: 3, ceremony: KEY_CEREMONY })
      .catch((e) => e);
    expect(err).toMatchObject({ code: 'kcv_mismatch', custodian: 'custodian-1' });
    expect((await c.listShares()).map((s) => s.label)).toEqual(['share-land-1']);
  });

  it('fail_misdirected_import: an envelope for custodian-1 does not import into custodian-3', async () => {
    const keys = await custodians[0]!.publicKeys();
    const env = await wrapShareForImport({
      domain: 'land',
      epoch: 4,
      ceremony: KEY_CEREMONY,
      custodian: 'custodian-1',
      share: shares[0]!,
      transport: keys.transport,
      xwing: keys.xwing,
    });
    const c3 = custodians[2]!;
    await expect(
      c3.importShare(env, { domain: 'land', epoch: 4, ceremony: KEY_CEREMONY, custodian: 'custodian-1' }),
    ).rejects.toMatchObject({ code: 'envelope_mismatch' });
    await expect(
      c3.importShare(env, { domain: 'land', epoch: 4, ceremony: KEY_CEREMONY }),
    ).rejects.toMatchObject({
      code: 'envelope_mismatch',
    });
  });

  it('fail_duplicate_import: a second share for the same domain and epoch is refused', async () => {
    const c = custodians[2]!;
    const keys = await c.publicKeys();
    const env = await wrapShareForImport({
      domain: 'land',
      epoch: 1,
      ceremony: KEY_CEREMONY,
      custodian: 'custodian-3',
      share: shares[2]!,
      transport: keys.transport,
      xwing: keys.xwing,
    });
    await expect(
      c.importShare(env, { domain: 'land', epoch: 1, ceremony: KEY_CEREMONY }),
    ).rejects.toMatchObject({
      code: 'object_exists',
    });
  });

  it('fail_tampered_release: flipped bytes anywhere in a release are refused', async () => {
    const station = createCeremonyKeys();
    const env = await custodians[0]!.releaseShare({
      domain: 'land',
      epoch: 1,
      ceremony: CEREMONY_A,
      recipientP256: station.p256.publicKey,
      recipientXWing: station.xwing.publicKey,
    });
    const expectA = {
      domain: 'land',
      epoch: 1,
      ceremony: CEREMONY_A,
      custodian: 'custodian-1',
      commitment: commitments[0]!,
    };
    for (let at = 0; at < env.length; at += 97) {
      const bad = Uint8Array.from(env);
      bad[at]! ^= 0x04;
      const err = await receiveRelease(station, bad, expectA).catch((e) => e);
      expect(err, `byte ${at}`).toBeInstanceOf(HsmError);
      expect(['auth_failed', 'bad_envelope', 'envelope_mismatch']).toContain(err.code);
    }
    expect(await receiveRelease(station, env, expectA)).toEqual(shares[0]);
  });

  it('fail_inner_tamper: a wrapped share modified under a valid outer layer fails to unwrap at the station', async () => {
    const station = createCeremonyKeys();
    const req = {
      domain: 'land',
      epoch: 1,
      ceremony: CEREMONY_A,
      recipientP256: station.p256.publicKey,
      recipientXWing: station.xwing.publicKey,
    };
    const env = await resealRelease(station, await custodians[0]!.releaseShare(req), (inner) => {
      inner.wrapped[9]! ^= 1;
    });
    const expectA = {
      domain: 'land',
      epoch: 1,
      ceremony: CEREMONY_A,
      custodian: 'custodian-1',
      commitment: commitments[0]!,
    };
    await expect(receiveRelease(station, env, expectA)).rejects.toMatchObject({ code: 'auth_failed' });
    // and a swapped ephemeral key (another ceremony's release re-sealed) fails the same way
    const other = await custodians[0]!.wrapForRecipient(
      { domain: 'land', epoch: 1, ceremony: CEREMONY_B, custodian: 'custodian-1' },
      station.p256.publicKey,
    );
    const swapped = await resealRelease(station, await custodians[0]!.releaseShare(req), (inner) => {
      inner.ephPub = other.ephPub;
      inner.wrapped = other.wrapped;
    });
    await expect(receiveRelease(station, swapped, expectA)).rejects.toMatchObject({ code: 'auth_failed' });
  });

  it('fail_commitment: a share that does not match its commitment names the custodian', async () => {
    const station = createCeremonyKeys();
    const env = await custodians[2]!.releaseShare({
      domain: 'land',
      epoch: 1,
      ceremony: CEREMONY_A,
      recipientP256: station.p256.publicKey,
      recipientXWing: station.xwing.publicKey,
    });
    const wrongRecord = { ...commitments[0]!, custodian: 'custodian-3' };
    const err = await receiveRelease(station, env, {
      domain: 'land',
      epoch: 1,
      ceremony: CEREMONY_A,
      custodian: 'custodian-3',
      commitment: wrongRecord,
    }).catch((e) => e);
    expect(err).toMatchObject({ code: 'commitment_mismatch', custodian: 'custodian-3' });
    expect(err.message).toContain('custodian-3');
  });

  it('good_share_attributes: an imported share is sensitive, its value unreadable, and marked local=false', async () => {
    const f = await custodians[0]!.describe({ domain: 'land', epoch: 1 });
    expect(f).toMatchObject({
      token: true,
      private: true,
      sensitive: true,
      valueReadable: false,
      label: 'share-land-1',
    });
    // extractable only so that it can be wrapped; imported keys never show local/alwaysSensitive (trap 11)
    expect(f.extractable).toBe(true);
    expect(f.local).toBe(false);
  });
});

import { createECDH } from 'node:crypto';
import {
  deriveKek,
  encodeEnvelope,
  encodeImportHeader,
  encodeImportInner,
  encodeReleaseHeader,
  encodeReleaseInner,
  hmacShare,
  hpkeInfo,
  type ImportInner,
  kcvMessage,
  kekInfo,
  kwpWrap,
  parseReleaseEnvelope,
  parseReleaseInner,
  type ReleaseInner,
} from '../../hsm/format.ts';
import type { CeremonyKeys } from '../../hsm/station.ts';
import { hpkeOpen, hpkeSeal } from '../../src/crypto/hpke.ts';

/** An import envelope built like the station's, with a hook to corrupt the inner layer. */
async function craftImport(
  keys: { transport: Uint8Array; xwing: Uint8Array },
  share: Uint8Array,
  tamper: (inner: ImportInner) => void,
): Promise<Uint8Array> {
  const ctx = { domain: 'land', epoch: 3, ceremony: KEY_CEREMONY, custodian: 'custodian-1' };
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const ephPub = new Uint8Array(ecdh.getPublicKey(null, 'uncompressed'));
  const kek = deriveKek(ecdh.computeSecret(keys.transport), kekInfo('import', ctx, ephPub, keys.transport));
  const inner: ImportInner = {
    ephPub,
    length: share.length,
    wrapped: new Uint8Array(kwpWrap(kek, share)),
    kcv: hmacShare(share, kcvMessage(ctx.domain, ctx.epoch)),
  };
  tamper(inner);
  const header = encodeImportHeader({ ...ctx, transport: keys.transport });
  return encodeEnvelope(
    header,
    await hpkeSeal(keys.xwing, hpkeInfo('import'), header, encodeImportInner(inner)),
  );
}

/** Opens a release's outer layer with the station's seed, lets `tamper` edit it, and re-seals it. */
async function resealRelease(
  station: CeremonyKeys,
  env: Uint8Array,
  tamper: (inner: ReleaseInner) => void,
): Promise<Uint8Array> {
  const p = parseReleaseEnvelope(env);
  const inner = parseReleaseInner(
    p.header.mode,
    await hpkeOpen(station.xwing.seed, p.sealed.enc, hpkeInfo('release'), p.aad, p.sealed.ct),
  );
  tamper(inner);
  const sealed = await hpkeSeal(
    station.xwing.publicKey,
    hpkeInfo('release'),
    p.aad,
    encodeReleaseInner(p.header.mode, inner),
  );
  return encodeEnvelope(p.aad, sealed);
}
