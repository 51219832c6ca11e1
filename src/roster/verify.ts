/**
 * Verifying roster versions, in the spirit of TUF's root metadata (docs/DECISIONS.md#d1).
 *
 * - The first trusted version is pinned out of band by its rosterId (`--roster-pin SHA256HEX`). If it
 *   is genesis (version 1), every custodian of its root must have signed it; if a client pinned a later
 *   version, a threshold of its own root must have signed it.
 * - Version N+1 is accepted after N iff it parses (schema and semantic rules, check.ts),
 *   `version` = N + 1, `previous` = rosterId(N), `issuedAt` ≥ N's, and it carries valid signatures of at
 *   least N's root threshold among N's root (under the identity keys of version N) **and** of at least
 *   N+1's root threshold among N+1's root (under the keys of N+1).
 * - Every signature must be by a custodian of a root that may sign (otherwise `roster_unknown_signer`),
 *   must verify (otherwise `roster_bad_signature`), and appear once (otherwise
 *   `roster_duplicate_signer`): a served version with a stray or broken signature is refused whole, not
 *   trimmed, since the coordinator serves exactly what the custodians signed.
 *   A custodian in both roots counts for each root whose key verifies their one signature (a custodian
 *   who rotates their identity key in N+1 counts only for one of them).
 * - Only the newest version must be unexpired (`now < expires`), as in TUF: intermediate versions may
 *   have expired since; a client never moves back to an older version (`roster_rollback`).
 *
 * Results are frozen; every function throws only {@link RosterError}.
 * @module
 */
import { verifyStatement } from '../crypto/statement.ts';
import { parseSignedRoster } from './check.ts';
import { RosterError } from './errors.ts';
import { type RosterDoc, type RosterSignature, type SignedRoster, timeMs } from './schema.ts';
import { rosterIdHex, rosterStatement } from './sign.ts';

/** A roster version that has been verified; obtain one only from this module. */
export interface VerifiedRoster {
  /** rosterId, 64 lowercase hex digits. */
  readonly rosterId: string;
  readonly roster: RosterDoc;
  readonly signatures: readonly RosterSignature[];
}

export interface RosterChain {
  /** The newest verified version: the one to use. */
  readonly current: VerifiedRoster;
  /** Every verified version, oldest (the pinned one) first; `history.at(-1) === current`. */
  readonly history: readonly VerifiedRoster[];
}

const PIN_RE = /^[0-9a-f]{64}$/;

interface SigningRole {
  /** Which root, for messages: "version 3". */
  readonly label: string;
  /** The version whose root and keys this is. */
  readonly doc: RosterDoc;
  /** Valid signatures needed. */
  readonly needed: number;
}

function nowMs(now: Date | number): number {
  const t = typeof now === 'number' ? now : now instanceof Date ? now.getTime() : Number.NaN;
  if (!Number.isFinite(t)) throw new RosterError('roster_malformed', 'now must be a valid Date');
  return t;
}

function identityKey(doc: RosterDoc, id: string): Uint8Array | undefined {
  const c = doc.custodians.find((x) => x.id === id);
  return c === undefined ? undefined : new Uint8Array(Buffer.from(c.identityKey, 'base64url'));
}

/** Checks the signatures of `signed` against `roles`; throws unless every role's threshold is met. */
function checkSignatures(signed: SignedRoster, roles: readonly SigningRole[]): void {
  const doc = signed.roster;
  const v = doc.version;
  const counts = roles.map(() => 0);
  const seen = new Set<string>();
  for (const { signer, sig } of signed.signatures) {
    if (seen.has(signer))
      throw new RosterError('roster_duplicate_signer', `roster version ${v}: "${signer}" signed twice`);
    seen.add(signer);
    const stmt = { ...rosterStatement(doc, signer), sig };
    let member = false;
    let valid = false;
    roles.forEach((role, i) => {
      if (!role.doc.root.custodians.includes(signer)) return;
      member = true;
      const key = identityKey(role.doc, signer);
      if (key !== undefined && verifyStatement(stmt, { alg: 'ecdsa-p256', publicKey: key })) {
        counts[i]! += 1;
        valid = true;
      }
    });
    if (!member)
      throw new RosterError(
        'roster_unknown_signer',
        `roster version ${v}: "${signer}" is not in the root of ${roles.map((r) => r.label).join(' or ')}`,
      );
    if (!valid)
      throw new RosterError(
        'roster_bad_signature',
        `roster version ${v}: the signature of "${signer}" does not verify`,
      );
  }
  roles.forEach((role, i) => {
    if (counts[i]! < role.needed) {
      const missing =
        role.needed === role.doc.root.custodians.length
          ? ` (missing: ${role.doc.root.custodians.filter((c) => !seen.has(c)).join(', ')})`
          : '';
      throw new RosterError(
        'roster_threshold_not_met',
        `roster version ${v}: ${counts[i]} valid signatures of the root of ${role.label}, ${role.needed} needed${missing}`,
      );
    }
  });
}

