/**
 * The coordinator's state transitions. Each runs in one serialised store transaction together with
 * its audit entry (invariant 4) and the caller's nonce (invariant 7), so a change never exists
 * without its entry, and a replayed request changes nothing. The coordinator keeps only public
 * keys, signed statements and wrapped blobs (invariant 1): it never sees a share, DEK or private key.
 */
import { appendEntry, issueCheckpoint, latestCheckpoint, treeHead } from '../audit/log.ts';
import type { CheckpointSigner } from '../audit/signer.ts';
import { toHex } from '../crypto/bytes.ts';
import { fromBase64Url, type Statement, statementId, verifyStatement } from '../crypto/statement.ts';
import {
  domain as domainOf,
  findEpoch,
  jobMaySeal,
  principalKey,
  type RosterDoc,
  type SignedRoster,
  type VerifiedRoster,
  verifyRosterChain,
  verifyRosterUpdate,
} from '../roster/index.ts';
import type { Store, Trx } from '../store/index.ts';
import { rememberNonce } from '../store/nonces.ts';
import { ApiError } from './errors.ts';
import { checkDeadline, evaluateUnlock, type SignedDecision, type UnlockVerdict } from './policy.ts';
import {
  CloseBody,
  DecisionBody,
  MAX_CLOCK_SKEW_MS,
  ReleaseBody,
  recipientKeysHash,
  SnapshotBody,
  STATEMENT,
  sha256Hex,
  UnlockRequestBody,
} from './protocol.ts';

/** Who is calling, after the auth middleware verified the request signature. */
export interface Caller {
  id: string;
  /** `<role>/<id>`: how statements name their signer and audit entries their actor. */
  ref: string;
  role: 'custodian' | 'station' | 'job' | 'auditor';
  nonce: string;
}

export interface CeremonyView {
  id: string;
  kind: string;
  domain: string;
  epoch: number;
  state: string;
  station: string | null;
  request: Statement;
  requestHash: string;
  deadline: string;
  quorumAt: string | null;
  releaseAfter: string | null;
  closedAt: string | null;
  closeReason: string | null;
  decisions: { custodian: string; decision: 'approve' | 'veto'; statement: Statement; at: string }[];
  releases: { custodian: string; blobHash: string }[];
  verdict: UnlockVerdict;
  /** The signed decisions the verdict was computed from. */
  verdictInputs: SignedDecision[];
}

const CLOSED = new Set(['done', 'vetoed', 'expired', 'cancelled']);

export class Coordinator {
  private trusted: VerifiedRoster;

  /** The last checkpoint failure (reported by /healthz); undefined when the last attempt worked. */
  lastCheckpointError: string | undefined;

  private constructor(
    readonly store: Store,
    trusted: VerifiedRoster,
    private readonly now: () => Date,
    private readonly checkpointer?: CheckpointSigner,
  ) {
    this.trusted = trusted;
  }

  /**
   * Loads the roster chain from the store, verified from the pinned genesis; on an empty store the
   * given genesis is verified against the pin and recorded.
   */
  static async open(
    store: Store,
    opts: { rosterPin: string; genesis?: SignedRoster; now?: () => Date; checkpointer?: CheckpointSigner },
  ) {
    const now = opts.now ?? (() => new Date());
    const rows = await store.db
      .selectFrom('roster_versions')
      .select('signed_json')
      .orderBy('version')
      .execute();
    if (rows.length === 0) {
      if (!opts.genesis)
        throw new ApiError('internal', 'the store holds no roster and no genesis roster was given');
      const chain = verifyRosterChain(opts.rosterPin, [opts.genesis], now());
      const c = new Coordinator(store, chain.current, now, opts.checkpointer);
      await store.transaction(async (trx) => {
        await c.recordRoster(trx, chain.current, 'coordinator');
      });
      return c;
    }
    const chain = verifyRosterChain(
      opts.rosterPin,
      rows.map((r) => JSON.parse(r.signed_json)),
      now(),
    );
    return new Coordinator(store, chain.current, now, opts.checkpointer);
  }

