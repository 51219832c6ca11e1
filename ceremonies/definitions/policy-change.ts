/**
 * Changing a domain's policy: the organisation rule, cool-off, maximum deadline, veto rule, the legal
 * bases an unlock may cite, the stations allowed to ask and the jobs allowed to seal. A threshold of
 * the domain's custodians (from the organisations its rule needs) sign their approval of the exact
 * new policy, and the change enters a new roster version signed by a quorum of the old and new root
 * (docs/DECISIONS.md#d1, docs/DECISIONS.md#d20). The key is untouched: a threshold change is a re-split,
 * which the rotation ceremony does.
 *
 * Not implemented yet: docs/DECISIONS.md#d46 (a weakening takes effect one cool-off after its log entry
 * and can be vetoed). A weakening published here takes effect at once; the transcript names what it
 * weakens, so the witness and an auditor see it.
 *
 * @example
 * await runCeremony('policy-change', { env, params: { domain: 'land', 'cool-off-seconds': '60', 'min-organisations': '2' } });
 */
import { createHash } from 'node:crypto';
import { canonicalize, type JsonValue } from '../../src/crypto/jcs.ts';
import type { Statement } from '../../src/crypto/statement.ts';
import { OTHER_STATEMENT } from '../../src/protocol/statements.ts';
import { type Domain, domain as domainOf, nextVersion, type RosterDoc } from '../../src/roster/index.ts';
import type { Ceremony, StepResult } from '../engine.ts';
import { alreadyPublished, custodianStatement, publishedWhere, publishRoster } from '../lib.ts';
import {
  DOMAIN_POLICY_PARAMS,
  type DomainPolicy,
  domainPolicy,
  domainPolicyJson,
  id,
  int,
  jobsSealing,
  paramError,
} from '../params.ts';
import { ALL_ROLES, type CeremonyDefinition, CeremonyError, type JsonObject } from '../types.ts';

/** The statement a custodian of the domain signs to approve the new policy. */
export interface PolicyChangeParams {
  domain: string;
  policy: DomainPolicy;
}

export const definition: CeremonyDefinition = {
  name: 'policy-change',
  title: 'Domain policy change',
  purpose:
    "Changes a domain's policy (organisation rule, cool-off, maximum deadline, veto rule, accepted legal bases, stations allowed to ask, jobs allowed to seal) in a new roster version approved by a threshold of the domain's custodians and signed by a quorum of the roster root. A threshold change is a re-split: the rotation ceremony does it.",
  roles: ALL_ROLES,
  params: [
    { name: 'domain', description: 'the domain whose policy changes', required: true, example: 'land' },
    ...DOMAIN_POLICY_PARAMS.map((p) => ({
      ...p,
      description: `${p.description} (default: unchanged)`,
    })),
  ],
  steps: [
    {
      id: 'check-change',
      title: 'Check the roster in force and read the change aloud',
      actor: 'administrator',
      action:
        'Verify the roster chain from the pinned genesis, find the domain, and read aloud its policy in force and the new one, naming every field the change weakens (a lower organisation rule, a shorter cool-off, veto `none`, a longer maximum deadline, an added legal basis, station or job).',
      inputs: ['pinned roster chain', 'the new policy parameters'],
      preconditions: [
        'a threshold of the domain’s custodians is present with their tokens',
        'a threshold of the roster root is present with their tokens',
      ],
      signOffs: ['administrator', 'witness'],
      records: ['roster version and id', 'the policy in force and the new policy', 'what the change weakens'],
    },
    {
      id: 'approve-change',
      title: 'A threshold of the domain’s custodians approve the new policy',
      actor: 'custodians',
      action:
        'Each approving custodian checks the new policy against what was read aloud and signs, in their token, an approval naming this ceremony, the domain, the roster in force and the digest of the new policy.',
      inputs: ['the new policy and its digest'],
      preconditions: ['the change was read aloud'],
      signOffs: ['quorum', 'witness'],
      records: ['signed approvals', 'approvers and their organisations'],
    },
    {
      id: 'publish-roster',
      title: 'Publish the new policy in a new roster version',
      actor: 'custodians',
      action:
        'Build roster version N+1 with the domain’s new policy and the jobs allowed to seal to it; a threshold of the root custodians sign it in their tokens; the coordinator verifies and logs it. If the roster in force already carries exactly this policy (a resume after a crash), nothing is published again.',
      inputs: ['the approved policy', 'roster version N'],
      preconditions: ['a threshold of the domain’s custodians approved'],
      signOffs: ['root-quorum', 'witness'],
      records: ['roster version, id and signers'],
    },
  ],
  onAbort: 'nothing to undo: no key material is touched, and before the publish step nothing is published.',
};