function checkUnexpired(doc: RosterDoc, now: number): void {
  if (now >= timeMs(doc.expires))
    throw new RosterError('roster_expired', `roster version ${doc.version} expired at ${doc.expires}`);
}

const freeze = (v: VerifiedRoster): VerifiedRoster => Object.freeze(v);

/** Verifies the pinned version (genesis: all of its root; later: its root threshold). */
function verifyPinned(pinHex: string, input: unknown): VerifiedRoster {
  const signed = parseSignedRoster(input);
  const doc = signed.roster;
  const id = rosterIdHex(doc);
  if (id !== pinHex)
    throw new RosterError(
      'roster_pin_mismatch',
      `roster version ${doc.version} has rosterId ${id}, not the pinned ${pinHex}`,
    );
  const label = `version ${doc.version}`;
  const needed = doc.version === 1 ? doc.root.custodians.length : doc.root.threshold;
  checkSignatures(signed, [{ label, doc, needed }]);
  return freeze({ rosterId: id, roster: doc, signatures: signed.signatures });
}

/** Verifies `next` as the successor of `trusted`, without the expiry check. */
function verifyNext(trusted: VerifiedRoster, input: unknown): VerifiedRoster {
  const signed = parseSignedRoster(input);
  const doc = signed.roster;
  const prev = trusted.roster;
  if (doc.version <= prev.version)
    throw new RosterError(
      'roster_rollback',
      `roster version ${doc.version} is not newer than the trusted version ${prev.version}`,
    );
  if (doc.version !== prev.version + 1)
    throw new RosterError(
      'roster_version_gap',
      `roster version ${doc.version} does not follow the trusted version ${prev.version} (expected ${prev.version + 1})`,
    );
  if (doc.previous !== trusted.rosterId)
    throw new RosterError(
      'roster_previous_mismatch',
      `roster version ${doc.version}: previous ${doc.previous} is not the rosterId ${trusted.rosterId} of version ${prev.version}`,
    );
  if (timeMs(doc.issuedAt) < timeMs(prev.issuedAt))
    throw new RosterError(
      'roster_bad_time',
      `roster version ${doc.version}: issuedAt ${doc.issuedAt} is before version ${prev.version}'s ${prev.issuedAt}`,
    );
  checkSignatures(signed, [
    { label: `version ${prev.version}`, doc: prev, needed: prev.root.threshold },
    { label: `version ${doc.version}`, doc, needed: doc.root.threshold },
  ]);
  return freeze({ rosterId: rosterIdHex(doc), roster: doc, signatures: signed.signatures });
}

function guard<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RosterError) throw e;
    throw new RosterError('roster_malformed', `roster: ${(e as Error)?.message ?? String(e)}`);
  }
}

/**
 * Verifies a chain of signed versions from the pinned one. `versions` must be in increasing order;
 * entries before the pinned one (by rosterId) are skipped, so a client that pinned version 3 can be
 * served the whole history. The newest version must not have expired at `now`.
 * @throws {RosterError}
 * @example const { current } = verifyRosterChain(pin, await fetchVersions(), new Date());
 */
export function verifyRosterChain(
  pinHex: string,
  versions: readonly unknown[],
  now: Date | number,
): RosterChain {
  return guard(() => {
    if (typeof pinHex !== 'string' || !PIN_RE.test(pinHex))
      throw new RosterError('roster_pin_mismatch', 'roster pin must be 64 lowercase hex digits (SHA-256)');
    const t = nowMs(now);
    if (!Array.isArray(versions) || versions.length === 0)
      throw new RosterError('roster_empty_chain', 'no roster versions to verify');
    let start = 0;
    for (let i = 0; i < versions.length; i++) {
      const r = (versions[i] as { roster?: unknown } | null)?.roster;
      let id: string | undefined;
      try {
        id = rosterIdHex(r as RosterDoc);
      } catch {
        id = undefined;
      }
      if (id === pinHex) {
        start = i;
        break;
      }
    }
    const history: VerifiedRoster[] = [verifyPinned(pinHex, versions[start])];
    for (let i = start + 1; i < versions.length; i++) history.push(verifyNext(history.at(-1)!, versions[i]));
    const current = history.at(-1)!;
    checkUnexpired(current.roster, t);
    return Object.freeze({ current, history: Object.freeze(history) });
  });
}

/**
 * Verifies `next` as the successor of the trusted version (version + 1, previous, both roots'
 * thresholds, not expired at `now`). Returns the new trusted version.
 * @throws {RosterError}
 */
export function verifyRosterUpdate(
  trusted: VerifiedRoster,
  next: unknown,
  now: Date | number,
): VerifiedRoster {
  return guard(() => {
    const t = nowMs(now);
    const v = verifyNext(trusted, next);
    checkUnexpired(v.roster, t);
    return v;
  });
}

/**
 * Verifies a pinned version alone (genesis: all root custodians signed; otherwise its root threshold),
 * not expired at `now`. @throws {RosterError}
 */
export function verifyPinnedRoster(pinHex: string, signed: unknown, now: Date | number): VerifiedRoster {
  return verifyRosterChain(pinHex, [signed], now).current;
}
