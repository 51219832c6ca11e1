/**
 * The auditor's replay of unlock ceremonies (issue 5): for every ceremony in a bundle, re-run the
 * policy from the signed statements alone — decisions only by custodians of the domain, no release
 * before t approvals from K organisations, after the cool-off, before the deadline, without a veto,
 * and only by an approver; and no decision or release after the ceremony closed. Uses the same
 * policy code as the coordinator and the custodian client (src/protocol/policy.ts), against the
 * roster version each request names (signatures and the roster chain are checked by the other steps).
 */

import { toHex } from '../crypto/bytes.ts';
import { statementId } from '../crypto/statement.ts';
import { evaluateUnlock, type SignedDecision } from '../protocol/policy.ts';
import { DecisionBody, ReleaseBody, UnlockRequestBody } from '../protocol/statements.ts';
import { type RosterDoc, rosterIdHex } from '../roster/index.ts';
import type { CeremonySummary, EntryCheck, ParsedEntry, Report } from './verify.ts';

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
  const who = (e: ParsedEntry) => (e.statement?.signer ?? '').split('/')[1] ?? '';
  const violate = (report: Report, c: Tracked, seq: number, message: string) => {
    c.violated = true;
    report({ code: 'CEREMONY_POLICY_VIOLATED', seq, message: `ceremony ${c.id}: ${message}` });
  };
  return {
    name: 'ceremony-policy',
    kinds: ['unlock-request', 'approval', 'veto', 'release', 'ceremony-close'],
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
      return [...ceremonies.values()].map((c) => ({ id: c.id, policy: c.violated ? 'violated' : 'ok' }));
    },
  };
}