const C = definition.name;

/** SHA-256 (hex) of the JCS of the domain policy as the transcript writes it: what approvers sign. */
const policyDigest = (p: DomainPolicy): string =>
  createHash('sha256')
    .update(canonicalize(domainPolicyJson(p) as unknown as JsonValue))
    .digest('hex');

/** The domain's fields a policy change sets. */
const applied = (d: Domain, p: DomainPolicy): Domain => ({
  ...d,
  minOrganisations: p.minOrganisations,
  policy: p.policy,
});

/** True iff the roster carries `p` for the domain (the publish step already ran). */
function carries(roster: RosterDoc, domain: string, p: DomainPolicy): boolean {
  const d = roster.domains.find((x) => x.name === domain);
  if (!d) return false;
  const jobs = roster.jobs.filter((j) => j.domains.includes(domain)).map((j) => j.id);
  return (
    policyDigest({ minOrganisations: d.minOrganisations, policy: d.policy, jobs }) ===
    policyDigest({ ...p, jobs: roster.jobs.filter((j) => p.jobs.includes(j.id)).map((j) => j.id) })
  );
}

/** The fields in which `next` is weaker than `cur` (docs/DECISIONS.md#d46). */
export function weakenings(cur: DomainPolicy, next: DomainPolicy): string[] {
  const out: string[] = [];
  const added = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
    b === undefined ? a !== undefined : a !== undefined && b.some((x) => !a.includes(x));
  if (next.minOrganisations < cur.minOrganisations) out.push('organisation rule lowered');
  if (next.policy.coolOffSeconds < cur.policy.coolOffSeconds) out.push('cool-off shortened');
  if (next.policy.veto === 'none' && cur.policy.veto !== 'none') out.push('veto set to none');
  if (next.policy.maxDeadlineSeconds > cur.policy.maxDeadlineSeconds) out.push('maximum deadline lengthened');
  if (added(cur.policy.legalBases, next.policy.legalBases)) out.push('legal basis added');
  if (added(cur.policy.stations, next.policy.stations)) out.push('station added');
  if (next.jobs.some((j) => !cur.jobs.includes(j))) out.push('job added');
  return out;
}

const inForce = (roster: RosterDoc, d: Domain): DomainPolicy => ({
  minOrganisations: d.minOrganisations,
  policy: d.policy,
  jobs: roster.jobs.filter((j) => j.domains.includes(d.name)).map((j) => j.id),
});

