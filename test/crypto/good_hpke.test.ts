import { readFileSync } from 'node:fs';
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from '../../src/crypto/bytes.ts';
import { hpkeOpen, hpkeSeal } from '../../src/crypto/hpke.ts';
import { xwingKeygen } from '../../src/crypto/xwing.ts';

const buf = (hex: string) => fromHex(hex).slice().buffer;

// Wycheproof PR #273 (RFC 9180 base mode, DHKEM(X25519), AES-128-GCM): checks the @hpke/core
// key schedule and AEAD layer that our X-Wing suite runs on. Valid cases open to pt; invalid ones fail.
describe('@hpke/core key schedule against Wycheproof HPKE vectors', () => {
  const file = JSON.parse(
    readFileSync(
      new URL('../vectors/wycheproof-pr273-hpke/hpke_x25519_decrypt_test.json', import.meta.url),
      'utf8',
    ),
  );
  const suite = new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Aes128Gcm(),
  });
  for (const t of file.testGroups[0].tests) {
    it(`tc ${t.tcId} (${t.result}): ${t.comment}`, async () => {
      const open = async () => {
        const recipientKey = await suite.kem.importKey('raw', buf(t.skRm), false);
        const ctx = await suite.createRecipientContext({ recipientKey, enc: buf(t.enc), info: buf(t.info) });
        return new Uint8Array(await ctx.open(buf(t.ct), buf(t.aad)));
      };
      if (t.result === 'valid') expect(toHex(await open())).toBe(t.pt);
      else await expect(open()).rejects.toThrow();
    });
  }
});

describe('HPKE with X-Wing (KEM 0x647A, HKDF-SHA256, AES-256-GCM)', () => {
  const kp = xwingKeygen(new Uint8Array(32).fill(7));
  const info = utf8('info');
  const aad = utf8('aad');

  it('round-trips any plaintext', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (pt) => {
        const { enc, ct } = await hpkeSeal(kp.publicKey, info, aad, pt);
        expect(enc).toHaveLength(1120);
        expect(ct).toHaveLength(pt.length + 16);
        expect(await hpkeOpen(kp.seed, enc, info, aad, ct)).toEqual(pt);
      }),
      { numRuns: 20 },
    );
  });

  it('is deterministic given the encapsulation seed (used for known-answer vectors)', async () => {
    const eseed = new Uint8Array(64).fill(1);
    const a = await hpkeSeal(kp.publicKey, info, aad, utf8('dek'), eseed);
    const b = await hpkeSeal(kp.publicKey, info, aad, utf8('dek'), eseed);
    expect(a).toEqual(b);
  });

  it('fails to open with a wrong key, info, aad, enc or ct', async () => {
    const pt = utf8('0123456789abcdef0123456789abcdef');
    const { enc, ct } = await hpkeSeal(kp.publicKey, info, aad, pt);
    const other = xwingKeygen();
    const flip = (b: Uint8Array, i: number) => {
      const c = b.slice();
      c[i] = c[i]! ^ 1;
      return c;
    };
    await expect(hpkeOpen(other.seed, enc, info, aad, ct)).rejects.toThrow('HPKE open failed');
    await expect(hpkeOpen(kp.seed, enc, utf8('other'), aad, ct)).rejects.toThrow('HPKE open failed');
    await expect(hpkeOpen(kp.seed, enc, info, utf8('other'), ct)).rejects.toThrow('HPKE open failed');
    await expect(hpkeOpen(kp.seed, flip(enc, 5), info, aad, ct)).rejects.toThrow('HPKE open failed');
    await expect(hpkeOpen(kp.seed, flip(ct, 0), info, aad, ct.slice(1))).rejects.toThrow('HPKE open failed');
    await expect(hpkeOpen(kp.seed, enc.subarray(1), info, aad, ct)).rejects.toThrow('HPKE open failed');
  });
});
