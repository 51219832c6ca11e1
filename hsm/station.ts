/**
 * The station's side of share transfers, in software (a station runs as a short-lived process on a
 * dedicated host, docs/DECISIONS.md#d12):
 *
 * - per-ceremony recipient keys (P-256 + X-Wing),
 * - receiving a release: open the X-Wing layer, unwrap (ECDH → context-bound KEK → RFC 5649),
 *   apply the length rule, check the salted commitment and name the custodian whose share fails,
 * - wrapping a share for a custodian token at the key ceremony (the import envelope),
 * - the salted share commitments and the one-time health challenges recorded at split time.
 *
 * @example
 * const keys = createCeremonyKeys();
 * // … the signed request names keys.p256.publicKey and keys.xwing.publicKey …
 * const share = await receiveRelease(keys, envelope, { domain, epoch, ceremony, custodian, commitment });
 */
import {
  constants,
  createECDH,
  createHash,
  type KeyObject,
  privateDecrypt,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { hpkeOpen, hpkeSeal } from '../src/crypto/hpke.ts';
import { xwingKeygen } from '../src/crypto/xwing.ts';
import { HsmError } from './errors.ts';
import {
  CEREMONY_DIGEST_LENGTH,
  checkCustodian,
  checkLength,
  cutToLength,
  deriveKek,
  encodeEnvelope,
  encodeImportHeader,
  encodeImportInner,
  healthMessage,
  hmacShare,
  hpkeInfo,
  kcvMessage,
  kekInfo,
  kwpUnwrap,
  kwpWrap,
  MODE_ECDH_KWP,
  P256_POINT_LENGTH,
  parseReleaseEnvelope,
  parseReleaseInner,
  SHARE_LENGTH,
  type ShareContext,
  sameBytes,
  shareCommitment,
  XWING_PUBLIC_KEY_LENGTH,
} from './format.ts';

export interface P256KeyPair {
  /** 32-byte private scalar. Secret. */
  secretKey: Uint8Array;
  /** 65-byte uncompressed point. */
  publicKey: Uint8Array;
}

export interface CeremonyKeys {
  p256: P256KeyPair;
  /** X-Wing: the 32-byte seed (secret) and the 1216-byte public key. */
  xwing: { seed: Uint8Array; publicKey: Uint8Array };
}

export function generateP256KeyPair(): P256KeyPair {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    secretKey: new Uint8Array(ecdh.getPrivateKey()),
    publicKey: new Uint8Array(ecdh.getPublicKey(null, 'uncompressed')),
  };
}

/** Fresh per-ceremony recipient keys. Zero them with {@link zeroizeCeremonyKeys} after the ceremony. */
export function createCeremonyKeys(): CeremonyKeys {
  return { p256: generateP256KeyPair(), xwing: xwingKeygen() };
}

export function zeroizeCeremonyKeys(k: CeremonyKeys): void {
  k.p256.secretKey.fill(0);
  k.xwing.seed.fill(0);
}

/** ECDH x-coordinate (32 B), what CKD_NULL gives inside the token. */
function ecdhX(secretKey: Uint8Array, peer: Uint8Array): Buffer {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(secretKey);
  try {
    return ecdh.computeSecret(peer);
  } catch {
    throw new HsmError('bad_envelope', 'malformed envelope: the ephemeral key is not a valid P-256 point');
  }
}

/** A salted commitment record, produced at split time, signed and logged. */
export interface ShareCommitmentRecord {
  custodian: string;
  /** Key ceremony id (the one that split the key). */
  keyCeremonyId: string;
  salt: Uint8Array;
  commitment: Uint8Array;
}

export function commitShare(
  custodian: string,
  domain: string,
  epoch: number,
  keyCeremonyId: string,
  share: Uint8Array,
): ShareCommitmentRecord {
  const salt = new Uint8Array(randomBytes(32));
  return {
    custodian,
    keyCeremonyId,
    salt,
    commitment: shareCommitment(domain, epoch, keyCeremonyId, salt, share),
  };
}

