/**
 * X-Wing (ML-KEM-768 + X25519, draft-connolly-cfrg-xwing-kem) from @noble/post-quantum, which
 * passes the X-Wing draft's vectors (test/crypto/good_xwing_vectors.test.ts).
 * A private key is its 32-byte seed; the public key is 1216 bytes.
 *
 * @example
 * const { seed, publicKey } = xwingKeygen();
 * const { cipherText, sharedSecret } = xwingEncapsulate(publicKey);
 * xwingDecapsulate(cipherText, seed); // === sharedSecret
 */
import { randomBytes } from 'node:crypto';
import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js';

export const XWING_SEED_SIZE = 32;
export const XWING_PUBLIC_KEY_SIZE = 1216;
export const XWING_CIPHERTEXT_SIZE = 1120;
export const XWING_ENCAPSULATION_SEED_SIZE = 64;

export interface XWingKeyPair {
  /** The 32-byte private seed. Secret. */
  seed: Uint8Array;
  publicKey: Uint8Array;
}

export function xwingKeygen(seed: Uint8Array = new Uint8Array(randomBytes(XWING_SEED_SIZE))): XWingKeyPair {
  if (seed.length !== XWING_SEED_SIZE) throw new RangeError('X-Wing seed must be 32 bytes');
  const { publicKey } = ml_kem768_x25519.keygen(seed);
  return { seed: new Uint8Array(seed), publicKey };
}

/** The public key of a seed: used to check a combined quorum seed against the roster's public key. */
export const xwingPublicKey = (seed: Uint8Array): Uint8Array => xwingKeygen(seed).publicKey;

export function xwingEncapsulate(
  publicKey: Uint8Array,
  eseed?: Uint8Array,
): { cipherText: Uint8Array; sharedSecret: Uint8Array } {
  if (publicKey.length !== XWING_PUBLIC_KEY_SIZE)
    throw new RangeError('X-Wing public key must be 1216 bytes');
  return ml_kem768_x25519.encapsulate(publicKey, eseed);
}

export function xwingDecapsulate(cipherText: Uint8Array, seed: Uint8Array): Uint8Array {
  if (cipherText.length !== XWING_CIPHERTEXT_SIZE)
    throw new RangeError('X-Wing ciphertext must be 1120 bytes');
  if (seed.length !== XWING_SEED_SIZE) throw new RangeError('X-Wing seed must be 32 bytes');
  return ml_kem768_x25519.decapsulate(cipherText, seed);
}
