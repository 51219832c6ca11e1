/**
 * Byte formats of the HSM boundary, specified in docs/RELEASE-FORMAT.md: the share release envelope
 * (custodian token → station), the share import envelope (station → custodian token), the
 * context-bound KEK info, the key-check value, health-check and commitment hashes.
 * Pure functions, no PKCS#11: parsers throw only {@link HsmError} `bad_envelope`.
 *
 * Every concatenated field is length-prefixed (u16 big-endian), docs/DECISIONS.md#d7.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac } from 'node:crypto';
import { concat, equalCt, fields, lp, u16, u32, utf8 } from '../src/crypto/bytes.ts';
import { HsmError } from './errors.ts';

/** A Shamir share of a 32-byte X-Wing seed: 32 y-bytes and the x-byte (shamir-secret-sharing 0.0.4). */
export const SHARE_LENGTH = 33;
export const P256_POINT_LENGTH = 65;
export const CEREMONY_DIGEST_LENGTH = 32;
export const XWING_ENC_LENGTH = 1120;
export const XWING_PUBLIC_KEY_LENGTH = 1216;

export const RELEASE_MAGIC = utf8('EMBR');
export const IMPORT_MAGIC = utf8('EMBI');
export const FORMAT_VERSION = 1;

/** Release modes (byte 5 of the release envelope). */
export const MODE_ECDH_KWP = 1;
export const MODE_TRUSTED_RSA_OAEP = 2;
export type ReleaseMode = typeof MODE_ECDH_KWP | typeof MODE_TRUSTED_RSA_OAEP;

export const LABEL_RELEASE_HPKE = 'data-embassy/v1/share-release';
export const LABEL_IMPORT_HPKE = 'data-embassy/v1/share-import';
export const LABEL_RELEASE_KEK = 'data-embassy/v1/share-release-kek';
export const LABEL_IMPORT_KEK = 'data-embassy/v1/share-import-kek';
export const LABEL_KCV = 'data-embassy/v1/share-kcv';
export const LABEL_HEALTH = 'data-embassy/v1/share-health';
export const LABEL_COMMITMENT = 'data-embassy/v1/share-commitment';

const DOMAIN_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;

const bad = (why: string) => new HsmError('bad_envelope', `malformed envelope: ${why}`);
const badArg = (why: string) => new HsmError('bad_argument', why);

export function checkDomain(domain: string): string {
  if (typeof domain !== 'string' || !DOMAIN_RE.test(domain))
    throw badArg('domain must match [a-z0-9][a-z0-9_-]{0,62}');
  return domain;
}

export function checkEpoch(epoch: number): number {
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > 0xffffffff)
    throw badArg('epoch must be an integer in 0..2^32-1');
  return epoch;
}

export function checkCustodian(custodian: string): string {
  const b = utf8(custodian);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (b.length < 1 || b.length > 128 || /[\u0000-\u001f\u007f]/.test(custodian))
    throw badArg('custodian id must be 1..128 bytes of UTF-8 without control characters');
  return custodian;
}

export function checkLength(v: Uint8Array, n: number, what: string): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== n) throw badArg(`${what} must be ${n} bytes`);
  return v;
}

/** Label of a share object in a custodian token: `share-<domain>-<epoch>`. */
export const shareLabel = (domain: string, epoch: number) =>
  `share-${checkDomain(domain)}-${checkEpoch(epoch)}`;

/** Who/what a transfer is about: carried in every envelope header and bound into KEK and AAD. */
export interface ShareContext {
  domain: string;
  epoch: number;
  /** 32 bytes: the hash of the signed ceremony statement (the unlock request, or the key ceremony). */
  ceremony: Uint8Array;
  /** The custodian's id in the roster (defaults to the token label in the custodian API). */
  custodian: string;
}

function checkContext(c: ShareContext) {
  checkDomain(c.domain);
  checkEpoch(c.epoch);
  checkLength(c.ceremony, CEREMONY_DIGEST_LENGTH, 'ceremony digest');
  checkCustodian(c.custodian);
}

// ---------------------------------------------------------------------------------------------
// Reader

