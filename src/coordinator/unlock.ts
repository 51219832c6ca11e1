/**
 * The unlock state machine. A station opens a ceremony with a signed request; custodians approve or
 * veto (phase one, no share); a quorum starts the cool-off; after it, approvers release wrapped
 * shares (phase two) that only the requesting station may fetch; the station closes the ceremony,
 * and a veto or the deadline closes it too. Closing deletes the wrapped shares, and a completed
 * unlock requires a rotation of the epoch it exposed (docs/DECISIONS.md#d3). Each transition runs in
 * one serialised store transaction with its audit entry (invariant 4) and the caller's nonce
 * (invariant 7); the policy verdict comes from src/protocol/policy.ts, the code the clients and the
 * auditor run too.
 */
import { appendEntry } from '../audit/log.ts';
import { toHex } from '../crypto/bytes.ts';
import { fromBase64Url, type Statement, statementId } from '../crypto/statement.ts';
import type { CeremonyId, DomainId } from '../protocol/ids.ts';
import { checkDeadline, evaluateUnlock, PolicyError, type SignedDecision } from '../protocol/policy.ts';
import { sha256Hex } from '../protocol/request.ts';
import { recipientKeysHash, STATEMENT, type UnlockRequestBody } from '../protocol/statements.ts';
import type { CeremonyState, CeremonyView, ReleaseView, StatementView } from '../protocol/views.ts';
import { domainAcceptsLegalBasis, domain as domainOf, findEpoch, stationMayAsk } from '../roster/index.ts';
import type { Trx } from '../store/index.ts';
import { acceptStatement, type Caller, type Context, requireRole, spendNonce } from './caller.ts';
import { ApiError } from './errors.ts';
import {
  type CeremonyRecord,
  ceremonyExists,
  ceremonyRecords,
  ceremonyStatus,
  closeCeremony,
  type Db,
  decisionOf,
  hasReleased,
  insertCeremony,
  insertDecision,
  insertRelease,
  markQuorum,
  overdueCeremonies,
  releases,
  snapshotDomains,
} from './repository.ts';

const CLOSED = new Set<CeremonyState>(['done', 'vetoed', 'expired', 'cancelled']);

export class UnlockService {
  /** `afterClose` runs after a ceremony closed (it signs a checkpoint of the grown log). */
  constructor(
    private readonly ctx: Context,
    private readonly afterClose: () => Promise<void>,
  ) {}

  async open(caller: Caller, statement: Statement): Promise<CeremonyView> {
    const { ctx } = this;
    const body = acceptStatement(ctx, caller, statement, STATEMENT.unlockRequest, 'open unlock requests');
    const dom = this.domain(body.domain);
    const roster = ctx.roster().roster;
    const epoch = findEpoch(roster, body.domain, body.epoch);
    if (!epoch || epoch.retired)
      throw new ApiError('policy', `domain "${body.domain}" has no live epoch ${body.epoch}`);
    if (!domainAcceptsLegalBasis(roster, dom, body.justification.legalBasis)) {
      throw new ApiError(
        'policy',
        `legal basis "${body.justification.legalBasis}" is not accepted for domain "${body.domain}"`,
      );
    }
    if (!stationMayAsk(dom, caller.id))
      throw new ApiError('policy', `station "${caller.id}" may not ask to unlock domain "${body.domain}"`);
    try {
      checkDeadline(dom, body.createdAt, body.deadline);
    } catch (e) {
      if (e instanceof PolicyError) throw new ApiError('policy', e.message);
      throw e;
    }
    await ctx.store.transaction(async (trx) => {
      await spendNonce(trx, caller, ctx.now());
      const known = await snapshotDomains(trx, body.snapshots);
      for (const s of body.snapshots) {
        if (known.get(s) !== body.domain) {
          throw new ApiError('policy', `snapshot "${s}" is not registered for domain "${body.domain}"`);
        }
      }
      if (await ceremonyExists(trx, body.ceremonyId))
        throw new ApiError('conflict', `ceremony "${body.ceremonyId}" exists already`);
      await insertCeremony(trx, {
        id: body.ceremonyId,
        kind: 'unlock',
        domain: body.domain,
        state: 'open',
        station_id: caller.id,
        request_json: JSON.stringify(statement),
        request_hash: toHex(statementId(statement)),
        deadline: body.deadline,
        quorum_at: null,
        release_after: null,
        closed_at: null,
        close_reason: null,
        created_at: ctx.now().toISOString(),
      });
      await appendEntry(trx, { kind: 'unlock-request', actor: caller.ref, statement });
    });
    return this.ceremony(body.ceremonyId);
  }

