/**
 * Roster version documents (`data-embassy/roster/v1`): zod 4 schemas and their TypeScript types.
 * The format is specified field by field in docs/ROSTER.md.
 *
 * Conventions (as everywhere in data-embassy, docs/AUDIT-LOG.md §1):
 * - every object is strict: an unknown member is refused, not dropped;
 * - numbers are safe integers, never floats; times are RFC 3339 UTC to the second (`…T00:00:00Z`);
 * - bytes are unpadded base64url, canonical (re-encoding gives the same text);
 * - hashes and ids derived from hashes are lowercase hex;
 * - principal ids and domain names match {@link ID_RE}.
 *
 * Keys:
 * - custodian `identityKey` (ECDSA P-256, signs statements in the token), `transportKey` (ECDH P-256,
 *   share import into the token): 65-byte uncompressed SEC1 points, checked to be on the curve;
 * - custodian `xwingKey`: the 1216-byte X-Wing public key for the outer layer of shares sent to them,
 *   base64url. Deliberately **not** in the `embassy1…` text form: that form is what `embassy seal -r`
 *   takes, and a custodian's personal key must never be mistaken for a seal recipient;
 * - epoch `quorumPublicKey`: the domain's seal recipient, so exactly the Bech32m `embassy1…` text of
 *   src/crypto/keys.ts; `keyId` is 32 hex digits, SHA-256(public key)[0..16] ({@link keyId});
 * - station, job and auditor `signingKey`: `{ alg: 'ed25519' | 'ecdsa-p256', publicKey }`, Ed25519 32
 *   bytes or P-256 65 bytes uncompressed. The algorithm is part of the signed roster, never taken from a
 *   statement (src/crypto/statement.ts); jobs and stations running in software should use Ed25519;
 * - `log.key`: the Ed25519 checkpoint key (32 bytes) of the signed-note log named `log.origin`.
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { z } from 'zod';
import { isWellFormedString } from '../crypto/jcs.ts';
import { parsePublicKey } from '../crypto/keys.ts';
import { fromBase64Url } from '../crypto/statement.ts';
import { XWING_PUBLIC_KEY_SIZE } from '../crypto/xwing.ts';

/** The `format` member of every roster version document. */
export const ROSTER_FORMAT = 'data-embassy/roster/v1';
/** Principal ids and domain names. */
export const ID_RE = /^[a-z][a-z0-9-]{0,62}$/;
/** RFC 3339 UTC to the second; {@link isRosterTime} also checks the date exists. */
export const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
/** Upper bound on every list in a roster document (keeps verification bounded). */
export const MAX_LIST = 1024;
/** Upper bound on free-text fields, in UTF-16 code units. */
export const MAX_TEXT = 256;

export const P256_PUBLIC_KEY_SIZE = 65;
export const ED25519_PUBLIC_KEY_SIZE = 32;
export const SIGNATURE_SIZE = 64;
export const SALT_SIZE = 32;

/** True iff `s` is an RFC 3339 UTC time to the second that denotes a real instant. */
export function isRosterTime(s: string): boolean {
  if (!TIME_RE.test(s)) return false;
  const t = Date.parse(s);
  return Number.isFinite(t) && new Date(t).toISOString().replace('.000Z', 'Z') === s;
}

/** Milliseconds since the epoch of a roster time (assumed valid). */
export const timeMs = (s: string): number => Date.parse(s);

/** A Date as a roster time (sub-second part dropped). */
export const toRosterTime = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const id = z.string().regex(ID_RE, 'must match ^[a-z][a-z0-9-]{0,62}$');
const text = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_TEXT, `must be at most ${MAX_TEXT} characters`)
  .refine((s) => isWellFormedString(s) && !CONTROL_RE.test(s), 'must not contain control characters');
const time = z.string().refine(isRosterTime, 'must be an RFC 3339 UTC time like 2026-01-01T00:00:00Z');
const hex = (bytes: number) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `must be ${bytes * 2} lowercase hex digits`);
const uint = (min: number, max: number) => z.int().min(min).max(max);
const list = <T extends z.ZodType>(item: T, min = 0) =>
  z
    .array(item)
    .min(min, `must have at least ${min} entries`)
    .max(MAX_LIST, `must have at most ${MAX_LIST} entries`);

/** Unpadded canonical base64url of exactly `size` bytes, optionally with a check of the bytes. */
const bytes = (size: number, what: string, check?: (b: Uint8Array) => boolean) =>
  z.string().refine((s) => {
    const b = fromBase64Url(s);
    return b !== null && b.length === size && (check === undefined || check(b));
  }, `must be ${what}: ${size} bytes, unpadded base64url`);

const onP256 = (b: Uint8Array): boolean => {
  if (b[0] !== 0x04) return false;
  try {
    p256.Point.fromBytes(b).assertValidity();
    return true;
  } catch {
    return false;
  }
};
const onEd25519 = (b: Uint8Array): boolean => {
  try {
    ed25519.Point.fromBytes(b);
    return true;
  } catch {
    return false;
  }
};

const p256Key = bytes(P256_PUBLIC_KEY_SIZE, 'an uncompressed P-256 point on the curve', onP256);
const ed25519Key = bytes(ED25519_PUBLIC_KEY_SIZE, 'an Ed25519 public key', onEd25519);