class Reader {
  off = 0;
  constructor(readonly b: Uint8Array) {}
  take(n: number, what: string): Uint8Array {
    if (n < 0 || this.off + n > this.b.length) throw bad(`truncated at ${what}`);
    const v = this.b.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }
  u8(what: string): number {
    return this.take(1, what)[0]!;
  }
  u16(what: string): number {
    const v = this.take(2, what);
    return (v[0]! << 8) | v[1]!;
  }
  u32(what: string): number {
    const v = this.take(4, what);
    return ((v[0]! << 24) | (v[1]! << 16) | (v[2]! << 8) | v[3]!) >>> 0;
  }
  lp(what: string, min: number, max: number): Uint8Array {
    const n = this.u16(`${what} length`);
    if (n < min || n > max) throw bad(`${what} length ${n} outside ${min}..${max}`);
    return this.take(n, what);
  }
  end(what: string) {
    if (this.off !== this.b.length) throw bad(`${this.b.length - this.off} trailing bytes after ${what}`);
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });
function str(b: Uint8Array, what: string): string {
  try {
    return decoder.decode(b);
  } catch {
    throw bad(`${what} is not UTF-8`);
  }
}

// ---------------------------------------------------------------------------------------------
// Envelopes (outer layer): header ‖ lp(enc) ‖ lp(ct); the header is the HPKE AAD.

export interface ReleaseHeader extends ShareContext {
  mode: ReleaseMode;
  /**
   * Mode 1: the station's per-ceremony P-256 public key (65 B, uncompressed).
   * Mode 2: the CKA_ID of the trusted station key the share was wrapped to (1..64 B).
   */
  recipient: Uint8Array;
}

export interface ImportHeader extends ShareContext {
  /** The custodian token's transport public key (65 B) the share is wrapped for. */
  transport: Uint8Array;
}

export interface Sealed {
  enc: Uint8Array;
  ct: Uint8Array;
}

export function encodeReleaseHeader(h: ReleaseHeader): Uint8Array {
  checkContext(h);
  if (h.mode === MODE_ECDH_KWP) checkLength(h.recipient, P256_POINT_LENGTH, 'recipient P-256 key');
  else if (h.mode !== MODE_TRUSTED_RSA_OAEP || h.recipient.length < 1 || h.recipient.length > 64)
    throw badArg('trusted recipient id must be 1..64 bytes');
  return concat(
    RELEASE_MAGIC,
    Uint8Array.of(FORMAT_VERSION, h.mode),
    lp(h.domain),
    u32(h.epoch),
    lp(h.ceremony),
    lp(h.custodian),
    lp(h.recipient),
  );
}

export function encodeImportHeader(h: ImportHeader): Uint8Array {
  checkContext(h);
  checkLength(h.transport, P256_POINT_LENGTH, 'transport public key');
  return concat(
    IMPORT_MAGIC,
    Uint8Array.of(FORMAT_VERSION),
    lp(h.domain),
    u32(h.epoch),
    lp(h.ceremony),
    lp(h.custodian),
    lp(h.transport),
  );
}

export const encodeEnvelope = (header: Uint8Array, s: Sealed): Uint8Array =>
  concat(header, lp(s.enc), lp(s.ct));

function readContext(r: Reader): ShareContext {
  const domain = str(r.lp('domain', 1, 63), 'domain');
  if (!DOMAIN_RE.test(domain)) throw bad('domain has invalid characters');
  const epoch = r.u32('epoch');
  const ceremony = r.lp('ceremony', CEREMONY_DIGEST_LENGTH, CEREMONY_DIGEST_LENGTH);
  const custodian = str(r.lp('custodian', 1, 128), 'custodian');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(custodian)) throw bad('custodian has control characters');
  return { domain, epoch, ceremony: ceremony.slice(), custodian };
}

function readSealed(r: Reader): Sealed {
  const enc = r.lp('enc', XWING_ENC_LENGTH, XWING_ENC_LENGTH).slice();
  const ct = r.lp('ct', 16, 4096).slice();
  r.end('ct');
  return { enc, ct };
}

export interface ParsedRelease {
  header: ReleaseHeader;
  /** The exact header bytes: the HPKE AAD. */
  aad: Uint8Array;
  sealed: Sealed;
}

export function parseReleaseEnvelope(bytes: Uint8Array): ParsedRelease {
  if (!(bytes instanceof Uint8Array)) throw bad('not bytes');
  const r = new Reader(bytes);
  if (!equalCt(r.take(4, 'magic'), RELEASE_MAGIC)) throw bad('not a share release envelope (magic)');
  const version = r.u8('version');
  if (version !== FORMAT_VERSION) throw bad(`unsupported version ${version}`);
  const mode = r.u8('mode');
  if (mode !== MODE_ECDH_KWP && mode !== MODE_TRUSTED_RSA_OAEP) throw bad(`unknown mode ${mode}`);
  const ctx = readContext(r);
  const recipient =
    mode === MODE_ECDH_KWP
      ? r.lp('recipient', P256_POINT_LENGTH, P256_POINT_LENGTH).slice()
      : r.lp('recipient', 1, 64).slice();
  const aad = bytes.slice(0, r.off);
  return { header: { ...ctx, mode, recipient }, aad, sealed: readSealed(r) };
}

