import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/crypto/bytes.ts';
import {
  ed25519KeySigner,
  ed25519PrivateKeyFromSeed,
  ed25519RawPublicKey,
} from '../../src/crypto/ed25519-signer.ts';

// RFC 8032 §7.1, TEST 2 (one-byte message 0x72).
const SEED = fromHex('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb');
const PUBLIC = '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c';
const SIGNATURE =
  '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00';

describe('ed25519KeySigner', () => {
  it('good_rfc8032_vector', async () => {
    const key = ed25519PrivateKeyFromSeed(SEED);
    expect(toHex(await ed25519KeySigner(key)(fromHex('72')))).toBe(SIGNATURE);
    expect(toHex(ed25519RawPublicKey(key))).toBe(PUBLIC);
  });

  it('good_signature_verifies_under_the_raw_public_key_of_either_half', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const message = new TextEncoder().encode('payload');
    const sig = await ed25519KeySigner(privateKey)(message);
    expect(sig).toHaveLength(64);
    expect(verify(null, message, publicKey, sig)).toBe(true);
    expect(ed25519RawPublicKey(privateKey)).toEqual(ed25519RawPublicKey(publicKey));
  });
});