  async decide(caller: Caller, id: CeremonyId, statement: Statement): Promise<CeremonyView> {
    const { ctx } = this;
    const body = acceptStatement(ctx, caller, statement, STATEMENT.decision, 'approve or veto');
    if (body.ceremonyId !== id) throw new ApiError('bad_request', 'the decision names another ceremony');
    if (body.decision === 'veto' && !body.reason) throw new ApiError('bad_request', 'a veto needs a reason');
    await this.expireIfDue(id);
    await ctx.store.transaction(async (trx) => {
      await spendNonce(trx, caller, ctx.now());
      const c = await this.loadOpen(trx, id);
      this.checkNames(c, body.requestHash, body.recipientKeys);
      if (!this.domain(c.domain).custodians.includes(caller.id)) {
        throw new ApiError('forbidden', `"${caller.id}" is not a custodian of domain "${c.domain}"`);
      }
      if (caller.id === c.station)
        throw new ApiError('forbidden', 'a requester cannot approve its own request');
      const prior = c.decisions.find((d) => d.custodian === caller.id);
      if (prior)
        throw new ApiError('conflict', `"${caller.id}" already decided (${prior.decision}) on this ceremony`);
      await insertDecision(trx, {
        ceremonyId: id,
        custodian: caller.id,
        decision: body.decision,
        statement,
        statementHash: toHex(statementId(statement)),
        at: ctx.now().toISOString(),
      });
      await appendEntry(trx, {
        kind: body.decision === 'veto' ? 'veto' : 'approval',
        actor: caller.ref,
        statement,
      });
      await this.advance(trx, c, {
        custodian: caller.id,
        decision: body.decision,
        createdAt: body.createdAt,
      });
    });
    if (body.decision === 'veto') await this.afterClose();
    return this.ceremony(id);
  }

  async release(caller: Caller, id: CeremonyId, statement: Statement, blob: string): Promise<CeremonyView> {
    const { ctx } = this;
    const body = acceptStatement(ctx, caller, statement, STATEMENT.release, 'release shares');
    if (body.ceremonyId !== id) throw new ApiError('bad_request', 'the release names another ceremony');
    const bytes = fromBase64Url(blob);
    if (!bytes || bytes.length < 64 || bytes.length > 8192)
      throw new ApiError('bad_request', 'blob must be base64url, 64..8192 bytes');
    if (sha256Hex(bytes) !== body.blobHash)
      throw new ApiError('bad_request', 'the blob does not match the signed blobHash');
    await this.expireIfDue(id);
    await ctx.store.transaction(async (trx) => {
      await spendNonce(trx, caller, ctx.now());
      const c = await this.loadOpen(trx, id);
      this.checkNames(c, body.requestHash, body.recipientKeys);
      if ((await decisionOf(trx, id, caller.id)) !== 'approve')
        throw new ApiError('forbidden', 'only a custodian who approved may release');
      const v = (await this.ceremony(id, trx)).verdict;
      if (v.state !== 'releasable') {
        throw new ApiError('wrong_state', `releases are not accepted while the ceremony is ${v.state}`);
      }
      if (await hasReleased(trx, id, caller.id))
        throw new ApiError('conflict', `"${caller.id}" already released for this ceremony`);
      await insertRelease(trx, {
        ceremonyId: id,
        custodian: caller.id,
        blob,
        blobHash: body.blobHash,
        statement,
        at: ctx.now().toISOString(),
      });
      await appendEntry(trx, { kind: 'release', actor: caller.ref, statement });
    });
    return this.ceremony(id);
  }