  /**
   * Signs a checkpoint of the committed log when it grew since the last one (DESIGN decision 6: only
   * committed state is signed; the signer refuses, loudly, anything inconsistent with its last one).
   * Runs after every ceremony close and on the server's schedule.
   */
  async checkpoint(): Promise<void> {
    if (!this.checkpointer) return;
    try {
      const [head, last] = await Promise.all([treeHead(this.store.db), latestCheckpoint(this.store.db)]);
      if (last && last.size === head.size) return;
      await issueCheckpoint(this.store, this.checkpointer);
      this.lastCheckpointError = undefined;
    } catch (e) {
      this.lastCheckpointError = (e as Error).message;
    }
  }

  get roster(): RosterDoc {
    return this.trusted.roster;
  }

  get rosterId(): string {
    return this.trusted.rosterId;
  }

  get clock(): Date {
    return this.now();
  }

  // -------------------------------------------------------------------------------------------
  // Roster

  async rosterVersions(): Promise<SignedRoster[]> {
    const rows = await this.store.db
      .selectFrom('roster_versions')
      .select('signed_json')
      .orderBy('version')
      .execute();
    return rows.map((r) => JSON.parse(r.signed_json) as SignedRoster);
  }

  async addRosterVersion(caller: Caller, signed: unknown): Promise<{ version: number; rosterId: string }> {
    let next: VerifiedRoster;
    try {
      next = verifyRosterUpdate(this.trusted, signed, this.now());
    } catch (e) {
      throw new ApiError('policy', (e as Error).message);
    }
    await this.store.transaction(async (trx) => {
      await this.nonce(trx, caller);
      await this.recordRoster(trx, next, caller.ref);
    });
    this.trusted = next;
    return { version: next.roster.version, rosterId: next.rosterId };
  }

  private async recordRoster(trx: Trx, v: VerifiedRoster, actor: string) {
    const signed: SignedRoster = { roster: v.roster, signatures: [...v.signatures] };
    await trx
      .insertInto('roster_versions')
      .values({
        version: signed.roster.version,
        roster_id: v.rosterId,
        signed_json: JSON.stringify(signed),
        created_at: this.now().toISOString(),
      })
      .execute();
    await appendEntry(trx, {
      kind: 'roster-version',
      actor,
      data: {
        version: signed.roster.version,
        rosterId: v.rosterId,
        signers: signed.signatures.map((s) => s.signer),
      },
    });
  }

  // -------------------------------------------------------------------------------------------
  // Snapshots

  async registerSnapshot(caller: Caller, statement: Statement): Promise<void> {
    this.requireRole(caller, 'job', 'register snapshots');
    const body = this.verified(caller, statement, STATEMENT.snapshot, SnapshotBody);
    this.fresh(body.createdAt);
    if (!jobMaySeal(this.roster, caller.id, body.domain)) {
      throw new ApiError('forbidden', `job "${caller.id}" may not seal for domain "${body.domain}"`);
    }
    await this.store.transaction(async (trx) => {
      await this.nonce(trx, caller);
      const dup = await trx.selectFrom('snapshots').select('id').where('id', '=', body.id).executeTakeFirst();
      if (dup) throw new ApiError('conflict', `snapshot "${body.id}" is already registered`);
      const last = await trx
        .selectFrom('snapshots')
        .select((eb) => eb.fn.max('sequence').as('seq'))
        .where('domain', '=', body.domain)
        .executeTakeFirst();
      if (last?.seq != null && body.sequence <= Number(last.seq)) {
        throw new ApiError(
          'conflict',
          `sequence ${body.sequence} is not after the last one (${last.seq}) for "${body.domain}"`,
        );
      }
      await trx
        .insertInto('snapshots')
        .values({
          id: body.id,
          domain: body.domain,
          seal_epoch: body.sealEpoch,
          size: body.size,
          digest: body.digest,
          location: body.location,
          sequence: body.sequence,
          manifest_json: JSON.stringify(statement),
          registered_by: caller.ref,
          registered_at: this.now().toISOString(),
        })
        .execute();
      await appendEntry(trx, { kind: 'snapshot-registration', actor: caller.ref, statement });
    });
  }

