/**
 * Signed statements (docs/DECISIONS.md#d10): purpose-separated signing payloads and statement IDs.
 *
 * Every actor signature in data-embassy is over a 32-byte payload
 * ```
 * payload = SHA-256( "data-embassy/v1/" ‖ type ‖ 0x00 ‖ rosterId ‖ JCS(body) )
 * ```
 * - `type`: the statement's purpose, ASCII `[a-z][a-z0-9-]{0,62}` (e.g. `approval`, `unlock-request`).
 *   It cannot contain 0x00, so the prefix is unambiguous; a signature for one purpose never verifies
 *   as another.
 * - `rosterId`: exactly 32 bytes, the ID of the roster version the signer checked against,
 *   `SHA-256(JCS(roster version document without its signatures))` ({@link rosterIdOf}); its text
 *   form is 64 lowercase hex digits.
 * - `JCS(body)`: RFC 8785 bytes ({@link jcs}).
 *
 * A statement on the wire is the JSON object
 * `{"type", "roster" (hex rosterId), "signer" (roster key ID), "body", "sig" (unpadded base64url)}`,
 * and the signed body is the statement **without `sig`**: `{"body", "roster", "signer", "type"}`.
 * So the signer's identity and the purpose are inside the signed bytes as well as the prefix.
 *
 * Deduplicate on the {@link statementId}, which is the payload itself: it is the hash of the statement
 * without its signature. ECDSA signatures are malleable (we verify with `lowS: false`, as HSMs do not
 * normalise s), and signing twice gives two signatures, so the signature is never part of identity.
 *
 * Signature algorithms (the algorithm comes from the roster entry of the key, never from the statement):
 * - `ecdsa-p256`: custodian tokens; ECDSA P-256 with SHA-256 over the 32 payload bytes (ES256: the token
 *   gets `SHA-256(payload)` for `CKM_ECDSA`, or the payload for `CKM_ECDSA_SHA256`), raw `r ‖ s`
 *   (64 bytes, IEEE P1363). High-S is accepted. Verified with node:crypto, which is far faster than a
 *   pure-JS verifier when an auditor checks a whole log.
 * - `ed25519`: stations, jobs and the log key; RFC 8032 over the 32 payload bytes (node:crypto).
 *
 * @example
 * const unsigned = { type: 'approval', roster: toHex(rosterId), signer: 'custodian/alice', body: {...} };
 * const sig = await token.signEcdsa(statementPayload(unsigned));      // 64 bytes r‖s
 * const stmt = { ...unsigned, sig: toBase64Url(sig) };
 * verifyStatement(stmt, { alg: 'ecdsa-p256', publicKey });              // true
 * toHex(statementId(stmt));                                             // dedup key
 * @module
 */
import { createHash, createPublicKey, type KeyObject, verify as nodeVerify } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { EmbassyError } from '../errors.ts';
import { JcsError, type JsonValue, jcs, parseCanonical } from './jcs.ts';

/** Error codes raised by this module. */
export type StatementErrorCode =
  | 'statement_bad_type'
  | 'statement_bad_roster_id'
  | 'statement_malformed'
  | 'statement_not_json';

/** The only error this module throws (a body that is not canonicalisable raises `statement_not_json`). */
export class StatementError extends EmbassyError<StatementErrorCode> {}

/** Size of a roster ID in bytes. */
export const ROSTER_ID_SIZE = 32;
/** Domain prefix of every signing payload (followed by the type and 0x00). */
export const PAYLOAD_PREFIX = 'data-embassy/v1/';

const TYPE_RE = /^[a-z][a-z0-9-]{0,62}$/;
const HEX32_RE = /^[0-9a-f]{64}$/;
const B64URL_RE = /^[A-Za-z0-9_-]*$/;

/** True iff `type` is a valid statement type. */
export const isStatementType = (type: unknown): type is string =>
  typeof type === 'string' && TYPE_RE.test(type);

function canonical(value: unknown): Uint8Array {
  try {
    return jcs(value);
  } catch (e) {
    if (e instanceof JcsError) throw new StatementError('statement_not_json', `statement body: ${e.message}`);
    throw e;
  }
}

