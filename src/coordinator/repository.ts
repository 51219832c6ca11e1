/**
 * Every SQL statement of the coordinator, over the store's Kysely handle. Each function takes the
 * handle to run on: `store.db` for a read that needs no serialisation, or the `trx` of the
 * {@link Store.transaction} a state change runs in (a transaction is a Kysely handle too). The
 * services above decide what to change and which audit entry goes with it; this module only moves
 * rows. Stored statements are canonical JSON text and come back parsed.
 *
 * @example
 * await store.transaction(async (trx) => {
 *   if (await ceremonyExists(trx, id)) throw conflict();
 *   await insertCeremony(trx, row);
 * });
 * const [view] = await ceremonyRecords(store.db, store.dialect, { id });
 */
import type { Kysely } from 'kysely';
import { jsonArrayFrom as pgJsonArrayFrom } from 'kysely/helpers/postgres';
import { jsonArrayFrom as sqliteJsonArrayFrom } from 'kysely/helpers/sqlite';
import type { Statement } from '../crypto/statement.ts';
import type { CeremonyState, SnapshotView } from '../protocol/views.ts';
import type { SignedRoster } from '../roster/index.ts';
import type { Dialect, NewCeremony, Schema } from '../store/index.ts';

/** A store handle: `store.db` or a transaction. */
export type Db = Kysely<Schema>;

const OPEN_STATES = ['open', 'quorum'];

// ---------------------------------------------------------------------------------------------
// Roster versions

export async function rosterVersions(db: Db): Promise<SignedRoster[]> {
  const rows = await db.selectFrom('roster_versions').select('signed_json').orderBy('version').execute();
  return rows.map((r) => JSON.parse(r.signed_json) as SignedRoster);
}

export async function insertRosterVersion(
  db: Db,
  v: { signed: SignedRoster; rosterId: string; createdAt: string },
): Promise<void> {
  await db
    .insertInto('roster_versions')
    .values({
      version: v.signed.roster.version,
      roster_id: v.rosterId,
      signed_json: JSON.stringify(v.signed),
      created_at: v.createdAt,
    })
    .execute();
}

// ---------------------------------------------------------------------------------------------
// Snapshots

export async function snapshotExists(db: Db, id: string): Promise<boolean> {
  return (
    (await db.selectFrom('snapshots').select('id').where('id', '=', id).executeTakeFirst()) !== undefined
  );
}

/** The highest registered sequence number of a domain, or undefined when it has none. */
export async function lastSnapshotSequence(db: Db, domain: string): Promise<number | undefined> {
  const r = await db
    .selectFrom('snapshots')
    .select((eb) => eb.fn.max('sequence').as('seq'))
    .where('domain', '=', domain)
    .executeTakeFirst();
  return r?.seq == null ? undefined : Number(r.seq);
}

export async function insertSnapshot(
  db: Db,
  s: Omit<SnapshotView, 'statement'> & { statement: Statement },
): Promise<void> {
  await db
    .insertInto('snapshots')
    .values({
      id: s.id,
      domain: s.domain,
      seal_epoch: s.sealEpoch,
      size: s.size,
      digest: s.digest,
      location: s.location,
      sequence: s.sequence,
      manifest_json: JSON.stringify(s.statement),
      registered_by: s.registeredBy,
      registered_at: s.registeredAt,
    })
    .execute();
}

/** Registered snapshots, by domain and sequence. */
export async function snapshots(db: Db, domain?: string): Promise<SnapshotView[]> {
  let q = db.selectFrom('snapshots').selectAll().orderBy('domain').orderBy('sequence');
  if (domain) q = q.where('domain', '=', domain);
  return (await q.execute()).map((r) => ({
    id: r.id as SnapshotView['id'],
    domain: r.domain as SnapshotView['domain'],
    sealEpoch: Number(r.seal_epoch),
    size: Number(r.size),
    digest: r.digest,
    location: r.location,
    sequence: Number(r.sequence),
    registeredBy: r.registered_by as SnapshotView['registeredBy'],
    registeredAt: r.registered_at,
    statement: JSON.parse(r.manifest_json) as Statement as SnapshotView['statement'],
  }));
}

