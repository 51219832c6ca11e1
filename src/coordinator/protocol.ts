/**
 * The wire contract between the coordinator and its clients (custodian CLI, station, jobs,
 * auditors): how an HTTP request is signed, and the signed statements that drive a ceremony.
 * Both sides import this module, so the bytes a client signs are the bytes the server checks.
 *
 * Request signature (docs/API.md): every mutating request carries
 *   Embassy-Principal: <roster principal id>      Embassy-Timestamp: <RFC 3339 UTC>
 *   Embassy-Nonce: <32 lowercase hex>             Embassy-Roster: <rosterId hex the client pinned>
 *   Embassy-Signature: <base64url over requestPayload(...)>
 * with payload = signingPayload("http-request", rosterId, {method, path, body: SHA-256(body) hex,
 * timestamp, nonce, principal}) (src/crypto/statement.ts), signed like any statement of that principal.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { signingPayload } from '../crypto/statement.ts';

export const HEADER = {
  principal: 'embassy-principal',
  timestamp: 'embassy-timestamp',
  nonce: 'embassy-nonce',
  roster: 'embassy-roster',
  signature: 'embassy-signature',
} as const;

/** How far a request's timestamp may be from the coordinator's clock. */
export const MAX_CLOCK_SKEW_MS = 120_000;

export interface RequestToSign {
  method: string;
  /** Path and query, exactly as sent. */
  path: string;
  body: Uint8Array;
  timestamp: string;
  nonce: string;
  principal: string;
}

export const sha256Hex = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

export function requestPayload(r: RequestToSign, rosterId: Uint8Array): Uint8Array {
  return signingPayload('http-request', rosterId, {
    method: r.method.toUpperCase(),
    path: r.path,
    body: sha256Hex(r.body),
    timestamp: r.timestamp,
    nonce: r.nonce,
    principal: r.principal,
  });
}

// ---------------------------------------------------------------------------------------------
// Statement bodies. Each is signed by its actor (src/crypto/statement.ts) and logged verbatim.

const b64url = (min: number, max = min) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'must be unpadded base64url')
    .refine(
      (s) => {
        const n = Buffer.from(s, 'base64url').length;
        return n >= min && n <= max && Buffer.from(s, 'base64url').toString('base64url') === s;
      },
      `must encode ${min === max ? min : `${min}..${max}`} bytes`,
    );
const hex32 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const time = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/, 'must be RFC 3339 UTC');
const id = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a lower-case id');
export const ceremonyIdSchema = z.string().regex(/^cer-[0-9a-f]{32}$/, 'must be cer- and 32 hex digits');

export const STATEMENT = {
  unlockRequest: 'unlock-request',
  decision: 'unlock-decision',
  release: 'share-release',
  close: 'ceremony-close',
  snapshot: 'snapshot-registration',
} as const;

/** A station asks to unlock one domain epoch for some snapshots. */
export const UnlockRequestBody = z.strictObject({
  ceremonyId: ceremonyIdSchema,
  domain: id,
  epoch: z.number().int().min(0).max(0xffffffff),
  snapshots: z
    .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/))
    .min(1)
    .max(1000),
  justification: z.strictObject({
    legalBasis: z.string().min(1).max(64),
    caseReference: z.string().min(1).max(128),
    text: z.string().min(1).max(4000),
  }),
  /** The station's per-ceremony P-256 key (65 bytes): the in-token release layer. */
  recipientP256: b64url(65),
  /** The station's per-ceremony X-Wing key (1216 bytes): the post-quantum outer layer. */
  recipientXWing: b64url(1216),
  createdAt: time,
  deadline: time,
  nonce: z.string().regex(/^[0-9a-f]{32}$/),
});
export type UnlockRequestBody = z.infer<typeof UnlockRequestBody>;

/** Phase one (DESIGN decision 2): approve or veto, naming what is approved; carries no share. */
export const DecisionBody = z.strictObject({
  ceremonyId: ceremonyIdSchema,
  requestHash: hex32,
  decision: z.enum(['approve', 'veto']),
  /** SHA-256 of recipientP256 ‖ recipientXWing as named in the request. */
  recipientKeys: hex32,
  reason: z.string().min(1).max(2000).optional(),
  createdAt: time,
});
export type DecisionBody = z.infer<typeof DecisionBody>;

/** Phase two: the release, signed over the blob's hash and both recipient keys. */
export const ReleaseBody = z.strictObject({
  ceremonyId: ceremonyIdSchema,
  requestHash: hex32,
  recipientKeys: hex32,
  blobHash: hex32,
  createdAt: time,
});
export type ReleaseBody = z.infer<typeof ReleaseBody>;

export const CloseBody = z.strictObject({
  ceremonyId: ceremonyIdSchema,
  requestHash: hex32,
  outcome: z.enum(['done', 'cancelled']),
  createdAt: time,
});
export type CloseBody = z.infer<typeof CloseBody>;

/** A backup job registers a sealed archive (DESIGN flow 2). */
export const SnapshotBody = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/),
  domain: id,
  sealEpoch: z.number().int().min(0).max(0xffffffff),
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  digest: hex32,
  location: z.string().min(1).max(1024),
  sequence: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  createdAt: time,
});
export type SnapshotBody = z.infer<typeof SnapshotBody>;

/** SHA-256(recipientP256 ‖ recipientXWing): what decisions and releases name. */
export const recipientKeysHash = (p256: Uint8Array, xwing: Uint8Array): string =>
  createHash('sha256').update(p256).update(xwing).digest('hex');