/**
 * The decision-10 signing payload: `SHA-256("data-embassy/v1/" ‖ type ‖ 0x00 ‖ rosterId ‖ JCS(body))`.
 * @throws {StatementError} on a bad type, a roster ID that is not 32 bytes, or a body JCS refuses.
 * @example signingPayload('approval', rosterId, { ceremony: 'c-1' }) // 32 bytes
 */
export function signingPayload(type: string, rosterId: Uint8Array, body: unknown): Uint8Array {
  if (!isStatementType(type))
    throw new StatementError('statement_bad_type', 'statement type must match [a-z][a-z0-9-]*');
  if (!(rosterId instanceof Uint8Array) || rosterId.length !== ROSTER_ID_SIZE)
    throw new StatementError('statement_bad_roster_id', 'roster ID must be 32 bytes');
  const d = createHash('sha256')
    .update(`${PAYLOAD_PREFIX}${type}\u0000`, 'utf8')
    .update(rosterId)
    .update(canonical(body))
    .digest();
  return new Uint8Array(d);
}

/**
 * A roster version's ID: `SHA-256(JCS(document))`, where `document` is the roster version without
 * its signatures. This is the value `--roster-pin` takes, in hex.
 */
export function rosterIdOf(document: unknown): Uint8Array {
  return new Uint8Array(createHash('sha256').update(canonical(document)).digest());
}

/** A statement before signing. `roster` is the 64-hex-digit roster ID. */
export interface UnsignedStatement {
  readonly type: string;
  readonly roster: string;
  /** The signer's key ID in the roster. */
  readonly signer: string;
  readonly body: JsonValue;
}

/** A signed statement; `sig` is unpadded base64url. */
export interface Statement extends UnsignedStatement {
  readonly sig: string;
}

function checkUnsigned(s: UnsignedStatement): void {
  if (typeof s !== 'object' || s === null)
    throw new StatementError('statement_malformed', 'statement must be an object');
  if (!isStatementType(s.type))
    throw new StatementError('statement_bad_type', 'statement type must match [a-z][a-z0-9-]*');
  if (typeof s.roster !== 'string' || !HEX32_RE.test(s.roster))
    throw new StatementError('statement_bad_roster_id', 'roster must be 64 lowercase hex digits');
  if (typeof s.signer !== 'string' || s.signer.length === 0 || s.signer.length > 256)
    throw new StatementError('statement_malformed', 'signer must be a non-empty key ID');
  if (!('body' in s)) throw new StatementError('statement_malformed', 'statement has no body');
}

const unsignedPart = (s: UnsignedStatement): UnsignedStatement => ({
  type: s.type,
  roster: s.roster,
  signer: s.signer,
  body: s.body,
});

/**
 * The signing payload of a statement (its `sig`, if any, is ignored): {@link signingPayload} of its
 * type, its roster ID, and the statement without `sig`.
 */
export function statementPayload(s: UnsignedStatement): Uint8Array {
  checkUnsigned(s);
  const u = unsignedPart(s);
  return signingPayload(u.type, new Uint8Array(Buffer.from(u.roster, 'hex')), u);
}

/** The deduplication key of a statement: its signing payload (the hash without the signature). */
export const statementId = (s: UnsignedStatement): Uint8Array => statementPayload(s);

/** Unpadded base64url. */
export const toBase64Url = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64url');

/** Strict unpadded base64url: null unless canonical. */
export function fromBase64Url(s: string): Uint8Array | null {
  if (typeof s !== 'string' || !B64URL_RE.test(s) || s.length % 4 === 1) return null;
  const b = Buffer.from(s, 'base64url');
  return b.toString('base64url') === s ? new Uint8Array(b) : null;
}

/**
 * Signs a statement with any signing function over the 32-byte payload (an HSM's CKM_ECDSA or
 * Ed25519) and returns the signed statement.
 */
export async function signStatement(
  s: UnsignedStatement,
  sign: (payload: Uint8Array) => Promise<Uint8Array>,
): Promise<Statement> {
  const payload = statementPayload(s);
  return { ...unsignedPart(s), sig: toBase64Url(await sign(payload)) };
}

/** A public key as the roster holds it. P-256 keys are SEC1 (33 or 65 bytes); Ed25519 keys 32 bytes. */
export interface StatementKey {
  readonly alg: 'ecdsa-p256' | 'ed25519';
  readonly publicKey: Uint8Array;
}

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const p256Keys = new Map<string, KeyObject>();
const ed25519Keys = new Map<string, KeyObject>();