  async snapshots(domain?: string) {
    let q = this.store.db.selectFrom('snapshots').selectAll().orderBy('domain').orderBy('sequence');
    if (domain) q = q.where('domain', '=', domain);
    return (await q.execute()).map((r) => ({
      id: r.id,
      domain: r.domain,
      sealEpoch: Number(r.seal_epoch),
      size: Number(r.size),
      digest: r.digest,
      location: r.location,
      sequence: Number(r.sequence),
      registeredBy: r.registered_by,
      registeredAt: r.registered_at,
      statement: JSON.parse(r.manifest_json) as Statement,
    }));
  }

  // -------------------------------------------------------------------------------------------
  // Unlock ceremonies

  async openUnlock(caller: Caller, statement: Statement): Promise<CeremonyView> {
    this.requireRole(caller, 'station', 'open unlock requests');
    const body = this.verified(caller, statement, STATEMENT.unlockRequest, UnlockRequestBody);
    this.fresh(body.createdAt);
    const dom = this.domain(body.domain);
    const epoch = findEpoch(this.roster, body.domain, body.epoch);
    if (!epoch || epoch.retired)
      throw new ApiError('policy', `domain "${body.domain}" has no live epoch ${body.epoch}`);
    if (!this.roster.legalBases.some((l) => l.code === body.justification.legalBasis)) {
      throw new ApiError(
        'policy',
        `legal basis "${body.justification.legalBasis}" is not in the roster's list`,
      );
    }
    try {
      checkDeadline(dom, body.createdAt, body.deadline);
    } catch (e) {
      throw new ApiError('policy', (e as Error).message);
    }
    const requestHash = toHex(statementId(statement));
    await this.store.transaction(async (trx) => {
      await this.nonce(trx, caller);
      const known = await trx
        .selectFrom('snapshots')
        .select(['id', 'domain'])
        .where('id', 'in', body.snapshots)
        .execute();
      for (const s of body.snapshots) {
        const row = known.find((k) => k.id === s);
        if (!row || row.domain !== body.domain) {
          throw new ApiError('policy', `snapshot "${s}" is not registered for domain "${body.domain}"`);
        }
      }
      const dup = await trx
        .selectFrom('ceremonies')
        .select('id')
        .where('id', '=', body.ceremonyId)
        .executeTakeFirst();
      if (dup) throw new ApiError('conflict', `ceremony "${body.ceremonyId}" exists already`);
      await trx
        .insertInto('ceremonies')
        .values({
          id: body.ceremonyId,
          kind: 'unlock',
          domain: body.domain,
          state: 'open',
          station_id: caller.id,
          request_json: JSON.stringify(statement),
          request_hash: requestHash,
          deadline: body.deadline,
          quorum_at: null,
          release_after: null,
          closed_at: null,
          close_reason: null,
          created_at: this.now().toISOString(),
        })
        .execute();
      await appendEntry(trx, { kind: 'unlock-request', actor: caller.ref, statement });
    });
    return this.ceremony(body.ceremonyId);
  }

