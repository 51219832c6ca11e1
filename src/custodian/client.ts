/**
 * The custodian's side of an unlock, two-phase (docs/DECISIONS.md#d2). `decide` signs an approval or
 * veto in the custodian's token; it carries no share. `release` lets the token release the share
 * only after this client itself checked, against its pinned roster and from signed statements
 * alone, that ≥ t custodians of ≥ K organisations approved, nobody vetoed, the cool-off elapsed and
 * the deadline has not passed; and only once per ceremony and recipient key (the journal).
 */
import type { Custodian } from '../../hsm/index.ts';
import { toBase64Url } from '../crypto/statement.ts';
import { EmbassyError } from '../errors.ts';
import { type CheckedCeremony, checkCeremony } from '../protocol/check.ts';
import type { CoordinatorClient } from '../protocol/client.ts';
import { sha256Hex } from '../protocol/request.ts';
import { STATEMENT } from '../protocol/statements.ts';
import type { CeremonyView } from '../protocol/views.ts';
import type { RosterDoc } from '../roster/index.ts';
import type { ReleaseJournal } from './journal.ts';

export interface CustodianSession {
  id: string;
  roster: RosterDoc;
  client: CoordinatorClient;
  token: Custodian;
  journal: ReleaseJournal;
  now?: () => Date;
}

export class ReleaseRefused extends EmbassyError<'release_refused'> {
  constructor(message: string) {
    super('release_refused', message);
  }
}

const now = (s: CustodianSession) => s.now?.() ?? new Date();

/** Ceremonies of this custodian's domains that still take decisions, each checked against the roster. */
export async function pendingCeremonies(s: CustodianSession): Promise<CheckedCeremony[]> {
  const { ceremonies } = await s.client.get<{ ceremonies: CeremonyView[] }>('/v1/ceremonies?state=pending');
  return ceremonies
    .map((v) => checkCeremony(s.roster, v, now(s)))
    .filter((c) => s.roster.domains.some((d) => d.name === c.request.domain && d.custodians.includes(s.id)));
}

export async function showCeremony(s: CustodianSession, id: string): Promise<CheckedCeremony> {
  return checkCeremony(s.roster, await s.client.get<CeremonyView>(`/v1/ceremonies/${id}`), now(s));
}

export async function decide(s: CustodianSession, id: string, decision: 'approve' | 'veto', reason?: string) {
  const c = await showCeremony(s, id);
  const statement = await s.client.statement(STATEMENT.decision, {
    ceremonyId: id,
    requestHash: c.requestHash,
    decision,
    recipientKeys: c.recipientKeys,
    ...(reason ? { reason } : {}),
    createdAt: now(s).toISOString(),
  });
  return s.client.post<CeremonyView>(`/v1/ceremonies/${id}/decisions`, statement);
}

export async function release(s: CustodianSession, id: string): Promise<CeremonyView> {
  const c = await showCeremony(s, id);
  const v = c.verdict;
  if (v.state !== 'releasable') {
    throw new ReleaseRefused(
      v.state === 'cooling-off'
        ? `the cool-off runs until ${v.releaseAfter}; the share stays in the token`
        : `the ceremony is ${v.state} (${v.approvers.length} approvals from ${v.organisations.length} organisations); the share stays in the token`,
    );
  }
  if (!v.approvers.includes(s.id)) throw new ReleaseRefused('this custodian has not approved the request');
  const r = {
    domain: c.request.domain,
    epoch: c.request.epoch,
    ceremony: Buffer.from(c.requestHash, 'hex'),
    recipientP256: c.recipientP256,
    recipientXWing: c.recipientXWing,
  };
  s.journal.record(r);
  const blob = await s.token.releaseShare({ ...r, custodian: s.id });
  const statement = await s.client.statement(STATEMENT.release, {
    ceremonyId: id,
    requestHash: c.requestHash,
    recipientKeys: c.recipientKeys,
    blobHash: sha256Hex(blob),
    createdAt: now(s).toISOString(),
  });
  return s.client.post<CeremonyView>(`/v1/ceremonies/${id}/releases`, { statement, blob: toBase64Url(blob) });
}
