/**
 * Text forms of quorum keys, in the spirit of age's `age1…` keys: Bech32m (BIP 350) with its
 * 6-character checksum, so a mistyped or truncated key is refused rather than misused.
 *
 * - public key:  `embassy1…` — HRP `embassy`, payload the 1216-byte X-Wing public key.
 * - private key: `EMBASSY-SECRET-KEY-1…` — HRP `embassy-secret-key-`, payload the 32-byte X-Wing
 *   seed, upper-cased as a whole (Bech32 accepts one case at a time).
 * - key id: the first 16 bytes of SHA-256(public key); written in stanzas and shown as hex.
 *
 * @example
 * const { seed, publicKey } = xwingKeygen();
 * parsePublicKey(formatPublicKey(publicKey)); // === publicKey
 */
import { createHash } from 'node:crypto';
import { bech32m } from '@scure/base';
import { EmbassyError } from '../errors.ts';
import { XWING_PUBLIC_KEY_SIZE, XWING_SEED_SIZE, xwingKeygen } from './xwing.ts';

export const PUBLIC_KEY_HRP = 'embassy';
export const SECRET_KEY_HRP = 'embassy-secret-key-';
export const KEY_ID_SIZE = 16;

/** Bech32's 90-character limit is for addresses; these keys are longer, so no limit. */
const NO_LIMIT = false;

export class KeyFormatError extends EmbassyError<'bad_key'> {
  constructor(message: string) {
    super('bad_key', message);
  }
}

export const keyId = (publicKey: Uint8Array): Uint8Array =>
  new Uint8Array(createHash('sha256').update(publicKey).digest().subarray(0, KEY_ID_SIZE));

export const formatPublicKey = (publicKey: Uint8Array): string =>
  bech32m.encode(PUBLIC_KEY_HRP, bech32m.toWords(publicKey), NO_LIMIT);

export const formatSecretKey = (seed: Uint8Array): string =>
  bech32m.encode(SECRET_KEY_HRP, bech32m.toWords(seed), NO_LIMIT).toUpperCase();

function decode(text: string, hrp: string, size: number, what: string): Uint8Array {
  let decoded: { prefix: string; words: number[] };
  try {
    decoded = bech32m.decode(text as `${string}1${string}`, NO_LIMIT);
  } catch {
    throw new KeyFormatError(`${what} is malformed or mistyped (checksum does not match)`);
  }
  if (decoded.prefix !== hrp) throw new KeyFormatError(`${what} has the wrong prefix "${decoded.prefix}1"`);
  const bytes = bech32m.fromWordsUnsafe(decoded.words);
  if (!bytes || bytes.length !== size) throw new KeyFormatError(`${what} has the wrong length`);
  return bytes;
}

export const parsePublicKey = (text: string): Uint8Array =>
  decode(text.trim(), PUBLIC_KEY_HRP, XWING_PUBLIC_KEY_SIZE, 'public key');

export const parseSecretKey = (text: string): Uint8Array =>
  decode(text.trim(), SECRET_KEY_HRP, XWING_SEED_SIZE, 'private key');

export interface Identity {
  seed: Uint8Array;
  publicKey: Uint8Array;
  keyId: Uint8Array;
}

export function identityFromSeed(seed: Uint8Array): Identity {
  const { publicKey } = xwingKeygen(seed);
  return { seed, publicKey, keyId: keyId(publicKey) };
}

/** A key file: `#` comment lines, blank lines, and one or more `EMBASSY-SECRET-KEY-1…` lines. */
export function formatKeyFile(seed: Uint8Array, created: Date): string {
  const { publicKey } = xwingKeygen(seed);
  return [
    `# created: ${created.toISOString().replace(/\.\d{3}Z$/, 'Z')}`,
    `# public key: ${formatPublicKey(publicKey)}`,
    formatSecretKey(seed),
    '',
  ].join('\n');
}

export function parseKeyFile(text: string): Identity[] {
  const ids: Identity[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    try {
      ids.push(identityFromSeed(parseSecretKey(line)));
    } catch (e) {
      throw new KeyFormatError(`key file line ${i + 1}: ${(e as Error).message}`);
    }
  });
  if (ids.length === 0) throw new KeyFormatError('key file holds no private key');
  return ids;
}

/** A recipients file (`-R`): one public key per line, `#` comments and blank lines ignored. */
export function parseRecipientsFile(text: string): Uint8Array[] {
  const keys: Uint8Array[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    try {
      keys.push(parsePublicKey(line));
    } catch (e) {
      throw new KeyFormatError(`recipients file line ${i + 1}: ${(e as Error).message}`);
    }
  });
  if (keys.length === 0) throw new KeyFormatError('recipients file holds no public key');
  return keys;
}