export interface ParsedImport {
  header: ImportHeader;
  aad: Uint8Array;
  sealed: Sealed;
}

export function parseImportEnvelope(bytes: Uint8Array): ParsedImport {
  if (!(bytes instanceof Uint8Array)) throw bad('not bytes');
  const r = new Reader(bytes);
  if (!equalCt(r.take(4, 'magic'), IMPORT_MAGIC)) throw bad('not a share import envelope (magic)');
  const version = r.u8('version');
  if (version !== FORMAT_VERSION) throw bad(`unsupported version ${version}`);
  const ctx = readContext(r);
  const transport = r.lp('transport', P256_POINT_LENGTH, P256_POINT_LENGTH).slice();
  const aad = bytes.slice(0, r.off);
  return { header: { ...ctx, transport }, aad, sealed: readSealed(r) };
}

// ---------------------------------------------------------------------------------------------
// Inner payloads (the HPKE plaintexts)

export interface ReleaseInner {
  /** Mode 1: the token's ephemeral P-256 public key (65 B). Mode 2: empty. */
  ephPub: Uint8Array;
  /** The share length L (33 in v1). */
  length: number;
  /** Mode 1: RFC 5649 output (multiple of 8, 16..1032 B). Mode 2: RSA-OAEP ciphertext. */
  wrapped: Uint8Array;
}

export function encodeReleaseInner(mode: ReleaseMode, p: ReleaseInner): Uint8Array {
  if (mode === MODE_ECDH_KWP) checkLength(p.ephPub, P256_POINT_LENGTH, 'ephemeral public key');
  else if (p.ephPub.length !== 0) throw badArg('trusted release carries no ephemeral key');
  return concat(lp(p.ephPub), u16(p.length), lp(p.wrapped));
}

export function parseReleaseInner(mode: ReleaseMode, bytes: Uint8Array): ReleaseInner {
  const r = new Reader(bytes);
  const ephPub =
    mode === MODE_ECDH_KWP
      ? r.lp('ephemeral key', P256_POINT_LENGTH, P256_POINT_LENGTH).slice()
      : r.lp('ephemeral key', 0, 0).slice();
  const length = r.u16('share length');
  if (length < 1 || length > 1024) throw bad(`share length ${length} outside 1..1024`);
  const wrapped = r.lp('wrapped share', 16, 1040).slice();
  if (mode === MODE_ECDH_KWP) {
    // RFC 5649 output is ceil8(L) + 8 bytes; SoftHSM 2.6.1 pads first, so its output is the same size.
    if (wrapped.length !== ceil8(length) + 8) throw bad('wrapped share length does not match L');
  }
  r.end('wrapped share');
  return { ephPub, length, wrapped };
}

export interface ImportInner {
  ephPub: Uint8Array;
  length: number;
  wrapped: Uint8Array;
  /** HMAC-SHA256(share, kcvMessage): checked inside the token after the unwrap. */
  kcv: Uint8Array;
}

export function encodeImportInner(p: ImportInner): Uint8Array {
  checkLength(p.ephPub, P256_POINT_LENGTH, 'ephemeral public key');
  checkLength(p.kcv, 32, 'key-check value');
  return concat(lp(p.ephPub), u16(p.length), lp(p.wrapped), lp(p.kcv));
}

export function parseImportInner(bytes: Uint8Array): ImportInner {
  const r = new Reader(bytes);
  const ephPub = r.lp('ephemeral key', P256_POINT_LENGTH, P256_POINT_LENGTH).slice();
  const length = r.u16('share length');
  if (length < 1 || length > 1024) throw bad(`share length ${length} outside 1..1024`);
  const wrapped = r.lp('wrapped share', 16, 1040).slice();
  if (wrapped.length !== ceil8(length) + 8) throw bad('wrapped share length does not match L');
  const kcv = r.lp('key-check value', 32, 32).slice();
  r.end('key-check value');
  return { ephPub, length, wrapped, kcv };
}

// ---------------------------------------------------------------------------------------------
// Derivations

export const ceil8 = (n: number) => Math.ceil(n / 8) * 8;

const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

/**
 * The 32-byte `info` of the context-bound KEK (docs/HSM.md §9.4):
 * `SHA-256(lp(label) ‖ lp(domain) ‖ lp(u32 epoch) ‖ lp(ceremony) ‖ lp(custodian) ‖ lp(ephPub) ‖ lp(recipientPub))`.
 * The token computes `K1 = AES-256-CBC(K0, iv = 0¹⁶, info)` with CKM_AES_CBC_ENCRYPT_DATA.
 */