/** The domain of each of these snapshots that is registered. */
export async function snapshotDomains(db: Db, ids: readonly string[]): Promise<Map<string, string>> {
  const rows = await db.selectFrom('snapshots').select(['id', 'domain']).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, r.domain]));
}

// ---------------------------------------------------------------------------------------------
// Ceremonies

/** A ceremony as stored, with its decisions (oldest first) and who released. */
export interface CeremonyRecord {
  id: string;
  kind: string;
  domain: string;
  state: CeremonyState;
  station: string | null;
  request: Statement;
  requestHash: string;
  deadline: string;
  quorumAt: string | null;
  releaseAfter: string | null;
  closedAt: string | null;
  closeReason: string | null;
  createdAt: string;
  decisions: { custodian: string; decision: 'approve' | 'veto'; statement: Statement; at: string }[];
  releases: { custodian: string; blobHash: string }[];
}

export async function ceremonyExists(db: Db, id: string): Promise<boolean> {
  return (
    (await db.selectFrom('ceremonies').select('id').where('id', '=', id).executeTakeFirst()) !== undefined
  );
}

export async function insertCeremony(db: Db, row: NewCeremony): Promise<void> {
  await db.insertInto('ceremonies').values(row).execute();
}

/**
 * Ceremonies with their decisions and releases in ONE query (each ceremony's rows aggregated into
 * JSON arrays by the database), oldest first: one by `id`, those in a `state`, `pending` for the open
 * ones (`open` or `quorum`), or all.
 */
export async function ceremonyRecords(
  db: Db,
  dialect: Dialect,
  filter: { id: string } | { state?: string },
): Promise<CeremonyRecord[]> {
  const jsonArrayFrom = dialect === 'postgres' ? pgJsonArrayFrom : sqliteJsonArrayFrom;
  let q = db
    .selectFrom('ceremonies')
    .selectAll('ceremonies')
    .select((eb) => [
      jsonArrayFrom(
        eb
          .selectFrom('approvals')
          .select(['custodian_id', 'kind', 'statement_json', 'created_at'])
          .whereRef('approvals.ceremony_id', '=', 'ceremonies.id')
          .orderBy('approvals.created_at'),
      ).as('decisions'),
      jsonArrayFrom(
        eb
          .selectFrom('releases')
          .select(['custodian_id', 'blob_hash'])
          .whereRef('releases.ceremony_id', '=', 'ceremonies.id'),
      ).as('releases'),
    ])
    .orderBy('ceremonies.created_at');
  if ('id' in filter) q = q.where('ceremonies.id', '=', filter.id);
  else if (filter.state === 'pending') q = q.where('ceremonies.state', 'in', OPEN_STATES);
  else if (filter.state) q = q.where('ceremonies.state', '=', filter.state);
  // SQLite hands the aggregated arrays back as JSON text, PostgreSQL as parsed JSON.
  const parsed = <T>(v: T[] | string): T[] => (typeof v === 'string' ? (JSON.parse(v) as T[]) : v);
  return (await q.execute()).map((r) => ({
    id: r.id,
    kind: r.kind,
    domain: r.domain,
    state: r.state as CeremonyState,
    station: r.station_id,
    request: JSON.parse(r.request_json) as Statement,
    requestHash: r.request_hash,
    deadline: r.deadline,
    quorumAt: r.quorum_at,
    releaseAfter: r.release_after,
    closedAt: r.closed_at,
    closeReason: r.close_reason,
    createdAt: r.created_at,
    decisions: parsed(r.decisions)
      .map((a) => ({
        custodian: a.custodian_id,
        decision: a.kind as 'approve' | 'veto',
        statement: JSON.parse(a.statement_json) as Statement,
        at: a.created_at,
      }))
      .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)),
    releases: parsed(r.releases).map((x) => ({ custodian: x.custodian_id, blobHash: x.blob_hash })),
  }));
}

/** The state and deadline of one ceremony, without its decisions. */
export async function ceremonyStatus(
  db: Db,
  id: string,
): Promise<{ state: CeremonyState; deadline: string } | undefined> {
  const r = await db
    .selectFrom('ceremonies')
    .select(['state', 'deadline'])
    .where('id', '=', id)
    .executeTakeFirst();
  return r && { state: r.state as CeremonyState, deadline: r.deadline };
}