/** Checks a share against its commitment; throws `commitment_mismatch` naming the custodian. */
export function verifyShareCommitment(
  domain: string,
  epoch: number,
  share: Uint8Array,
  rec: ShareCommitmentRecord,
): void {
  const c = shareCommitment(domain, epoch, rec.keyCeremonyId, rec.salt, share);
  if (!sameBytes(c, rec.commitment)) {
    throw new HsmError(
      'commitment_mismatch',
      `the share released by custodian "${rec.custodian}" does not match its commitment`,
      undefined,
      rec.custodian,
    );
  }
}

export interface ReceiveExpectation extends ShareContext {
  /** The commitment recorded for this custodian's share at split time. */
  commitment: ShareCommitmentRecord;
}

/**
 * Opens a share release (mode 1, ECDH/KWP) with the ceremony's keys. Order: parse → header must be
 * for this ceremony, domain, epoch, custodian and our P-256 key → open the X-Wing layer → ECDH +
 * context-bound KEK → RFC 5649 unwrap → length rule → commitment. Returns the 33-byte share.
 * Errors: bad_envelope, envelope_mismatch, auth_failed, commitment_mismatch (all name the custodian).
 */
export async function receiveRelease(
  keys: CeremonyKeys,
  envelope: Uint8Array,
  expect: ReceiveExpectation,
): Promise<Uint8Array> {
  const { header: h, inner } = await openReleaseOuter(keys.xwing.seed, envelope, expect);
  if (h.mode !== MODE_ECDH_KWP)
    throw new HsmError('envelope_mismatch', `custodian "${expect.custodian}" sent a trusted-wrap release`);
  if (!sameBytes(h.recipient, keys.p256.publicKey))
    throw new HsmError(
      'envelope_mismatch',
      `the release from custodian "${expect.custodian}" is wrapped to another station key`,
    );
  const x = ecdhX(keys.p256.secretKey, inner.ephPub);
  const kek = deriveKek(x, kekInfo('release', h, inner.ephPub, keys.p256.publicKey));
  x.fill(0);
  let raw: Buffer;
  try {
    raw = kwpUnwrap(kek, inner.wrapped);
  } catch {
    throw new HsmError('auth_failed', `the release from custodian "${expect.custodian}" failed to unwrap`);
  } finally {
    kek.fill(0);
  }
  return finish(raw, inner.length, expect);
}

