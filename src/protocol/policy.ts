/**
 * The unlock policy of a domain (threshold, distinct organisations, veto, cool-off, deadline),
 * evaluated from signed decisions only, so the coordinator, each custodian's client before it
 * releases (docs/DECISIONS.md#d2) and an offline auditor reach the same verdict from the same facts.
 * Times are the signed `createdAt` of the statements, which the coordinator only accepts within
 * its clock skew.
 *
 * The verdict is discriminated by its state: only a `cooling-off` or `releasable` verdict carries
 * (and always carries) `quorumAt` and `releaseAfter`, only a `vetoed` one names `vetoedBy`.
 *
 * @example
 * const v = evaluateUnlock(domain, roster, request, decisions, new Date());
 * if (v.state === 'releasable') … // a custodian may now release
 * if (v.state === 'cooling-off') console.log(`wait until ${v.releaseAfter}`);
 */
import { z } from 'zod';
import { EmbassyError } from '../errors.ts';
import type { Domain, RosterDoc } from '../roster/index.ts';
import { Rfc3339 } from './ids.ts';

/** A decision as the policy sees it: who, what, and the signed time. */
export const SignedDecision = z.object({
  custodian: z.string(),
  decision: z.enum(['approve', 'veto']),
  createdAt: Rfc3339,
});
export type SignedDecision = z.infer<typeof SignedDecision>;

const tally = {
  /** Custodians who approved in time, in the order their decisions were signed. */
  approvers: z.array(z.string()),
  /** The distinct organisations of the approvers. */
  organisations: z.array(z.string()),
};
/** When the threshold and the organisation rule were first met, and that time plus the cool-off. */
const quorum = { quorumAt: Rfc3339, releaseAfter: Rfc3339 };

export const UnlockVerdict = z.discriminatedUnion('state', [
  /** Not (yet) enough approvals. */
  z.object({ state: z.literal('open'), ...tally }),
  /** Quorum reached; releases are allowed from `releaseAfter` on, and a veto still stops it. */
  z.object({ state: z.literal('cooling-off'), ...tally, ...quorum }),
  z.object({ state: z.literal('releasable'), ...tally, ...quorum }),
  /** A custodian vetoed (policy `veto: any`); a quorum reached before the veto is still shown. */
  z.object({ state: z.literal('vetoed'), vetoedBy: z.string(), ...tally, ...partial(quorum) }),
  /** The deadline passed without a veto. */
  z.object({ state: z.literal('expired'), ...tally, ...partial(quorum) }),
]);
export type UnlockVerdict = z.infer<typeof UnlockVerdict>;
export type UnlockState = UnlockVerdict['state'];

function partial<T extends Record<string, z.ZodType>>(shape: T) {
  return Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, v.optional()])) as {
    [K in keyof T]: z.ZodOptional<T[K]>;
  };
}

export class PolicyError extends EmbassyError<'not_custodian' | 'bad_deadline'> {}

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
  const t = { approvers, organisations: [...organisations] };
  const q =
    quorumAt === undefined
      ? undefined
      : {
          quorumAt,
          releaseAfter: new Date(Date.parse(quorumAt) + domain.policy.coolOffSeconds * 1000).toISOString(),
        };
  if (vetoedBy !== undefined) return { state: 'vetoed', vetoedBy, ...t, ...q };
  if (now.getTime() > Date.parse(request.deadline)) return { state: 'expired', ...t, ...q };
  if (q === undefined) return { state: 'open', ...t };
  return { state: now.getTime() >= Date.parse(q.releaseAfter) ? 'releasable' : 'cooling-off', ...t, ...q };
}