export const ceremony: Ceremony<PolicyChangeParams> = {
  definition,
  parseParams(raw, env) {
    const domain = id(C, raw, 'domain', true);
    const roster = env.roster();
    const d = roster.domains.find((x) => x.name === domain);
    if (!d) throw paramError(C, `--domain: "${domain}" is not a domain of roster version ${roster.version}`);
    const threshold = int(C, raw, 'threshold', 1, 1024);
    if (threshold !== undefined && threshold !== d.threshold)
      throw paramError(
        C,
        `--threshold: a threshold change is a re-split of the key; run the rotation ceremony (--param domain=${domain} --param threshold=${threshold})`,
      );
    return { domain, policy: domainPolicy(C, raw, roster, d, d) };
  },
  paramsJson: (p) => ({ domain: p.domain, ...domainPolicyJson(p.policy) }),
  actions: {
    async 'check-change'({ env, params }) {
      const roster = env.roster();
      const d = domainOf(roster, params.domain);
      const cur = inForce(roster, d);
      if (policyDigest(cur) === policyDigest(params.policy))
        throw new CeremonyError('ceremony_precondition', `the new policy of "${d.name}" is the one in force`);
      return {
        record: {
          rosterVersion: roster.version,
          rosterId: env.coordinator.rosterId,
          domain: params.domain,
          inForce: domainPolicyJson(cur),
          next: domainPolicyJson(params.policy),
          digest: policyDigest(params.policy),
          weakens: weakenings(cur, params.policy),
          // docs/DECISIONS.md#d46 is not implemented: a weakening takes effect when published.
          takesEffect: 'when published',
        },
      };
    },
    async 'approve-change'({ env, params, ceremonyId }) {
      const roster = env.roster();
      const d = domainOf(roster, params.domain);
      const orgOf = new Map(roster.custodians.map((c) => [c.id, c.organisation]));
      const present = d.custodians.filter((c) => !env.absent.has(c));
      // Enough approvers for the threshold, spanning the organisations the rule in force needs.
      const chosen: string[] = [];
      const orgs = new Set<string>();
      for (const c of present)
        if (!orgs.has(orgOf.get(c)!) && chosen.length < d.threshold) {
          chosen.push(c);
          orgs.add(orgOf.get(c)!);
        }
      for (const c of present) if (chosen.length < d.threshold && !chosen.includes(c)) chosen.push(c);
      if (chosen.length < d.threshold || orgs.size < d.minOrganisations)
        throw new CeremonyError(
          'ceremony_precondition',
          `${present.length} custodians of "${d.name}" are present from ${new Set(present.map((c) => orgOf.get(c))).size} organisations; ${d.threshold} from ${d.minOrganisations} are needed`,
        );
      const digest = policyDigest(params.policy);
      const statements: Statement[] = [];
      for (const c of chosen)
        statements.push(
          await custodianStatement(env, c, OTHER_STATEMENT.policyChangeApproval, {
            ceremonyId,
            domain: d.name,
            policyDigest: digest,
            policy: domainPolicyJson(params.policy) as JsonObject,
          }),
        );
      return {
        record: {
          approvedBy: chosen,
          organisations: [...new Set(chosen.map((c) => orgOf.get(c)!))],
          policyDigest: digest,
        },
        statements,
        who: chosen.map((c) => `custodian/${c}`),
      };
    },
    async 'publish-roster'({ env, params, faults }): Promise<StepResult> {
      // Idempotent against the world: after a crash past the coordinator's store, the roster in force
      // already carries the change; record the version that first did.
      const done = await publishedWhere(env, (r) => carries(r, params.domain, params.policy));
      if (done) return alreadyPublished(done);
      const roster = env.roster();
      const doc = nextVersion(roster, {
        issuedAt: new Date(
          Math.max(Date.parse(roster.issuedAt), Math.floor(env.now().getTime() / 1000) * 1000),
        ),
        domains: roster.domains.map((d) => (d.name === params.domain ? applied(d, params.policy) : d)),
        jobs: jobsSealing(roster, params.domain, params.policy.jobs),
      });
      const res = await publishRoster(env, doc, faults);
      return {
        record: { rosterVersion: res.version, rosterId: res.rosterId, signers: res.signers },
        who: res.signers.map((s) => `custodian/${s}`),
      };
    },
  },
  async abort({ env, params, recordOf }) {
    if (
      recordOf('publish-roster') ||
      (recordOf('check-change') && carries(env.roster(), params.domain, params.policy))
    )
      throw new CeremonyError(
        'ceremony_closed',
        'the new policy is already published; change it back with another policy-change ceremony',
      );
    return { cleanup: { published: false }, statements: [] };
  },
};
