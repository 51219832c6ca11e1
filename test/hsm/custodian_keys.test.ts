import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, verify } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Custodian, openCustodian } from '../../hsm/custodian.ts';
import { verifyP256 } from '../../hsm/verify.ts';
import { type DevTokens, devTokens, MODULE } from './helpers.ts';

let dev: DevTokens;
let c: Custodian;

beforeAll(async () => {
  dev = await devTokens(1);
  c = await openCustodian({ label: 'custodian-1', pin: dev.pins['custodian-1']!.user });
  await c.setup();
});

afterAll(() => {
  c?.close();
  dev?.cleanup();
});

const p256Spki = (pub: Uint8Array) =>
  createPublicKey({
    key: Buffer.concat([Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'), pub]),
    format: 'der',
    type: 'spki',
  });

describe('custodian keys', () => {
  it('good_setup_idempotent: setup twice keeps the same keys', async () => {
    const a = await c.publicKeys();
    const b = await c.setup();
    expect(b).toEqual(a);
    expect(a.identity).toHaveLength(65);
    expect(a.transport).toHaveLength(65);
    expect(a.xwing).toHaveLength(1216);
    expect(a.identity).not.toEqual(a.transport);
  });

  it('good_attributes: private keys are generated in the token, sensitive, non-extractable, unreadable', async () => {
    for (const which of ['identity', 'transport', 'xwing-kek'] as const) {
      const f = await c.describe(which);
      expect(f, which).toMatchObject({
        token: true,
        private: true,
        sensitive: true,
        extractable: false,
        alwaysSensitive: true,
        neverExtractable: true,
        local: true,
        valueReadable: false,
      });
    }
  });

  it('good_attributes_raw: a second, independent pkcs11js view agrees (CKA_VALUE refused)', () => {
    const P = pkcs11js;
    const p11 = new P.PKCS11();
    p11.load(MODULE);
    try {
      p11.C_Initialize({ flags: P.CKF_OS_LOCKING_OK });
    } catch (e) {
      expect(String((e as Error).message)).toMatch(/CKR_CRYPTOKI_ALREADY_INITIALIZED/);
    }
    const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === 'custodian-1')!;
    const s = p11.C_OpenSession(slot, P.CKF_SERIAL_SESSION);
    try {
      // already logged in by the layer in this process: login state is per application
      p11.C_FindObjectsInit(s, [
        { type: P.CKA_CLASS, value: P.CKO_PRIVATE_KEY },
        { type: P.CKA_LABEL, value: 'embassy-identity' },
      ]);
      const [key] = p11.C_FindObjects(s, 2);
      p11.C_FindObjectsFinal(s);
      expect(key).toBeDefined();
      const attrs = p11.C_GetAttributeValue(s, key!, [
        { type: P.CKA_SENSITIVE },
        { type: P.CKA_EXTRACTABLE },
        { type: P.CKA_LOCAL },
      ]);
      expect(attrs.map((a) => a.value[0])).toEqual([1, 0, 1]);
      expect(() => p11.C_GetAttributeValue(s, key!, [{ type: P.CKA_VALUE }])).toThrow(
        /CKR_ATTRIBUTE_SENSITIVE/,
      );
    } finally {
      p11.C_CloseSession(s);
    }
  });

  it('good_sign: ECDSA over a digest verifies with noble {prehash:false, lowS:false} and node:crypto', async () => {
    const { identity } = await c.publicKeys();
    const digest = createHash('sha256').update('data-embassy/v1/approval\0…').digest();
    const sig = await c.sign(digest);
    expect(sig).toHaveLength(64);
    expect(verifyP256(sig, digest, identity)).toBe(true);
    // node:crypto: sign-over-digest is not exposed, so verify the message with sha256 + ieee-p1363
    const msgSig = await c.sign(createHash('sha256').update('hello').digest());
    expect(
      verify('sha256', Buffer.from('hello'), { key: p256Spki(identity), dsaEncoding: 'ieee-p1363' }, msgSig),
    ).toBe(true);
    const flipped = Uint8Array.from(sig);
    flipped[10]! ^= 1;
    expect(verifyP256(flipped, digest, identity)).toBe(false);
  });

  it('good_concurrent_signing: 200 signatures from 20 async callers all verify', async () => {
    const { identity } = await c.publicKeys();
    const callers = Array.from({ length: 20 }, async (_, k) => {
      const out: boolean[] = [];
      for (let i = 0; i < 10; i++) {
        const d = createHash('sha256').update(`${k}/${i}`).digest();
        out.push(verifyP256(await c.sign(d), d, identity));
      }
      return out;
    });
    const results = (await Promise.all(callers)).flat();
    expect(results).toHaveLength(200);
    expect(results.every(Boolean)).toBe(true);
  });

  it('fail_bad_digest: a digest that is not 32 bytes is refused before the token', async () => {
    await expect(c.sign(new Uint8Array(31))).rejects.toMatchObject({ code: 'bad_argument' });
  });

  it('good_pkcs11_tool: pkcs11-tool can list the objects of a custodian token', () => {
    const r = spawnSync(
      'pkcs11-tool',
      [
        '--module',
        MODULE,
        '--token-label',
        'custodian-1',
        '--login',
        '--pin',
        dev.pins['custodian-1']!.user,
        '--list-objects',
      ],
      { env: { ...process.env, SOFTHSM2_CONF: dev.confPath }, encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('embassy-identity');
    expect(r.stdout).toContain('embassy-transport');
    expect(r.stdout).toContain('embassy-xwing-kek');
  });
});
