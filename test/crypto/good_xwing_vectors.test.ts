import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/crypto/bytes.ts';
import { xwingDecapsulate, xwingEncapsulate, xwingKeygen } from '../../src/crypto/xwing.ts';

// X-Wing draft vectors (provenance in test/vectors/SOURCES.md), copied into test/vectors.
const vectors = JSON.parse(
  readFileSync(new URL('../vectors/xwing/test-vectors.json', import.meta.url), 'utf8'),
) as {
  seed: string;
  eseed: string;
  ss: string;
  sk: string;
  pk: string;
  ct: string;
}[];

describe('X-Wing (noble ml_kem768_x25519) against the draft vectors', () => {
  it('has the three vectors', () => expect(vectors).toHaveLength(3));
  vectors.forEach((v, i) => {
    it(`vector ${i}: keygen, encapsulate with eseed, decapsulate`, () => {
      const kp = xwingKeygen(fromHex(v.seed));
      expect(toHex(kp.seed)).toBe(v.sk);
      expect(toHex(kp.publicKey)).toBe(v.pk);
      const e = xwingEncapsulate(kp.publicKey, fromHex(v.eseed));
      expect(toHex(e.cipherText)).toBe(v.ct);
      expect(toHex(e.sharedSecret)).toBe(v.ss);
      expect(toHex(xwingDecapsulate(fromHex(v.ct), kp.seed))).toBe(v.ss);
    });
  });
});
