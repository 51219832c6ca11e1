/**
 * Software Ed25519 signing (RFC 8032, node:crypto): the one signer for Ed25519 keys held in
 * memory or in key files — stations, jobs and auditors acting through the CLI, the ceremony
 * station, development deployments, and test log keys. Keys kept in tokens (the log key, the
 * custodians') sign inside the token instead.
 *
 * @example
 * const { privateKey, publicKey } = generateKeyPairSync('ed25519');
 * const sign = ed25519KeySigner(privateKey);
 * const sig = await sign(payload); // 64 bytes
 * ed25519RawPublicKey(publicKey); // 32 bytes
 * ed25519PrivateKeyFromSeed(seed); // the key of a 32-byte RFC 8032 private key
 * @module
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign as nodeSign } from 'node:crypto';

/** Signs a message and returns the raw signature (the shape of request, statement and note signers). */
export type SignFunction = (message: Uint8Array) => Promise<Uint8Array>;

/** Signs with a software Ed25519 private key. */
export const ed25519KeySigner =
  (privateKey: KeyObject): SignFunction =>
  async (message) =>
    new Uint8Array(nodeSign(null, message, privateKey));

/** The raw 32-byte public key of an Ed25519 key object (private or public). */
export function ed25519RawPublicKey(key: KeyObject): Uint8Array {
  const spki = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(spki.length - 32));
}

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The key object of a 32-byte RFC 8032 private key (seed). @throws {TypeError} for any other length */
export function ed25519PrivateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new TypeError('an Ed25519 seed is 32 bytes');
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}