/** A cached node:crypto key for a raw 32-byte Ed25519 public key; throws on an invalid key. */
function ed25519KeyObject(raw: Uint8Array): KeyObject {
  const id = Buffer.from(raw).toString('hex');
  let k = ed25519Keys.get(id);
  if (k === undefined) {
    k = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    if (ed25519Keys.size > 1024) ed25519Keys.clear();
    ed25519Keys.set(id, k);
  }
  return k;
}

/** A node:crypto key for a SEC1 P-256 point (compressed or not); throws on an invalid point. */
function p256KeyObject(sec1: Uint8Array): KeyObject {
  const id = Buffer.from(sec1).toString('hex');
  let k = p256Keys.get(id);
  if (k === undefined) {
    const point = p256.Point.fromBytes(sec1); // validates the point is on the curve
    const raw = point.toBytes(false);
    k = createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: Buffer.from(raw.subarray(1, 33)).toString('base64url'),
        y: Buffer.from(raw.subarray(33)).toString('base64url'),
      },
      format: 'jwk',
    });
    if (p256Keys.size > 1024) p256Keys.clear();
    p256Keys.set(id, k);
  }
  return k;
}

/**
 * ECDSA P-256 with SHA-256 (raw 64-byte `r ‖ s`, high S accepted) via node:crypto; false on any
 * malformed key or signature. Passes all 262 Wycheproof `ecdsa_secp256r1_sha256_p1363` cases.
 */
export function verifyEcdsaP256Sha256(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
  try {
    return nodeVerify(
      'sha256',
      message,
      { key: p256KeyObject(publicKey), dsaEncoding: 'ieee-p1363' },
      signature,
    );
  } catch {
    return false;
  }
}

/**
 * Verifies a statement's signature under `key`. Returns false for a bad signature, a malformed
 * statement or key; never throws.
 */
export function verifyStatement(s: Statement, key: StatementKey): boolean {
  let payload: Uint8Array;
  try {
    payload = statementPayload(s);
  } catch {
    return false;
  }
  const sig = fromBase64Url(s.sig);
  return sig !== null && verifyPayload(key, payload, sig);
}

/**
 * Verifies a signature over a 32-byte signing payload (a statement's, or a signed HTTP request's)
 * under `key`, with the algorithm the roster gives the key. Returns false on anything malformed.
 */
export function verifyPayload(key: StatementKey, payload: Uint8Array, sig: Uint8Array): boolean {
  if (!(key?.publicKey instanceof Uint8Array)) return false;
  try {
    if (key.alg === 'ecdsa-p256') {
      if (sig.length !== 64) return false;
      return nodeVerify(
        'sha256',
        payload,
        { key: p256KeyObject(key.publicKey), dsaEncoding: 'ieee-p1363' },
        sig,
      );
    }
    if (key.alg === 'ed25519') {
      if (sig.length !== 64 || key.publicKey.length !== 32) return false;
      return nodeVerify(null, payload, ed25519KeyObject(key.publicKey), sig);
    }
  } catch {
    return false;
  }
  return false;
}

/**
 * Parses a statement from its canonical JSON bytes (as stored in a log entry): exactly the members
 * `type`, `roster`, `signer`, `body`, `sig`, and RFC 8785 canonical form byte for byte.
 * @throws {StatementError}
 */
export function parseStatement(bytes: Uint8Array | string): Statement {
  let v: JsonValue;
  try {
    v = parseCanonical(bytes);
  } catch (e) {
    if (e instanceof JcsError) throw new StatementError('statement_not_json', e.message);
    throw e;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new StatementError('statement_malformed', 'statement must be a JSON object');
  const keys = Object.keys(v).sort().join(',');
  if (keys !== 'body,roster,sig,signer,type')
    throw new StatementError(
      'statement_malformed',
      'statement must have exactly body, roster, sig, signer, type',
    );
  const s = v as unknown as Statement;
  checkUnsigned(s);
  if (typeof s.sig !== 'string' || fromBase64Url(s.sig) === null)
    throw new StatementError('statement_malformed', 'sig must be unpadded base64url');
  return s;
}