const bech32XWing = z.string().refine((s) => {
  try {
    parsePublicKey(s);
    return s === s.trim() && s.startsWith('embassy1');
  } catch {
    return false;
  }
}, 'must be an X-Wing public key in its embassy1… text form');

/** A station's, job's or auditor's statement key. */
export const SigningKeySchema = z.discriminatedUnion('alg', [
  z.strictObject({ alg: z.literal('ed25519'), publicKey: ed25519Key }),
  z.strictObject({ alg: z.literal('ecdsa-p256'), publicKey: p256Key }),
]);

export const RootSchema = z.strictObject({
  custodians: list(id, 1),
  threshold: uint(1, MAX_LIST),
});

export const CustodianSchema = z.strictObject({
  id,
  name: text,
  organisation: text,
  tokenLabel: text.refine((s) => Buffer.byteLength(s, 'utf8') <= 32, 'must be at most 32 bytes (PKCS#11)'),
  identityKey: p256Key,
  transportKey: p256Key,
  xwingKey: bytes(XWING_PUBLIC_KEY_SIZE, 'an X-Wing public key'),
});

export const StationSchema = z.strictObject({
  id,
  name: text,
  organisation: text,
  signingKey: SigningKeySchema,
});

export const JobSchema = z.strictObject({
  id,
  name: text,
  signingKey: SigningKeySchema,
  domains: list(id),
});

export const AuditorSchema = z.strictObject({
  id,
  name: text,
  signingKey: SigningKeySchema,
});

export const LogSchema = z.strictObject({
  origin: z
    .string()
    .regex(/^[!-*,-~]{1,255}$/, 'must be 1..255 printable ASCII characters without + or space'),
  key: ed25519Key,
});

/** A legal-basis code, as `legalBases[].code` and a domain policy's `legalBases` write it. */
export const LEGAL_BASIS_CODE_RE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const legalBasisCode = z.string().regex(LEGAL_BASIS_CODE_RE, 'must be 1..64 of [A-Za-z0-9._:/-]');

export const LegalBasisSchema = z.strictObject({
  code: legalBasisCode,
  description: text,
});

/**
 * A domain's unlock policy. `legalBases` and `stations` are optional: absent, every legal basis of the
 * roster is accepted and every station of the roster may ask (the rule of rosters written before
 * they existed); present, only those listed.
 */
export const PolicySchema = z.strictObject({
  coolOffSeconds: uint(0, 366 * 86400),
  maxDeadlineSeconds: uint(1, 366 * 86400),
  veto: z.enum(['any', 'none']),
  maxEpochAgeDays: uint(1, 100 * 366),
  legalBases: list(legalBasisCode, 1).optional(),
  stations: list(id, 1).optional(),
});

export const ShareSchema = z.strictObject({
  custodian: id,
  x: uint(1, 255),
  commitment: hex(32),
  salt: bytes(SALT_SIZE, 'a commitment salt'),
});

export const EpochSchema = z.strictObject({
  epoch: uint(0, 0xffffffff),
  /** The key ceremony that split this epoch's key: part of every share commitment (hsm/format.ts). */
  keyCeremony: text,
  quorumPublicKey: bech32XWing,
  keyId: hex(16),
  threshold: uint(2, 255),
  shares: list(ShareSchema, 2).max(255, 'must have at most 255 shares'),
  createdAt: time,
  retired: z.boolean().optional(),
});

export const DomainSchema = z.strictObject({
  name: id,
  custodians: list(id, 1),
  threshold: uint(1, MAX_LIST),
  minOrganisations: uint(1, MAX_LIST),
  policy: PolicySchema,
  homeStanza: z.boolean(),
  epochs: list(EpochSchema),
});

export const RosterDocSchema = z.strictObject({
  format: z.literal(ROSTER_FORMAT),
  version: uint(1, Number.MAX_SAFE_INTEGER),
  previous: hex(32).optional(),
  issuedAt: time,
  expires: time,
  root: RootSchema,
  custodians: list(CustodianSchema, 1),
  stations: list(StationSchema),
  jobs: list(JobSchema),
  auditors: list(AuditorSchema),
  log: LogSchema,
  legalBases: list(LegalBasisSchema),
  domains: list(DomainSchema),
});

export const RosterSignatureSchema = z.strictObject({
  signer: id,
  sig: bytes(SIGNATURE_SIZE, 'a raw r‖s ECDSA P-256 signature'),
});

export const SignedRosterSchema = z.strictObject({
  roster: RosterDocSchema,
  signatures: list(RosterSignatureSchema, 1),
});

export type SigningKey = z.infer<typeof SigningKeySchema>;
export type Root = z.infer<typeof RootSchema>;
export type Custodian = z.infer<typeof CustodianSchema>;
export type Station = z.infer<typeof StationSchema>;
export type Job = z.infer<typeof JobSchema>;
export type Auditor = z.infer<typeof AuditorSchema>;
export type Log = z.infer<typeof LogSchema>;
export type LegalBasis = z.infer<typeof LegalBasisSchema>;
export type Policy = z.infer<typeof PolicySchema>;
export type Share = z.infer<typeof ShareSchema>;
export type Epoch = z.infer<typeof EpochSchema>;
export type Domain = z.infer<typeof DomainSchema>;
export type RosterDoc = z.infer<typeof RosterDocSchema>;
export type RosterSignature = z.infer<typeof RosterSignatureSchema>;
export type SignedRoster = z.infer<typeof SignedRosterSchema>;
