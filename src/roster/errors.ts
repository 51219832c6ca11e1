/**
 * The one error type of the roster library. Every refusal carries a stable `code` and one clear
 * message that names the version, principal or field at fault. Messages never contain key material
 * beyond public keys' identifiers.
 * @module
 */

import { EmbassyError } from '../errors.ts';

/** Error codes raised by `src/roster/`. */
export type RosterErrorCode =
  /** Not a roster document (schema): unknown field, float, bad length, bad encoding, bad time … */
  | 'roster_malformed'
  /** A reference to a principal, domain or custodian that does not exist. */
  | 'roster_unknown_reference'
  /** The same id (principal, domain, legal basis, epoch) or the same public key twice. */
  | 'roster_duplicate'
  /** A threshold or organisation count that cannot be met, or is out of range. */
  | 'roster_bad_threshold'
  /** An epoch whose shares do not match its domain (custodians, x-values). */
  | 'roster_bad_epoch'
  /** An epoch whose keyId is not SHA-256(quorumPublicKey)[0..16]. */
  | 'roster_key_id_mismatch'
  /** issuedAt not before expires, or issuedAt going backwards along the chain. */
  | 'roster_bad_time'
  /** The first verified version does not hash to the pinned rosterId. */
  | 'roster_pin_mismatch'
  /** No versions to verify. */
  | 'roster_empty_chain'
  /** A signature that does not verify under the signer's identity key. */
  | 'roster_bad_signature'
  /** A signature by a custodian that is not in the root role(s) that may sign this version. */
  | 'roster_unknown_signer'
  /** The same signer twice in one version's signatures. */
  | 'roster_duplicate_signer'
  /** Too few valid signatures of a root role (genesis: not all of its root). */
  | 'roster_threshold_not_met'
  /** A version not newer than the trusted one. */
  | 'roster_rollback'
  /** A version that skips one (N+2 after N). */
  | 'roster_version_gap'
  /** `previous` is not the rosterId of the trusted version. */
  | 'roster_previous_mismatch'
  /** The newest version has expired (now ≥ expires). */
  | 'roster_expired'
  /** A lookup found nothing (unknown custodian, domain, principal; no live epoch). */
  | 'roster_not_found';

export class RosterError extends EmbassyError<RosterErrorCode> {}
