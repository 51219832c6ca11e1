/**
 * The unlock policy of a domain (threshold, distinct organisations, veto, cool-off, deadline),
 * evaluated from signed decisions only, so the coordinator, each custodian's client before it
 * releases (DESIGN decision 2) and an offline auditor reach the same verdict from the same facts.
 * Times are the signed `createdAt` of the statements, which the coordinator only accepts within
 * its clock skew.
 *
 * @example
 * const v = evaluateUnlock(domain, roster, request, decisions, new Date());
 * if (v.state === 'releasable') … // a custodian may now release
 */
import type { Domain, RosterDoc } from '../roster/index.ts';

export interface SignedDecision {
  custodian: string;
  decision: 'approve' | 'veto';
  createdAt: string;
}

export type UnlockState = 'open' | 'cooling-off' | 'releasable' | 'vetoed' | 'expired';

export interface UnlockVerdict {
  state: UnlockState;
  approvers: string[];
  organisations: string[];
  vetoedBy?: string;
  /** When the threshold and the organisation rule were first met. */
  quorumAt?: string;
  /** quorumAt + cool-off: releases are allowed from then on. */
  releaseAfter?: string;
}

export class PolicyError extends Error {
  constructor(
    readonly code: 'not_custodian' | 'bad_deadline',
    message: string,
  ) {
    super(message);
  }
}

/** Checks a request's deadline against the domain policy. */
export function checkDeadline(domain: Domain, createdAt: string, deadline: string): void {
  const c = Date.parse(createdAt);
  const d = Date.parse(deadline);
  if (!(d > c)) throw new PolicyError('bad_deadline', 'the deadline must be after the request time');
  if (d - c > domain.policy.maxDeadlineSeconds * 1000) {
    throw new PolicyError(
      'bad_deadline',
      `the deadline is more than ${domain.policy.maxDeadlineSeconds} s after the request`,
    );
  }
}

export function evaluateUnlock(
  domain: Domain,
  roster: RosterDoc,
  request: { createdAt: string; deadline: string },
  decisions: SignedDecision[],
  now: Date,
): UnlockVerdict {
  const orgOf = new Map(roster.custodians.map((c) => [c.id, c.organisation]));
  const ordered = [...decisions].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
  const seen = new Set<string>();
  const approvers: string[] = [];
  const organisations = new Set<string>();
  let quorumAt: string | undefined;
  let vetoedBy: string | undefined;
  for (const d of ordered) {
    if (!domain.custodians.includes(d.custodian)) {
      throw new PolicyError(
        'not_custodian',
        `"${d.custodian}" is not a custodian of domain "${domain.name}"`,
      );
    }
    if (seen.has(d.custodian)) continue; // one decision per custodian; the first counts
    seen.add(d.custodian);
    if (Date.parse(d.createdAt) > Date.parse(request.deadline)) continue;
    if (d.decision === 'veto') {
      if (domain.policy.veto === 'any' && vetoedBy === undefined) vetoedBy = d.custodian;
      continue;
    }
    approvers.push(d.custodian);
    organisations.add(orgOf.get(d.custodian)!);
    if (
      quorumAt === undefined &&
      approvers.length >= domain.threshold &&
      organisations.size >= domain.minOrganisations
    ) {
      quorumAt = d.createdAt;
    }
  }
  const releaseAfter =
    quorumAt === undefined
      ? undefined
      : new Date(Date.parse(quorumAt) + domain.policy.coolOffSeconds * 1000).toISOString();
  const base = { approvers, organisations: [...organisations], quorumAt, releaseAfter, vetoedBy };
  if (vetoedBy !== undefined) return { ...base, state: 'vetoed' };
  if (now.getTime() > Date.parse(request.deadline)) return { ...base, state: 'expired' };
  if (releaseAfter === undefined) return { ...base, state: 'open' };
  return { ...base, state: now.getTime() >= Date.parse(releaseAfter) ? 'releasable' : 'cooling-off' };
}