export function kekInfo(
  direction: 'release' | 'import',
  ctx: ShareContext,
  ephPub: Uint8Array,
  recipientPub: Uint8Array,
): Uint8Array {
  checkContext(ctx);
  return sha256(
    fields(
      direction === 'release' ? LABEL_RELEASE_KEK : LABEL_IMPORT_KEK,
      ctx.domain,
      u32(ctx.epoch),
      ctx.ceremony,
      ctx.custodian,
      ephPub,
      recipientPub,
    ),
  );
}

/** Software counterpart of the in-token CKM_AES_CBC_ENCRYPT_DATA step: `AES-256-CBC(x, 0¹⁶, info)`. */
export function deriveKek(x: Uint8Array, info: Uint8Array): Buffer {
  checkLength(x, 32, 'ECDH secret');
  checkLength(info, 32, 'KEK info');
  const c = createCipheriv('aes-256-cbc', x, Buffer.alloc(16));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(info), c.final()]);
}

const KWP_IV = Buffer.from('A65959A6', 'hex');

/** RFC 5649 AES-256 key wrap with padding (node's id-aes256-wrap-pad). */
export function kwpWrap(kek: Uint8Array, data: Uint8Array): Buffer {
  const c = createCipheriv('id-aes256-wrap-pad', kek, KWP_IV);
  return Buffer.concat([c.update(data), c.final()]);
}

/** RFC 5649 unwrap; any integrity failure is `auth_failed`. */
export function kwpUnwrap(kek: Uint8Array, wrapped: Uint8Array): Buffer {
  try {
    const d = createDecipheriv('id-aes256-wrap-pad', kek, KWP_IV);
    return Buffer.concat([d.update(wrapped), d.final()]);
  } catch {
    throw new HsmError(
      'auth_failed',
      'unwrap failed: the wrapped share is tampered or for another ceremony or key',
    );
  }
}

/**
 * SoftHSM 2.6.1 zero-pads to a multiple of 8 before wrapping (trap 4): accept exactly L bytes, or
 * ceil8(L) bytes with an all-zero tail, and cut to L. Anything else is `auth_failed`.
 */
export function cutToLength(inner: Uint8Array, length: number): Uint8Array {
  if (inner.length === length) return inner;
  if (inner.length === ceil8(length) && inner.subarray(length).every((b) => b === 0))
    return inner.subarray(0, length);
  throw new HsmError('auth_failed', 'unwrapped share has the wrong length');
}

/** The message of the share key-check value: `lp(label) ‖ lp(domain) ‖ lp(u32 epoch)`. */
export const kcvMessage = (domain: string, epoch: number): Uint8Array =>
  fields(LABEL_KCV, checkDomain(domain), u32(checkEpoch(epoch)));

/** HMAC-SHA256 keyed by the share (what the token computes with CKM_SHA256_HMAC). */
export const hmacShare = (share: Uint8Array, msg: Uint8Array): Uint8Array =>
  new Uint8Array(createHmac('sha256', share).update(msg).digest());

/** The health-check message: `lp(label) ‖ lp(domain) ‖ lp(u32 epoch) ‖ lp(challenge)`. */
export function healthMessage(domain: string, epoch: number, challenge: Uint8Array): Uint8Array {
  checkLength(challenge, 32, 'health challenge');
  return fields(LABEL_HEALTH, checkDomain(domain), u32(checkEpoch(epoch)), challenge);
}

/**
 * The salted share commitment, over the full 33-byte share (x included):
 * `c_i = SHA-256(lp(label) ‖ lp(domain) ‖ lp(u32 epoch) ‖ lp(keyCeremonyId) ‖ lp(salt_i) ‖ lp(share_i))`.
 */
export function shareCommitment(
  domain: string,
  epoch: number,
  keyCeremonyId: string,
  salt: Uint8Array,
  share: Uint8Array,
): Uint8Array {
  checkLength(salt, 32, 'commitment salt');
  if (keyCeremonyId.length < 1) throw badArg('key ceremony id must not be empty');
  return sha256(
    fields(LABEL_COMMITMENT, checkDomain(domain), u32(checkEpoch(epoch)), keyCeremonyId, salt, share),
  );
}

export const hpkeInfo = (kind: 'release' | 'import') =>
  utf8(kind === 'release' ? LABEL_RELEASE_HPKE : LABEL_IMPORT_HPKE);

export const sameBytes = equalCt;