  async decide(caller: Caller, id: string, statement: Statement): Promise<CeremonyView> {
    this.requireRole(caller, 'custodian', 'approve or veto');
    const body = this.verified(caller, statement, STATEMENT.decision, DecisionBody);
    this.fresh(body.createdAt);
    if (body.ceremonyId !== id) throw new ApiError('bad_request', 'the decision names another ceremony');
    if (body.decision === 'veto' && !body.reason) throw new ApiError('bad_request', 'a veto needs a reason');
    await this.expireIfDue(id);
    await this.store.transaction(async (trx) => {
      await this.nonce(trx, caller);
      const c = await this.loadOpen(trx, id);
      this.checkNames(c, body.requestHash, body.recipientKeys);
      const dom = this.domain(c.domain);
      if (!dom.custodians.includes(caller.id)) {
        throw new ApiError('forbidden', `"${caller.id}" is not a custodian of domain "${c.domain}"`);
      }
      if (caller.id === c.station)
        throw new ApiError('forbidden', 'a requester cannot approve its own request');
      const prior = c.decisions.find((d) => d.custodian === caller.id);
      if (prior)
        throw new ApiError('conflict', `"${caller.id}" already decided (${prior.decision}) on this ceremony`);
      await trx
        .insertInto('approvals')
        .values({
          ceremony_id: id,
          custodian_id: caller.id,
          kind: body.decision,
          statement_json: JSON.stringify(statement),
          statement_hash: toHex(statementId(statement)),
          created_at: this.now().toISOString(),
        })
        .execute();
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
    if (body.decision === 'veto') await this.checkpoint();
    return this.ceremony(id);
  }

  async release(caller: Caller, id: string, statement: Statement, blob: string): Promise<CeremonyView> {
    this.requireRole(caller, 'custodian', 'release shares');
    const body = this.verified(caller, statement, STATEMENT.release, ReleaseBody);
    this.fresh(body.createdAt);
    if (body.ceremonyId !== id) throw new ApiError('bad_request', 'the release names another ceremony');
    const bytes = fromBase64Url(blob);
    if (!bytes || bytes.length < 64 || bytes.length > 8192)
      throw new ApiError('bad_request', 'blob must be base64url, 64..8192 bytes');
    if (sha256Hex(bytes) !== body.blobHash)
      throw new ApiError('bad_request', 'the blob does not match the signed blobHash');
    await this.expireIfDue(id);
    await this.store.transaction(async (trx) => {
      await this.nonce(trx, caller);
      const c = await this.loadOpen(trx, id);
      this.checkNames(c, body.requestHash, body.recipientKeys);
      const mine = await trx
        .selectFrom('approvals')
        .select('kind')
        .where('ceremony_id', '=', id)
        .where('custodian_id', '=', caller.id)
        .executeTakeFirst();
      if (mine?.kind !== 'approve')
        throw new ApiError('forbidden', 'only a custodian who approved may release');
      const v = await this.verdictOf(trx, id);
      if (v.state !== 'releasable') {
        throw new ApiError('wrong_state', `releases are not accepted while the ceremony is ${v.state}`);
      }
      const dup = await trx
        .selectFrom('releases')
        .select('custodian_id')
        .where('ceremony_id', '=', id)
        .where('custodian_id', '=', caller.id)
        .executeTakeFirst();
      if (dup) throw new ApiError('conflict', `"${caller.id}" already released for this ceremony`);
      await trx
        .insertInto('releases')
        .values({
          ceremony_id: id,
          custodian_id: caller.id,
          blob,
          blob_hash: body.blobHash,
          statement_json: JSON.stringify(statement),
          created_at: this.now().toISOString(),
        })
        .execute();
      await appendEntry(trx, { kind: 'release', actor: caller.ref, statement });
    });
    return this.ceremony(id);
  }

  /** The wrapped shares of a ceremony, for its own station only. */
  async releases(caller: Caller, id: string) {
    this.requireRole(caller, 'station', 'fetch releases');
    await this.expireIfDue(id);
    const c = await this.ceremony(id);
    if (c.station !== caller.id)
      throw new ApiError('forbidden', 'only the requesting station may fetch the releases');
    if (CLOSED.has(c.state))
      throw new ApiError('wrong_state', `the ceremony is ${c.state}; its releases are deleted`);
    // A read, but of wrapped shares: its nonce is spent too, so a recorded request cannot be replayed.
    if (!(await rememberNonce(this.store.db, caller.id, caller.nonce, this.now()))) {
      throw new ApiError('replayed', 'this request was seen before (replayed nonce)');
    }
    const rows = await this.store.db
      .selectFrom('releases')
      .selectAll()
      .where('ceremony_id', '=', id)
      .execute();
    return rows.map((r) => ({
      custodian: r.custodian_id,
      blob: r.blob,
      statement: JSON.parse(r.statement_json) as Statement,
    }));
  }

  async close(caller: Caller, id: string, statement: Statement): Promise<CeremonyView> {
    this.requireRole(caller, 'station', 'close ceremonies');
    const body = this.verified(caller, statement, STATEMENT.close, CloseBody);
    this.fresh(body.createdAt);
    if (body.ceremonyId !== id) throw new ApiError('bad_request', 'the close names another ceremony');
    await this.expireIfDue(id);
    await this.store.transaction(async (trx) => {
      await this.nonce(trx, caller);
      const c = await this.loadOpen(trx, id);
      if (c.station !== caller.id)
        throw new ApiError('forbidden', 'only the requesting station may close its ceremony');
      if (body.requestHash !== c.requestHash)
        throw new ApiError('bad_request', 'the close names another request');
      await this.closeIn(trx, id, body.outcome, caller.ref, statement);
      if (body.outcome === 'done') {
        // DESIGN decision 3: an unlock exposes the whole epoch, so every completed unlock opens a rotation.
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
    await this.checkpoint();
    return this.ceremony(id);
  }

  /** Closes every ceremony past its deadline (also done lazily on access). */
  async sweep(): Promise<number> {
    const open = await this.store.db
      .selectFrom('ceremonies')
      .select('id')
      .where('state', 'in', ['open', 'quorum'])
      .where('deadline', '<', this.now().toISOString())
      .execute();
    for (const { id } of open) {
      await this.store.transaction(async (trx) => {
        const row = await trx
          .selectFrom('ceremonies')
          .select('state')
          .where('id', '=', id)
          .executeTakeFirst();
        if (row && !CLOSED.has(row.state)) await this.closeIn(trx, id, 'expired', 'coordinator');
      });
    }
    await this.checkpoint();
    return open.length;
  }

  async ceremonies(state?: string): Promise<CeremonyView[]> {
    let q = this.store.db.selectFrom('ceremonies').select('id').orderBy('created_at');
    if (state === 'pending') q = q.where('state', 'in', ['open', 'quorum']);
    else if (state) q = q.where('state', '=', state);
    const ids = await q.execute();
    return Promise.all(ids.map((r) => this.ceremony(r.id)));
  }

  async ceremony(id: string, db = this.store.db as unknown as Trx): Promise<CeremonyView> {
    const row = await db.selectFrom('ceremonies').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new ApiError('not_found', `no ceremony "${id}"`);
    const request = JSON.parse(row.request_json) as Statement;
    const body = request.body as UnlockRequestBody;
    const decisions = (
      await db
        .selectFrom('approvals')
        .selectAll()
        .where('ceremony_id', '=', id)
        .orderBy('created_at')
        .execute()
    ).map((a) => ({
      custodian: a.custodian_id,
      decision: a.kind,
      statement: JSON.parse(a.statement_json) as Statement,
      at: a.created_at,
    }));
    const releases = (
      await db
        .selectFrom('releases')
        .select(['custodian_id', 'blob_hash'])
        .where('ceremony_id', '=', id)
        .execute()
    ).map((r) => ({ custodian: r.custodian_id, blobHash: r.blob_hash }));
    const verdictInputs: SignedDecision[] = decisions.map((d) => ({
      custodian: d.custodian,
      decision: d.decision,
      createdAt: (d.statement.body as DecisionBody).createdAt,
    }));
    const verdict = evaluateUnlock(this.domain(row.domain), this.roster, body, verdictInputs, this.now());
    const state = CLOSED.has(row.state) ? row.state : verdict.state === 'expired' ? 'expired' : row.state;
    return {
      id,
      kind: row.kind,
      domain: row.domain,
      epoch: body.epoch,
      state,
      station: row.station_id,
      request,
      requestHash: row.request_hash,
      deadline: row.deadline,
      quorumAt: row.quorum_at,
      releaseAfter: row.release_after,
      closedAt: row.closed_at,
      closeReason: row.close_reason,
      decisions,
      releases,
      verdict,
      verdictInputs,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  private async verdictOf(trx: Trx, id: string): Promise<UnlockVerdict> {
    return (await this.ceremony(id, trx)).verdict;
  }

  /** Applies the policy after a decision: veto closes, quorum starts the cool-off. */
  private async advance(trx: Trx, c: CeremonyView, added: SignedDecision): Promise<void> {
    const id = c.id;
    // The view was read in this transaction; the new decision is the only change since.
    const v = evaluateUnlock(
      this.domain(c.domain),
      this.roster,
      c.request.body as UnlockRequestBody,
      [...c.verdictInputs, added],
      this.now(),
    );
    if (v.state === 'vetoed') {
      await this.closeIn(trx, id, 'vetoed', 'coordinator', undefined, { vetoedBy: v.vetoedBy! });
      return;
    }
    if (v.quorumAt && !c.quorumAt) {
      await trx
        .updateTable('ceremonies')
        .set({ state: 'quorum', quorum_at: v.quorumAt, release_after: v.releaseAfter! })
        .where('id', '=', id)
        .execute();
      await appendEntry(trx, {
        kind: 'quorum',
        actor: 'coordinator',
        data: {
          ceremonyId: id,
          approvers: v.approvers,
          organisations: v.organisations,
          releaseAfter: v.releaseAfter!,
        },
      });
    }
  }

  /** Closing deletes the wrapped shares (issue 4): nothing of a closed ceremony can be released later. */
  private async closeIn(
    trx: Trx,
    id: string,
    outcome: 'done' | 'cancelled' | 'vetoed' | 'expired',
    actor: string,
    statement?: Statement,
    extra: Record<string, string> = {},
  ): Promise<void> {
    const deleted = await trx.deleteFrom('releases').where('ceremony_id', '=', id).executeTakeFirst();
    await trx
      .updateTable('ceremonies')
      .set({ state: outcome, closed_at: this.now().toISOString(), close_reason: outcome })
      .where('id', '=', id)
      .execute();
    await appendEntry(trx, {
      kind: 'ceremony-close',
      actor,
      ...(statement ? { statement } : {}),
      data: { ceremonyId: id, outcome, releasesDeleted: Number(deleted.numDeletedRows), ...extra },
    });
  }

  private async loadOpen(trx: Trx, id: string) {
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
  private async expireIfDue(id: string): Promise<void> {
    const row = await this.store.db
      .selectFrom('ceremonies')
      .select(['state', 'deadline'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row || CLOSED.has(row.state) || !(row.deadline < this.now().toISOString())) return;
    await this.store.transaction(async (trx) => {
      const r = await trx.selectFrom('ceremonies').select('state').where('id', '=', id).executeTakeFirst();
      if (r && !CLOSED.has(r.state)) await this.closeIn(trx, id, 'expired', 'coordinator');
    });
  }

  private checkNames(c: CeremonyView, requestHash: string, recipientKeys: string) {
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
      return domainOf(this.roster, name);
    } catch {
      throw new ApiError('not_found', `no domain "${name}" in the roster`);
    }
  }

  private requireRole(caller: Caller, role: Caller['role'], what: string) {
    if (caller.role !== role) throw new ApiError('forbidden', `a ${caller.role} may not ${what}`);
  }

  /** Checks a statement's type, signer, roster and signature, then its body schema. */
  private verified<T>(
    caller: Caller,
    s: Statement,
    type: string,
    schema: {
      safeParse(v: unknown): {
        success: boolean;
        data?: T;
        error?: { issues: { path: PropertyKey[]; message: string }[] };
      };
    },
  ): T {
    if (s.type !== type) throw new ApiError('bad_request', `expected a "${type}" statement`);
    if (s.roster !== this.rosterId)
      throw new ApiError('policy', 'the statement was signed against another roster version');
    if (s.signer !== caller.ref) {
      throw new ApiError('forbidden', 'the statement is signed by someone other than the caller');
    }
    let ok = false;
    try {
      ok = verifyStatement(s, principalKey(this.roster, caller.id));
    } catch {
      ok = false;
    }
    if (!ok) throw new ApiError('bad_signature', `the "${type}" statement's signature does not verify`);
    const r = schema.safeParse(s.body);
    if (!r.success) {
      const i = r.error!.issues[0]!;
      throw new ApiError('bad_request', `statement body: ${i.path.join('.') || '(root)'} ${i.message}`);
    }
    return r.data as T;
  }

  private fresh(createdAt: string) {
    if (Math.abs(Date.parse(createdAt) - this.now().getTime()) > MAX_CLOCK_SKEW_MS) {
      throw new ApiError('stale_request', 'the statement time is too far from the coordinator clock');
    }
  }

  private async nonce(trx: Trx, caller: Caller) {
    if (!(await rememberNonce(trx, caller.id, caller.nonce, this.now()))) {
      throw new ApiError('replayed', 'this request was seen before (replayed nonce)');
    }
  }
}