  /** The wrapped shares of a ceremony, for its own station only. */
  async releases(caller: Caller, id: CeremonyId): Promise<ReleaseView[]> {
    requireRole(caller, 'station', 'fetch releases');
    await this.expireIfDue(id);
    const c = await this.ceremony(id);
    if (c.station !== caller.id)
      throw new ApiError('forbidden', 'only the requesting station may fetch the releases');
    if (CLOSED.has(c.state))
      throw new ApiError('wrong_state', `the ceremony is ${c.state}; its releases are deleted`);
    // A read, but of wrapped shares: its nonce is spent too, so a recorded request cannot be replayed.
    await spendNonce(this.ctx.store.db, caller, this.ctx.now());
    return (await releases(this.ctx.store.db, id)) as ReleaseView[];
  }

  async close(caller: Caller, id: CeremonyId, statement: Statement): Promise<CeremonyView> {
    const { ctx } = this;
    const body = acceptStatement(ctx, caller, statement, STATEMENT.close, 'close ceremonies');
    if (body.ceremonyId !== id) throw new ApiError('bad_request', 'the close names another ceremony');
    await this.expireIfDue(id);
    await ctx.store.transaction(async (trx) => {
      await spendNonce(trx, caller, ctx.now());
      const c = await this.loadOpen(trx, id);
      if (c.station !== caller.id)
        throw new ApiError('forbidden', 'only the requesting station may close its ceremony');
      if (body.requestHash !== c.requestHash)
        throw new ApiError('bad_request', 'the close names another request');
      await this.closeIn(trx, id, body.outcome, caller.ref, statement);
      if (body.outcome === 'done') {
        // docs/DECISIONS.md#d3: an unlock exposes the whole epoch, so every completed unlock opens a rotation.
        await appendEntry(trx, {
          kind: 'rotation-required',
          actor: 'coordinator',
          data: {
            domain: c.domain,
            epoch: c.epoch,
            ceremonyId: id,
            reason: 'completed unlock exposed the epoch key',
          },
        });
      }
    });
    await this.afterClose();
    return this.ceremony(id);
  }

  /** Closes every ceremony past its deadline (also done lazily on access); returns how many. */
  async sweep(): Promise<number> {
    const { ctx } = this;
    const overdue = await overdueCeremonies(ctx.store.db, ctx.now().toISOString());
    for (const id of overdue) {
      await ctx.store.transaction(async (trx) => {
        const s = await ceremonyStatus(trx, id);
        if (s && !CLOSED.has(s.state)) await this.closeIn(trx, id, 'expired', 'coordinator');
      });
    }
    await this.afterClose();
    return overdue.length;
  }

  /** Ceremonies, oldest first: those in a `state`, `pending` for the ones that take decisions, or all. */
  async ceremonies(state?: string): Promise<CeremonyView[]> {
    const records = await ceremonyRecords(this.ctx.store.db, this.ctx.store.dialect, state ? { state } : {});
    return records.map((r) => this.view(r));
  }

  async ceremony(id: string, db: Db = this.ctx.store.db): Promise<CeremonyView> {
    const [record] = await ceremonyRecords(db, this.ctx.store.dialect, { id });
    if (!record) throw new ApiError('not_found', `no ceremony "${id}"`);
    return this.view(record);
  }

  // -------------------------------------------------------------------------------------------

  /** The served view: the stored ceremony with the policy verdict recomputed from its signed decisions. */
  private view(r: CeremonyRecord): CeremonyView {
    const body = r.request.body as UnlockRequestBody;
    const verdictInputs: SignedDecision[] = r.decisions.map((d) => ({
      custodian: d.custodian,
      decision: d.decision,
      createdAt: (d.statement.body as { createdAt: string }).createdAt,
    }));
    const verdict = evaluateUnlock(
      this.domain(r.domain),
      this.ctx.roster().roster,
      body,
      verdictInputs,
      this.ctx.now(),
    );
    return {
      id: r.id as CeremonyId,
      kind: r.kind,
      domain: r.domain as DomainId,
      epoch: body.epoch,
      state: CLOSED.has(r.state) ? r.state : verdict.state === 'expired' ? 'expired' : r.state,
      station: r.station,
      request: r.request as StatementView,
      requestHash: r.requestHash,
      deadline: r.deadline,
      quorumAt: r.quorumAt,
      releaseAfter: r.releaseAfter,
      closedAt: r.closedAt,
      closeReason: r.closeReason,
      decisions: r.decisions.map((d) => ({ ...d, statement: d.statement as StatementView })),
      releases: r.releases,
      verdict,
      verdictInputs,
    };
  }

