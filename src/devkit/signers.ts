/**
 * Development keys: software Ed25519 keys for the principals a development deployment registers
 * besides the custodians (stations, the backup job, the auditor), their roster entries, and their
 * key files (they sign with src/crypto/ed25519-signer.ts), so the CLI can act as them (`--key DIR/station-lux.pem`). Production stations and jobs
 * keep their keys in HSMs; custodians sign in their tokens even in development.
 *
 * @example
 * const key = newDevKey();
 * writeDevKeyFile(`${dir}/station-lux.pem`, key.privateKey);
 * const sign = ed25519KeySigner(readDevKeyFile(`${dir}/station-lux.pem`));
 * @module
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ed25519RawPublicKey } from '../crypto/ed25519-signer.ts';
import { toBase64Url } from '../crypto/statement.ts';
import { writeDurablySync } from '../fs/durable.ts';

export interface DevKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A fresh Ed25519 key pair. */
export const newDevKey = (): DevKey => generateKeyPairSync('ed25519');

/** The roster's `signingKey` entry for a software Ed25519 key (raw 32-byte key, base64url). */
export const rosterSigningKey = (publicKey: KeyObject) => ({
  alg: 'ed25519' as const,
  publicKey: toBase64Url(ed25519RawPublicKey(publicKey)),
});

/** Writes a private key as PKCS#8 PEM, mode 0600 (development only). */
export function writeDevKeyFile(path: string, privateKey: KeyObject): void {
  writeDurablySync(path, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
}

/** Reads a key file written by {@link writeDevKeyFile}. */
export const readDevKeyFile = (path: string): KeyObject => createPrivateKey(readFileSync(path));
