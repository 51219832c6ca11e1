import { generateKeyPairSync } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { split } from 'shamir-secret-sharing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Custodian, installTrustedStationKey, openCustodian } from '../../hsm/custodian.ts';
import {
  commitShare,
  createCeremonyKeys,
  receiveTrustedRelease,
  wrapShareForImport,
} from '../../hsm/station.ts';
import { xwingKeygen } from '../../src/crypto/xwing.ts';
import { type DevTokens, devTokens, digest32, MODULE } from './helpers.ts';

let dev: DevTokens;
let c: Custodian;
const station = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rogue = generateKeyPairSync('rsa', { modulusLength: 2048 });
const KC = digest32(0x11);
const CEREMONY = digest32(0x22);
let share: Uint8Array;

beforeAll(async () => {
  dev = await devTokens(1);
  // security officer step first: an SO login excludes user logins of the same token in one process
  const id = await installTrustedStationKey({
    label: 'custodian-1',
    soPin: dev.pins['custodian-1']!.so,
    keyLabel: 'station-main',
    publicKey: station.publicKey,
  });
  expect(id).toMatch(/^[0-9a-f]{32}$/);
  c = await openCustodian({ label: 'custodian-1', pin: dev.pins['custodian-1']!.user });
  const keys = await c.setup();
  share = (await split(xwingKeygen().seed, 2, 2))[0]!;
  const env = await wrapShareForImport({
    domain: 'census',
    epoch: 7,
    ceremony: KC,
    custodian: 'custodian-1',
    share,
    transport: keys.transport,
    xwing: keys.xwing,
  });
  await c.importShare(env, {
    domain: 'census',
    epoch: 7,
    ceremony: KC,
    wrapWithTrusted: true,
    objectId: 'ab'.repeat(16),
  });
});

afterAll(() => {
  c?.close();
  dev?.cleanup();
});

describe('trusted-wrap profile (the token enforces the recipient)', () => {
  it('good_attributes: the share is marked wrap-with-trusted', async () => {
    expect(await c.describe({ domain: 'census', epoch: 7 })).toMatchObject({
      wrapWithTrusted: true,
      id: 'ab'.repeat(16),
      sensitive: true,
      valueReadable: false,
    });
  });

  it('fail_untrusted_kek: an ECDH-derived KEK (any recipient a PIN holder picks) cannot wrap the share', async () => {
    const st = createCeremonyKeys();
    const err = await c
      .releaseShare({
        domain: 'census',
        epoch: 7,
        ceremony: CEREMONY,
        recipientP256: st.p256.publicKey,
        recipientXWing: st.xwing.publicKey,
      })
      .catch((e) => e);
    expect(err).toMatchObject({ code: 'key_not_wrappable', ckr: 'CKR_KEY_NOT_WRAPPABLE' });
  });

  it('fail_user_cannot_install_trust: a user cannot mark a key trusted, and an untrusted RSA key cannot wrap the share', async () => {
    // the user PIN is not the SO PIN (and an SO login is refused while the user is logged in)
    await expect(
      installTrustedStationKey({
        label: 'custodian-1',
        soPin: dev.pins['custodian-1']!.user,
        keyLabel: 'rogue',
        publicKey: rogue.publicKey,
      }),
    ).rejects.toMatchObject({ code: 'token_state' });
    // raw PKCS#11 as the logged-in user: CKA_TRUSTED=true is read-only for the user (trap 9) …
    const P = pkcs11js;
    const p11 = new P.PKCS11();
    p11.load(MODULE);
    try {
      p11.C_Initialize({ flags: P.CKF_OS_LOCKING_OK });
    } catch {
      // already initialised by the layer in this process
    }
    const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === 'custodian-1')!;
    const s = p11.C_OpenSession(slot, P.CKF_SERIAL_SESSION | P.CKF_RW_SESSION);
    const jwk = rogue.publicKey.export({ format: 'jwk' });
    const rsa = (trusted: boolean) => [
      { type: P.CKA_CLASS, value: P.CKO_PUBLIC_KEY },
      { type: P.CKA_KEY_TYPE, value: P.CKK_RSA },
      { type: P.CKA_TOKEN, value: false },
      { type: P.CKA_WRAP, value: true },
      { type: P.CKA_TRUSTED, value: trusted },
      { type: P.CKA_LABEL, value: 'rogue' },
      { type: P.CKA_MODULUS, value: Buffer.from(jwk.n!, 'base64url') },
      { type: P.CKA_PUBLIC_EXPONENT, value: Buffer.from(jwk.e!, 'base64url') },
    ];
    try {
      expect(() => p11.C_CreateObject(s, rsa(true))).toThrow(/CKR_ATTRIBUTE_READ_ONLY/);
      // … and an untrusted key is refused by the token itself, whatever the client does
      const key = p11.C_CreateObject(s, rsa(false));
      p11.C_FindObjectsInit(s, [
        { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
        { type: P.CKA_LABEL, value: 'share-census-7' },
      ]);
      const [share] = p11.C_FindObjects(s, 1);
      p11.C_FindObjectsFinal(s);
      const oaep = {
        mechanism: P.CKM_RSA_PKCS_OAEP,
        parameter: { type: P.CK_PARAMS_RSA_OAEP, hashAlg: P.CKM_SHA_1, mgf: P.CKG_MGF1_SHA1, source: 1 },
      };
      expect(() => p11.C_WrapKey(s, oaep, key, share!, Buffer.alloc(512))).toThrow(/CKR_KEY_NOT_WRAPPABLE/);
      // the layer refuses an untrusted station key before asking the token
      await expect(
        c.releaseShareTrusted({
          domain: 'census',
          epoch: 7,
          ceremony: CEREMONY,
          stationKeyLabel: 'rogue',
          recipientXWing: xwingKeygen().publicKey,
        }),
      ).rejects.toMatchObject({ code: 'key_not_wrappable' });
    } finally {
      p11.C_CloseSession(s);
    }
  });

  it('good_trusted_release: the share wraps to the SO-installed station key and the station opens it', async () => {
    const pq = xwingKeygen();
    const env = await c.releaseShareTrusted({
      domain: 'census',
      epoch: 7,
      ceremony: CEREMONY,
      stationKeyLabel: 'station-main',
      recipientXWing: pq.publicKey,
    });
    const commitment = commitShare('custodian-1', 'census', 7, 'kc-7', share);
    const got = await receiveTrustedRelease(pq.seed, station.privateKey, env, {
      domain: 'census',
      epoch: 7,
      ceremony: CEREMONY,
      custodian: 'custodian-1',
      commitment,
    });
    expect(got).toEqual(share);
    // the rogue key's owner cannot open it
    await expect(
      receiveTrustedRelease(pq.seed, rogue.privateKey, env, {
        domain: 'census',
        epoch: 7,
        ceremony: CEREMONY,
        custodian: 'custodian-1',
        commitment,
      }),
    ).rejects.toMatchObject({ code: 'auth_failed' });
  });
});
