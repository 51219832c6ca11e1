/**
 * The one error type of the roster library. Every refusal carries a stable `code` and one clear
 * message that names the version, principal or field at fault. Messages never contain key material
 * beyond public keys' identifiers.
 * @module
 */

/** Error codes raised by `src/roster/`. */
export type RosterErrorCode =
  /** Not a roster document (schema): unknown field, float, bad length, bad encoding, bad time … */
  | 'ROSTER_MALFORMED'
  /** A reference to a principal, domain or custodian that does not exist. */
  | 'ROSTER_UNKNOWN_REFERENCE'
  /** The same id (principal, domain, legal basis, epoch) or the same public key twice. */
  | 'ROSTER_DUPLICATE'
  /** A threshold or organisation count that cannot be met, or is out of range. */
  | 'ROSTER_BAD_THRESHOLD'
  /** An epoch whose shares do not match its domain (custodians, x-values). */
  | 'ROSTER_BAD_EPOCH'
  /** An epoch whose keyId is not SHA-256(quorumPublicKey)[0..16]. */
  | 'ROSTER_KEY_ID_MISMATCH'
  /** issuedAt not before expires, or issuedAt going backwards along the chain. */
  | 'ROSTER_BAD_TIME'
  /** The first verified version does not hash to the pinned rosterId. */
  | 'ROSTER_PIN_MISMATCH'
  /** No versions to verify. */
  | 'ROSTER_EMPTY_CHAIN'
  /** A signature that does not verify under the signer's identity key. */
  | 'ROSTER_BAD_SIGNATURE'
  /** A signature by a custodian that is not in the root role(s) that may sign this version. */
  | 'ROSTER_UNKNOWN_SIGNER'
  /** The same signer twice in one version's signatures. */
  | 'ROSTER_DUPLICATE_SIGNER'
  /** Too few valid signatures of a root role (genesis: not all of its root). */
  | 'ROSTER_THRESHOLD_NOT_MET'
  /** A version not newer than the trusted one. */
  | 'ROSTER_ROLLBACK'
  /** A version that skips one (N+2 after N). */
  | 'ROSTER_VERSION_GAP'
  /** `previous` is not the rosterId of the trusted version. */
  | 'ROSTER_PREVIOUS_MISMATCH'
  /** The newest version has expired (now ≥ expires). */
  | 'ROSTER_EXPIRED'
  /** A lookup found nothing (unknown custodian, domain, principal; no live epoch). */
  | 'ROSTER_NOT_FOUND';

export class RosterError extends Error {
  override readonly name = 'RosterError';
  constructor(
    readonly code: RosterErrorCode,
    message: string,
  ) {
    super(message);
  }
}
