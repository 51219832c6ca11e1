/**
 * Identifiers of the wire protocol as zod-branded strings. A value of one of these types has been
 * parsed once, at the edge where it entered (a statement body, a route parameter); inside the
 * coordinator and the clients a `CeremonyId` cannot be mixed up with a snapshot id or a hash.
 *
 * @example
 * const id = CeremonyId.parse(c.req.param('id')); // throws on anything but cer-<32 hex>
 * await unlock.ceremony(id);
 */
import { z } from 'zod';

/** A domain of the roster (`land`, `business`): a lower-case id. */
export const DomainId = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a lower-case id')
  .brand<'DomainId'>();
export type DomainId = z.infer<typeof DomainId>;

/** A ceremony: `cer-` and 32 lowercase hex digits, chosen by the station that opens it. */
export const CeremonyId = z
  .string()
  .regex(/^cer-[0-9a-f]{32}$/, 'must be cer- and 32 hex digits')
  .brand<'CeremonyId'>();
export type CeremonyId = z.infer<typeof CeremonyId>;

/** A registered snapshot (sealed archive), chosen by the backup job that registers it. */
export const SnapshotId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'must be 1..128 of [A-Za-z0-9._:-]')
  .brand<'SnapshotId'>();
export type SnapshotId = z.infer<typeof SnapshotId>;

/** A roster principal id (`custodian-1`, `station-lux`): how a decision or release names its author. */
export const PrincipalId = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a lower-case id')
  .brand<'PrincipalId'>();
export type PrincipalId = z.infer<typeof PrincipalId>;

/** `<role>/<id>`: how statements name their signer and audit entries their actor. */
export const PrincipalRef = z
  .string()
  .regex(/^(custodian|station|job|auditor)\/[a-z][a-z0-9-]{0,62}$/, 'must be <role>/<principal id>')
  .brand<'PrincipalRef'>();
export type PrincipalRef = z.infer<typeof PrincipalRef>;

/** A SHA-256 digest (statement id, blob hash, recipient-key hash): 64 lowercase hex digits. */
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

/** An RFC 3339 UTC time with at most millisecond precision, as `Date.toISOString()` writes it. */
export const Rfc3339 = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/, 'must be RFC 3339 UTC');
