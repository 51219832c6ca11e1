/**
 * HPKE (RFC 9180) base mode with the X-Wing KEM (id 0x647A), HKDF-SHA256 and AES-256-GCM.
 * The key schedule and AEAD come from @hpke/core; the KEM is noble's X-Wing plugged in through
 * {@link XWingKem}, because @hpke/hybridkem-x-wing 0.7.0 does not match the X-Wing vectors.
 *
 * @example
 * const { seed, publicKey } = xwingKeygen();
 * const { enc, ct } = await hpkeSeal(publicKey, info, aad, dek);
 * await hpkeOpen(seed, enc, info, aad, ct); // === dek
 */
import type { webcrypto } from 'node:crypto';
import { Aes256Gcm, CipherSuite, HkdfSha256, KemId, type KemInterface } from '@hpke/core';
import { EmbassyError } from '../errors.ts';
import {
  XWING_CIPHERTEXT_SIZE,
  XWING_ENCAPSULATION_SEED_SIZE,
  XWING_PUBLIC_KEY_SIZE,
  XWING_SEED_SIZE,
  xwingDecapsulate,
  xwingEncapsulate,
  xwingKeygen,
} from './xwing.ts';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

export const HPKE_SUITE = { kem: 0x647a, kdf: 0x0001, aead: 0x0002 } as const;

/** A raw key in the shape @hpke/core passes around (it only hands keys back to the KEM). */
class XWingKey {
  readonly algorithm = { name: 'X-Wing' };
  readonly extractable = true;
  readonly usages: webcrypto.KeyUsage[] = [];
  constructor(
    readonly type: 'public' | 'private',
    readonly raw: Uint8Array,
  ) {}
}

const asBytes = (v: ArrayBufferLike | ArrayBufferView): Uint8Array =>
  ArrayBuffer.isView(v) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(v);

const toArrayBuffer = (b: Uint8Array): ArrayBuffer => b.slice().buffer;

function rawOf(key: unknown, type: 'public' | 'private'): Uint8Array {
  const k = (key as { privateKey?: unknown }).privateKey ?? key;
  if (!(k instanceof XWingKey) || k.type !== type) throw new TypeError(`expected an X-Wing ${type} key`);
  return k.raw;
}

/** @hpke/core KEM adapter over noble's X-Wing. `ekm` (64 bytes) injects the encapsulation seed for vectors. */
export class XWingKem implements KemInterface {
  readonly id = KemId.XWing;
  readonly secretSize = 32;
  readonly encSize = XWING_CIPHERTEXT_SIZE;
  readonly publicKeySize = XWING_PUBLIC_KEY_SIZE;
  readonly privateKeySize = XWING_SEED_SIZE;

  async serializePublicKey(key: CryptoKey): Promise<ArrayBuffer> {
    return toArrayBuffer(rawOf(key, 'public'));
  }
  async deserializePublicKey(key: ArrayBufferLike | ArrayBufferView): Promise<CryptoKey> {
    const raw = asBytes(key);
    if (raw.length !== XWING_PUBLIC_KEY_SIZE) throw new RangeError('X-Wing public key must be 1216 bytes');
    return new XWingKey('public', raw.slice()) as unknown as CryptoKey;
  }
  async serializePrivateKey(key: CryptoKey): Promise<ArrayBuffer> {
    return toArrayBuffer(rawOf(key, 'private'));
  }
  async deserializePrivateKey(key: ArrayBufferLike | ArrayBufferView): Promise<CryptoKey> {
    const raw = asBytes(key);
    if (raw.length !== XWING_SEED_SIZE) throw new RangeError('X-Wing seed must be 32 bytes');
    return new XWingKey('private', raw.slice()) as unknown as CryptoKey;
  }
  async importKey(
    format: 'raw' | 'jwk',
    key: ArrayBuffer | webcrypto.JsonWebKey,
    isPublic = true,
  ): Promise<CryptoKey> {
    if (format !== 'raw' || !(key instanceof ArrayBuffer)) throw new TypeError('only raw X-Wing keys');
    return isPublic ? this.deserializePublicKey(key) : this.deserializePrivateKey(key);
  }
  async generateKeyPair(): Promise<CryptoKeyPair> {
    const { seed, publicKey } = xwingKeygen();
    return {
      privateKey: new XWingKey('private', seed) as unknown as CryptoKey,
      publicKey: new XWingKey('public', publicKey) as unknown as CryptoKey,
    };
  }
  async deriveKeyPair(): Promise<CryptoKeyPair> {
    throw new TypeError('X-Wing DeriveKeyPair is not used by data-embassy');
  }
  async encap(params: { recipientPublicKey: CryptoKey; ekm?: unknown }): Promise<{
    sharedSecret: ArrayBuffer;
    enc: ArrayBuffer;
  }> {
    let eseed: Uint8Array | undefined;
    if (params.ekm !== undefined) {
      eseed = asBytes(params.ekm as ArrayBufferView);
      if (eseed.length !== XWING_ENCAPSULATION_SEED_SIZE)
        throw new RangeError('X-Wing eseed must be 64 bytes');
    }
    const { cipherText, sharedSecret } = xwingEncapsulate(rawOf(params.recipientPublicKey, 'public'), eseed);
    return { sharedSecret: toArrayBuffer(sharedSecret), enc: toArrayBuffer(cipherText) };
  }
  async decap(params: { recipientKey: CryptoKey | CryptoKeyPair; enc: ArrayBufferLike | ArrayBufferView }) {
    return toArrayBuffer(xwingDecapsulate(asBytes(params.enc), rawOf(params.recipientKey, 'private')));
  }
}

const suite = new CipherSuite({ kem: new XWingKem(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });

export interface HpkeSealed {
  /** The X-Wing encapsulation, 1120 bytes. */
  enc: Uint8Array;
  /** AES-256-GCM ciphertext and tag: plaintext length + 16 bytes. */
  ct: Uint8Array;
}

/**
 * Single-shot base-mode seal to an X-Wing public key.
 * `eseed` (64 bytes) makes encapsulation deterministic: only for known-answer vectors.
 */
export async function hpkeSeal(
  publicKey: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
  eseed?: Uint8Array,
): Promise<HpkeSealed> {
  const recipientPublicKey = await suite.kem.deserializePublicKey(publicKey);
  const sender = await suite.createSenderContext({
    recipientPublicKey,
    info: toArrayBuffer(info),
    ...(eseed ? { ekm: eseed } : {}),
  });
  const ct = await sender.seal(toArrayBuffer(plaintext), toArrayBuffer(aad));
  return { enc: new Uint8Array(sender.enc), ct: new Uint8Array(ct) };
}

/** Single-shot base-mode open with an X-Wing seed. Throws {@link HpkeOpenError} on any failure. */
export async function hpkeOpen(
  seed: Uint8Array,
  enc: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  ct: Uint8Array,
): Promise<Uint8Array> {
  try {
    const recipientKey = await suite.kem.deserializePrivateKey(seed);
    const recipient = await suite.createRecipientContext({
      recipientKey,
      enc: toArrayBuffer(enc),
      info: toArrayBuffer(info),
    });
    return new Uint8Array(await recipient.open(toArrayBuffer(ct), toArrayBuffer(aad)));
  } catch {
    throw new HpkeOpenError();
  }
}

/** Deliberately uninformative: a wrong key and a modified ciphertext look the same. */
export class HpkeOpenError extends EmbassyError<'hpke_open_failed'> {
  constructor() {
    super('hpke_open_failed', 'HPKE open failed: wrong key or modified ciphertext');
  }
}