/** Opens a trusted-wrap release (mode 2) with the station's long-term RSA private key. */
export async function receiveTrustedRelease(
  xwingSeed: Uint8Array,
  rsaPrivateKey: KeyObject,
  envelope: Uint8Array,
  expect: ReceiveExpectation,
): Promise<Uint8Array> {
  const { header: h, inner } = await openReleaseOuter(xwingSeed, envelope, expect);
  if (h.mode === MODE_ECDH_KWP)
    throw new HsmError('envelope_mismatch', `custodian "${expect.custodian}" sent an ECDH release`);
  let raw: Buffer;
  try {
    raw = privateDecrypt(
      { key: rsaPrivateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
      inner.wrapped,
    );
  } catch {
    throw new HsmError('auth_failed', `the release from custodian "${expect.custodian}" failed to decrypt`);
  }
  return finish(raw, inner.length, expect);
}

function finish(raw: Buffer, length: number, expect: ReceiveExpectation): Uint8Array {
  try {
    if (length !== SHARE_LENGTH)
      throw new HsmError(
        'bad_envelope',
        `malformed envelope: share length ${length}, expected ${SHARE_LENGTH}`,
      );
    let share: Uint8Array;
    try {
      share = new Uint8Array(cutToLength(raw, length));
    } catch {
      throw new HsmError(
        'auth_failed',
        `the share from custodian "${expect.custodian}" has the wrong length`,
      );
    }
    verifyShareCommitment(expect.domain, expect.epoch, share, expect.commitment);
    return share;
  } finally {
    raw.fill(0);
  }
}

async function openReleaseOuter(seed: Uint8Array, envelope: Uint8Array, expect: ShareContext) {
  const parsed = parseReleaseEnvelope(envelope);
  const h = parsed.header;
  checkLength(expect.ceremony, CEREMONY_DIGEST_LENGTH, 'ceremony digest');
  if (
    h.domain !== expect.domain ||
    h.epoch !== expect.epoch ||
    h.custodian !== expect.custodian ||
    !sameBytes(h.ceremony, expect.ceremony)
  ) {
    throw new HsmError(
      'envelope_mismatch',
      `release envelope is for ${h.domain}/${h.epoch} custodian "${h.custodian}", not ${expect.domain}/${expect.epoch} custodian "${expect.custodian}" of this ceremony`,
    );
  }
  let innerBytes: Uint8Array;
  try {
    innerBytes = await hpkeOpen(seed, parsed.sealed.enc, hpkeInfo('release'), parsed.aad, parsed.sealed.ct);
  } catch {
    throw new HsmError(
      'auth_failed',
      `the release from custodian "${expect.custodian}" failed authentication (tampered, or for another ceremony)`,
    );
  }
  try {
    return { header: h, inner: parseReleaseInner(h.mode, innerBytes) };
  } finally {
    innerBytes.fill(0);
  }
}

export interface ImportWrapRequest extends ShareContext {
  /** The 33-byte share. */
  share: Uint8Array;
  /** The custodian token's transport public key (65 B), from the pinned roster. */
  transport: Uint8Array;
  /** The custodian's X-Wing public key (1216 B), from the pinned roster. */
  xwing: Uint8Array;
}

/**
 * Key-ceremony station: wraps one share for one custodian token (the import envelope).
 * ECDH(fresh P-256, transport) → context-bound KEK → RFC 5649 → HPKE/X-Wing, with the HMAC
 * key-check value inside. The ephemeral private key is zeroed before returning.
 */
export async function wrapShareForImport(req: ImportWrapRequest): Promise<Uint8Array> {
  checkLength(req.share, SHARE_LENGTH, 'share');
  checkLength(req.transport, P256_POINT_LENGTH, 'transport public key');
  checkLength(req.xwing, XWING_PUBLIC_KEY_LENGTH, 'custodian X-Wing key');
  checkCustodian(req.custodian);
  const eph = generateP256KeyPair();
  const x = ecdhX(eph.secretKey, req.transport);
  eph.secretKey.fill(0);
  const kek = deriveKek(x, kekInfo('import', req, eph.publicKey, req.transport));
  x.fill(0);
  const wrapped = kwpWrap(kek, req.share);
  kek.fill(0);
  const header = encodeImportHeader({ ...req, transport: req.transport });
  const inner = encodeImportInner({
    ephPub: eph.publicKey,
    length: req.share.length,
    wrapped,
    kcv: hmacShare(req.share, kcvMessage(req.domain, req.epoch)),
  });
  return encodeEnvelope(header, await hpkeSeal(req.xwing, hpkeInfo('import'), header, inner));
}

/** One precomputed health challenge (docs/DECISIONS.md#d9): the challenge and the hash of its answer. */
export interface HealthChallenge {
  challenge: Uint8Array;
  /** SHA-256 of the expected response; the response itself is never recorded. */
  responseHash: Uint8Array;
}

/** At split time, for one share: `count` one-time challenges and the hashes of their responses. */
export function precomputeHealthChallenges(
  share: Uint8Array,
  domain: string,
  epoch: number,
  count: number,
): HealthChallenge[] {
  return Array.from({ length: count }, () => {
    const challenge = new Uint8Array(randomBytes(32));
    const response = hmacShare(share, healthMessage(domain, epoch, challenge));
    const responseHash = new Uint8Array(createHash('sha256').update(response).digest());
    response.fill(0);
    return { challenge, responseHash };
  });
}

/** True iff `response` answers the challenge (the caller marks the challenge used either way). */
export function verifyHealthResponse(c: HealthChallenge, response: Uint8Array): boolean {
  const h = createHash('sha256').update(response).digest();
  return h.length === c.responseHash.length && timingSafeEqual(h, c.responseHash);
}
