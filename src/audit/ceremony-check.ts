/**
 * The auditor's checks of ceremonies, by kind.
 *
 * Unlocks (issue 5): re-run the policy from the signed statements alone — decisions only by
 * custodians of the domain, no release before t approvals from K organisations, after the cool-off,
 * before the deadline, without a veto, and only by an approver; and no decision or release after the
 * ceremony closed. Uses the same policy code as the coordinator and the custodian client
 * (src/protocol/policy.ts), against the roster version each request names.
 *
 * Station ceremonies (key generation, enrolment, rotation, policy change, health check) are known by
 * their signed transcript: it must be the closed transcript its entry names, and a completed
 * ceremony that publishes a roster version must name one the bundle holds. (Signatures and the
 * roster chain are checked by the other steps.)
 */

import { toHex } from '../crypto/bytes.ts';
import { statementId } from '../crypto/statement.ts';
import { evaluateUnlock, type SignedDecision } from '../protocol/policy.ts';
import { DecisionBody, ReleaseBody, UnlockRequestBody } from '../protocol/statements.ts';
import { type RosterDoc, rosterIdHex } from '../roster/index.ts';
import type { CeremonySummary, EntryCheck, ParsedEntry, Report } from './verify.ts';

/** Station ceremonies whose completion publishes a roster version (their `publish-roster` step). */
const PUBLISHING = new Set([
  'key-generation',
  'custodian-enrolment',
  'rotation',
  'offboarding',
  'policy-change',
]);

interface TranscriptBody {
  ceremonyId?: unknown;
  ceremony?: unknown;
  status?: unknown;
  steps?: { step?: unknown; outcome?: unknown; record?: { rosterId?: unknown } }[];
}

/**
 * The checks of one station-ceremony transcript entry; returns what was checked and the first
 * problem, if any.
 */
function checkTranscript(
  e: ParsedEntry,
  rosterIds: ReadonlySet<string>,
): { checks: string[]; problem?: string } {
  const t = (e.statement?.body ?? {}) as TranscriptBody;
  const checks = ['transcript'];
  if (
    t.ceremonyId !== e.data?.['ceremonyId'] ||
    t.ceremony !== e.data?.['ceremony'] ||
    t.status !== e.data?.['status']
  )
    return { checks, problem: 'the signed transcript is not the one its entry names' };
  if (t.status !== 'completed' && t.status !== 'aborted')
    return { checks, problem: `a transcript logged while ${String(t.status)}` };
  if (typeof t.ceremony !== 'string' || !PUBLISHING.has(t.ceremony) || t.status !== 'completed')
    return { checks };
  checks.push('roster version published');
  const publish = (t.steps ?? []).filter((s) => s.step === 'publish-roster' && s.outcome !== 'failed').at(-1);
  const id = publish?.record?.rosterId;
  if (typeof id !== 'string') return { checks, problem: 'completed without a publish-roster step' };
  if (!rosterIds.has(id))
    return { checks, problem: `names roster ${id.slice(0, 16)}…, which the bundle does not hold` };
  return { checks };
}

interface Tracked {
  id: string;
  roster: RosterDoc;
  request: UnlockRequestBody;
  requestHash: string;
  decisions: SignedDecision[];
  closed: boolean;
  violated: boolean;
}

export function ceremonyPolicyCheck(): EntryCheck {
  const rosters = new Map<string, RosterDoc>();
  const ceremonies = new Map<string, Tracked>();
  const transcripts = new Map<string, Partial<CeremonySummary>>();
  const who = (e: ParsedEntry) => (e.statement?.signer ?? '').split('/')[1] ?? '';
  const violate = (report: Report, c: Tracked, seq: number, message: string) => {
    c.violated = true;
    report({ code: 'CEREMONY_POLICY_VIOLATED', seq, message: `ceremony ${c.id}: ${message}` });
  };
  return {
    name: 'ceremony-policy',
    kinds: ['unlock-request', 'approval', 'veto', 'release', 'ceremony-close', 'ceremony-transcript'],
    begin(ctx) {
      for (const v of ctx.rosterVersions) {
        const doc = (v.signed as { roster?: RosterDoc } | null)?.roster;
        try {
          if (doc) rosters.set(rosterIdHex(doc), doc);
        } catch {
          // malformed versions are reported by the roster check
        }
      }
    },
    entry(e, seq, report) {
      const s = e.statement;
      if (!s) return;
      if (e.kind === 'ceremony-transcript') {
        const id = String(e.data?.['ceremonyId']);
        const { checks, problem } = checkTranscript(e, new Set(rosters.keys()));
        if (problem) report({ code: 'CEREMONY_TRANSCRIPT_BAD', seq, message: `ceremony ${id}: ${problem}` });
        transcripts.set(id, { id, checks, policy: problem ? 'violated' : 'ok' });
        return;
      }
      if (e.kind === 'unlock-request') {
        const body = UnlockRequestBody.safeParse(s.body);
        const roster = rosters.get(s.roster);
        if (!body.success || !roster) {
          report({
            code: 'CEREMONY_UNREADABLE',
            seq,
            message: 'unlock request is malformed or names an unknown roster',
          });
          return;
        }
        ceremonies.set(body.data.ceremonyId, {
          id: body.data.ceremonyId,
          roster,
          request: body.data,
          requestHash: toHex(statementId(s)),
          decisions: [],
          closed: false,
          violated: false,
        });
        return;
      }
      const id = (s.body as { ceremonyId?: unknown }).ceremonyId;
      const c = typeof id === 'string' ? ceremonies.get(id) : undefined;
      if (!c) {
        report({
          code: 'CEREMONY_UNKNOWN',
          seq,
          message: `${e.kind} names a ceremony with no logged request`,
        });
        return;
      }
      if (e.kind === 'ceremony-close') {
        c.closed = true;
        return;
      }
      if (c.closed) return violate(report, c, seq, `${e.kind} by ${who(e)} after the ceremony closed`);
      const domain = c.roster.domains.find((d) => d.name === c.request.domain);
      if (!domain) return violate(report, c, seq, `domain ${c.request.domain} is not in the roster`);
      if (e.kind === 'approval' || e.kind === 'veto') {
        const d = DecisionBody.safeParse(s.body);
        if (!d.success || d.data.requestHash !== c.requestHash)
          return violate(report, c, seq, 'a decision names another request');
        if (!domain.custodians.includes(who(e)))
          return violate(report, c, seq, `${who(e)} is not a custodian of ${domain.name}`);
        c.decisions.push({ custodian: who(e), decision: d.data.decision, createdAt: d.data.createdAt });
        return;
      }
      const r = ReleaseBody.safeParse(s.body);
      if (!r.success || r.data.requestHash !== c.requestHash)
        return violate(report, c, seq, 'a release names another request');
      const v = evaluateUnlock(domain, c.roster, c.request, c.decisions, new Date(r.data.createdAt));
      if (v.state !== 'releasable') {
        return violate(
          report,
          c,
          seq,
          `release by ${who(e)} while the ceremony was ${v.state} (${v.approvers.length} of ${domain.threshold} approvals, ${v.organisations.length} of ${domain.minOrganisations} organisations)`,
        );
      }
      if (!v.approvers.includes(who(e))) violate(report, c, seq, `release by ${who(e)}, who did not approve`);
    },
    ceremonies(): Partial<CeremonySummary>[] {
      return [
        ...[...ceremonies.values()].map((c) => ({
          id: c.id,
          checks: ['policy replay'],
          policy: c.violated ? 'violated' : 'ok',
        })),
        ...transcripts.values(),
      ];
    },
  };
}
