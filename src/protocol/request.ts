/**
 * How an HTTP request to the coordinator is signed (docs/API.md §2). Every mutating request (and the
 * station's fetch of releases) carries
 *   Embassy-Principal: <roster principal id>      Embassy-Timestamp: <RFC 3339 UTC>
 *   Embassy-Nonce: <32 lowercase hex>             Embassy-Roster: <rosterId hex the client pinned>
 *   Embassy-Signature: <base64url over requestPayload(...)>
 * with payload = signingPayload("http-request", rosterId, {method, path, body: SHA-256(body) hex,
 * timestamp, nonce, principal}) (src/crypto/statement.ts), signed like any statement of that principal.
 * Client and server both import this module, so the bytes a client signs are the bytes the server checks.
 *
 * @example
 * const payload = requestPayload({ method: 'POST', path: '/v1/ceremonies', body, timestamp, nonce,
 *   principal: 'station-lux' }, rosterId);
 */
import { createHash } from 'node:crypto';
import { signingPayload } from '../crypto/statement.ts';

export const HEADER = {
  principal: 'embassy-principal',
  timestamp: 'embassy-timestamp',
  nonce: 'embassy-nonce',
  roster: 'embassy-roster',
  signature: 'embassy-signature',
} as const;

/** How far a request's (or a statement's) timestamp may be from the coordinator's clock. */
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
