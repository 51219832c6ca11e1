/**
 * Lookups in a (verified) roster version, for the coordinator, stations, custodians, jobs and auditors.
 * Each takes the document, a signed roster or a {@link VerifiedRoster}. Call them only on a version
 * that verify.ts accepted: these functions trust their input.
 *
 * `find…` returns undefined when nothing matches; the others throw `RosterError('roster_not_found')`.
 * @module
 */

import { parsePublicKey } from '../crypto/keys.ts';
import type { StatementKey } from '../crypto/statement.ts';
import { liveEpoch } from './check.ts';
import { RosterError } from './errors.ts';
import type { Custodian, Domain, Epoch, RosterDoc } from './schema.ts';

export type RosterLike = RosterDoc | { readonly roster: RosterDoc };
export type PrincipalRole = 'custodian' | 'station' | 'job' | 'auditor';

export interface PrincipalKey extends StatementKey {
  readonly role: PrincipalRole;
  readonly id: string;
}

const docOf = (r: RosterLike): RosterDoc => ('format' in r ? r : r.roster);
const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64url'));
const notFound = (doc: RosterDoc, what: string): never => {
  throw new RosterError('roster_not_found', `roster version ${doc.version}: ${what}`);
};

/** The custodian entry with this id, or undefined. */
export function findCustodian(roster: RosterLike, id: string): Custodian | undefined {
  return docOf(roster).custodians.find((c) => c.id === id);
}

/** A custodian's public keys as bytes: identity (P-256, 65), transport (P-256, 65), xwing (1216). */
export function custodianKeys(
  roster: RosterLike,
  id: string,
): { identity: Uint8Array; transport: Uint8Array; xwing: Uint8Array } {
  const doc = docOf(roster);
  const c = findCustodian(doc, id) ?? notFound(doc, `no custodian "${id}"`);
  return { identity: b64(c.identityKey), transport: b64(c.transportKey), xwing: b64(c.xwingKey) };
}

/** The domain with this name. @throws {RosterError} roster_not_found */
export function domain(roster: RosterLike, name: string): Domain {
  const doc = docOf(roster);
  return doc.domains.find((d) => d.name === name) ?? notFound(doc, `no domain "${name}"`);
}

/** A domain's epoch by number (retired or not), or undefined. */
export function findEpoch(roster: RosterLike, domainName: string, epoch: number): Epoch | undefined {
  return domain(roster, domainName).epochs.find((e) => e.epoch === epoch);
}

/**
 * A domain's current epoch: the live (not retired) epoch with the highest number; jobs seal to it.
 * @throws {RosterError} roster_not_found if the domain is unknown or has no live epoch.
 */
export function currentEpoch(roster: RosterLike, domainName: string): Epoch {
  const doc = docOf(roster);
  return liveEpoch(domain(doc, domainName)) ?? notFound(doc, `domain "${domainName}" has no live epoch`);
}

/** An epoch's quorum public key (1216 bytes) and key id (16 bytes). */
export function quorumKey(epoch: Epoch): { publicKey: Uint8Array; keyId: Uint8Array } {
  return {
    publicKey: parsePublicKey(epoch.quorumPublicKey),
    keyId: new Uint8Array(Buffer.from(epoch.keyId, 'hex')),
  };
}

/**
 * The statement key of a principal, by bare id (`alice`) or by statement signer reference
 * (`custodian/alice`, see sign.ts `signerRef`; the role must then match). Custodians sign with their
 * P-256 identity key; stations, jobs and auditors with the key and algorithm their entry names.
 * Pass the result to `verifyStatement`. @throws {RosterError} roster_not_found
 */
export function principalKey(roster: RosterLike, idOrRef: string): PrincipalKey {
  const doc = docOf(roster);
  const slash = idOrRef.indexOf('/');
  const wantRole = slash < 0 ? undefined : idOrRef.slice(0, slash);
  const id = slash < 0 ? idOrRef : idOrRef.slice(slash + 1);
  let found: PrincipalKey | undefined;
  const c = doc.custodians.find((x) => x.id === id);
  if (c !== undefined) found = { role: 'custodian', id, alg: 'ecdsa-p256', publicKey: b64(c.identityKey) };
  for (const [role, list] of [
    ['station', doc.stations],
    ['job', doc.jobs],
    ['auditor', doc.auditors],
  ] as const) {
    if (found !== undefined) break;
    const p = list.find((x) => x.id === id);
    if (p !== undefined) found = { role, id, alg: p.signingKey.alg, publicKey: b64(p.signingKey.publicKey) };
  }
  if (found === undefined || (wantRole !== undefined && wantRole !== found.role))
    return notFound(doc, `no principal "${idOrRef}"`);
  return found;
}

/** The audit log's origin and Ed25519 checkpoint key. */
export function logKey(roster: RosterLike): { origin: string; alg: 'ed25519'; publicKey: Uint8Array } {
  const doc = docOf(roster);
  return { origin: doc.log.origin, alg: 'ed25519', publicKey: b64(doc.log.key) };
}

/** True iff `jobId` is a job of the roster allowed to seal for `domainName`. */
export function jobMaySeal(roster: RosterLike, jobId: string, domainName: string): boolean {
  const j = docOf(roster).jobs.find((x) => x.id === jobId);
  return j?.domains.includes(domainName) === true;
}

/**
 * True iff an unlock of `d` may cite legal basis `code`: the roster lists it and the domain's policy,
 * when it names legal bases, names it.
 */
export function domainAcceptsLegalBasis(roster: RosterLike, d: Domain, code: string): boolean {
  if (!docOf(roster).legalBases.some((l) => l.code === code)) return false;
  return d.policy.legalBases === undefined || d.policy.legalBases.includes(code);
}

/** True iff station `stationId` may ask to unlock `d`: every station, unless the policy names some. */
export const stationMayAsk = (d: Domain, stationId: string): boolean =>
  d.policy.stations === undefined || d.policy.stations.includes(stationId);

/** The organisation of each custodian of a domain (for the K-organisations rule). */
export function organisationsOf(roster: RosterLike, custodianIds: readonly string[]): Set<string> {
  const doc = docOf(roster);
  const out = new Set<string>();
  for (const id of custodianIds) {
    const c = findCustodian(doc, id);
    if (c !== undefined) out.add(c.organisation);
  }
  return out;
}