/** Open ceremonies whose deadline is before `now` (RFC 3339). */
export async function overdueCeremonies(db: Db, now: string): Promise<string[]> {
  const rows = await db
    .selectFrom('ceremonies')
    .select('id')
    .where('state', 'in', OPEN_STATES)
    .where('deadline', '<', now)
    .execute();
  return rows.map((r) => r.id);
}

export async function markQuorum(
  db: Db,
  id: string,
  v: { quorumAt: string; releaseAfter: string },
): Promise<void> {
  await db
    .updateTable('ceremonies')
    .set({ state: 'quorum', quorum_at: v.quorumAt, release_after: v.releaseAfter })
    .where('id', '=', id)
    .execute();
}

/** Closes a ceremony and deletes its wrapped shares; returns how many were deleted. */
export async function closeCeremony(db: Db, id: string, outcome: CeremonyState, at: string): Promise<number> {
  const deleted = await db.deleteFrom('releases').where('ceremony_id', '=', id).executeTakeFirst();
  await db
    .updateTable('ceremonies')
    .set({ state: outcome, closed_at: at, close_reason: outcome })
    .where('id', '=', id)
    .execute();
  return Number(deleted.numDeletedRows);
}

// ---------------------------------------------------------------------------------------------
// Decisions and releases

/** What a custodian decided on a ceremony, if anything. */
export async function decisionOf(
  db: Db,
  ceremonyId: string,
  custodian: string,
): Promise<'approve' | 'veto' | undefined> {
  const r = await db
    .selectFrom('approvals')
    .select('kind')
    .where('ceremony_id', '=', ceremonyId)
    .where('custodian_id', '=', custodian)
    .executeTakeFirst();
  return r?.kind;
}

export async function insertDecision(
  db: Db,
  d: {
    ceremonyId: string;
    custodian: string;
    decision: 'approve' | 'veto';
    statement: Statement;
    statementHash: string;
    at: string;
  },
): Promise<void> {
  await db
    .insertInto('approvals')
    .values({
      ceremony_id: d.ceremonyId,
      custodian_id: d.custodian,
      kind: d.decision,
      statement_json: JSON.stringify(d.statement),
      statement_hash: d.statementHash,
      created_at: d.at,
    })
    .execute();
}

export async function hasReleased(db: Db, ceremonyId: string, custodian: string): Promise<boolean> {
  const r = await db
    .selectFrom('releases')
    .select('custodian_id')
    .where('ceremony_id', '=', ceremonyId)
    .where('custodian_id', '=', custodian)
    .executeTakeFirst();
  return r !== undefined;
}

export async function insertRelease(
  db: Db,
  r: {
    ceremonyId: string;
    custodian: string;
    blob: string;
    blobHash: string;
    statement: Statement;
    at: string;
  },
): Promise<void> {
  await db
    .insertInto('releases')
    .values({
      ceremony_id: r.ceremonyId,
      custodian_id: r.custodian,
      blob: r.blob,
      blob_hash: r.blobHash,
      statement_json: JSON.stringify(r.statement),
      created_at: r.at,
    })
    .execute();
}

/** The wrapped shares of a ceremony with their signed release statements. */
export async function releases(
  db: Db,
  ceremonyId: string,
): Promise<{ custodian: string; blob: string; statement: Statement }[]> {
  const rows = await db.selectFrom('releases').selectAll().where('ceremony_id', '=', ceremonyId).execute();
  return rows.map((r) => ({
    custodian: r.custodian_id,
    blob: r.blob,
    statement: JSON.parse(r.statement_json) as Statement,
  }));
}

// ---------------------------------------------------------------------------------------------
// Gauges for /metrics

export async function ceremonyCounts(db: Db): Promise<{ state: string; n: number }[]> {
  const rows = await db
    .selectFrom('ceremonies')
    .select(['state'])
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .groupBy('state')
    .execute();
  return rows.map((r) => ({ state: r.state, n: Number(r.n) }));
}

export async function decisionCounts(db: Db): Promise<{ kind: string; n: number }[]> {
  const rows = await db
    .selectFrom('approvals')
    .select(['kind'])
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .groupBy('kind')
    .execute();
  return rows.map((r) => ({ kind: r.kind, n: Number(r.n) }));
}