  /** Applies the policy after a decision: veto closes, quorum starts the cool-off. */
  private async advance(trx: Trx, c: CeremonyView, added: SignedDecision): Promise<void> {
    // The view was read in this transaction; the new decision is the only change since.
    const v = evaluateUnlock(
      this.domain(c.domain),
      this.ctx.roster().roster,
      c.request.body as UnlockRequestBody,
      [...c.verdictInputs, added],
      this.ctx.now(),
    );
    if (v.state === 'vetoed') {
      await this.closeIn(trx, c.id, 'vetoed', 'coordinator', undefined, { vetoedBy: v.vetoedBy });
      return;
    }
    if (v.state !== 'open' && v.quorumAt !== undefined && !c.quorumAt) {
      await markQuorum(trx, c.id, { quorumAt: v.quorumAt, releaseAfter: v.releaseAfter! });
      await appendEntry(trx, {
        kind: 'quorum',
        actor: 'coordinator',
        data: {
          ceremonyId: c.id,
          approvers: v.approvers,
          organisations: v.organisations,
          releaseAfter: v.releaseAfter!,
        },
      });
    }
  }

  /** Closing deletes the wrapped shares: nothing of a closed ceremony can be released later. */
  private async closeIn(
    trx: Trx,
    id: string,
    outcome: 'done' | 'cancelled' | 'vetoed' | 'expired',
    actor: string,
    statement?: Statement,
    extra: Record<string, string> = {},
  ): Promise<void> {
    const releasesDeleted = await closeCeremony(trx, id, outcome, this.ctx.now().toISOString());
    await appendEntry(trx, {
      kind: 'ceremony-close',
      actor,
      ...(statement ? { statement } : {}),
      data: { ceremonyId: id, outcome, releasesDeleted, ...extra },
    });
  }

  private async loadOpen(trx: Trx, id: CeremonyId): Promise<CeremonyView> {
    const c = await this.ceremony(id, trx);
    if (c.state === 'expired' && !c.closedAt) {
      // The refusal rolls this transaction back, so the close is made in its own transaction first
      // (expireIfDue); this only happens when the deadline passes between the two.
      throw new ApiError('wrong_state', 'the ceremony has expired');
    }
    if (CLOSED.has(c.state)) throw new ApiError('wrong_state', `the ceremony is ${c.state}`);
    return c;
  }

  /**
   * Closes a ceremony past its deadline as expired (deleting its wrapped shares) in a transaction of
   * its own, before a request that would be refused for it: a close inside the refused request's
   * transaction would be rolled back with it.
   */
  private async expireIfDue(id: CeremonyId): Promise<void> {
    const { ctx } = this;
    const s = await ceremonyStatus(ctx.store.db, id);
    if (!s || CLOSED.has(s.state) || !(s.deadline < ctx.now().toISOString())) return;
    await ctx.store.transaction(async (trx) => {
      const r = await ceremonyStatus(trx, id);
      if (r && !CLOSED.has(r.state)) await this.closeIn(trx, id, 'expired', 'coordinator');
    });
  }

  private checkNames(c: CeremonyView, requestHash: string, recipientKeys: string): void {
    if (requestHash !== c.requestHash)
      throw new ApiError('bad_request', 'the statement names another request');
    const body = c.request.body as UnlockRequestBody;
    const expected = recipientKeysHash(
      fromBase64Url(body.recipientP256)!,
      fromBase64Url(body.recipientXWing)!,
    );
    if (recipientKeys !== expected)
      throw new ApiError('bad_request', 'the statement names other recipient keys');
  }

  private domain(name: string) {
    try {
      return domainOf(this.ctx.roster().roster, name);
    } catch {
      throw new ApiError('not_found', `no domain "${name}" in the roster`);
    }
  }
}
