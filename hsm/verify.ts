/**
 * Verifiers for signatures made in tokens. HSM ECDSA signatures are raw r‖s over a SHA-256 digest
 * and are not low-S normalised (docs/HSM.md §9.2 trap 19), so noble is called with `{ prehash: false, lowS: false }`.
 */
import { createPublicKey, verify } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';

/** ECDSA P-256: `sig` = r‖s (64 B) over the 32-byte `digest`, `publicKey` = 65-byte uncompressed point. */
export function verifyP256(sig: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean {
  if (sig.length !== 64 || digest.length !== 32 || publicKey.length !== 65) return false;
  try {
    return p256.verify(sig, digest, publicKey, { prehash: false, lowS: false });
  } catch {
    return false;
  }
}

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Pure Ed25519 (RFC 8032) with node:crypto: `publicKey` 32 B, `sig` 64 B. */
export function verifyEd25519(sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array): boolean {
  if (sig.length !== 64 || publicKey.length !== 32) return false;
  try {
    const key = createPublicKey({
      key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]),
      format: 'der',
      type: 'spki',
    });
    return verify(null, msg, key, sig);
  } catch {
    return false;
  }
}
