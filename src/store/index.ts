/**
 * Persistence: Kysely over better-sqlite3 (one file `<dataDir>/embassy.sqlite`, WAL, synchronous=FULL)
 * by default, PostgreSQL (`pg`) when a database URL is given (`DATABASE_URL`).
 *
 * Writers go through {@link Store.transaction}, which serialises them across processes:
 * - SQLite: `BEGIN IMMEDIATE` (the write lock is taken at the start; `busy_timeout` waits for it);
 * - PostgreSQL: the first statement of every write transaction is
 *   `SELECT … FROM log_head WHERE id = 1 FOR UPDATE`, so two coordinator processes on one database
 *   append to the audit log (and change state) one after the other, never interleaved.
 * Serialization failures and deadlocks (PostgreSQL 40001/40P01, SQLite BUSY) are retried with jittered
 * back-off, so `fn` must be free of side effects outside the database (it may run more than once).
 * Do not nest `transaction` calls (SQLite has a single connection: a nested call would wait forever).
 *
 * Reads that need no serialisation use `store.db` directly.
 *
 * @example
 * const store = await openStore({ dataDir: '.embassy' });            // or { databaseUrl, schema }
 * await store.transaction(async (trx) => {
 *   await trx.insertInto('snapshots').values(row).execute();
 *   await appendEntry(trx, { kind: 'snapshot-registered', actor: 'job/backup', data: { id: row.id } });
 * });
 * await store.close();
 * @module
 */
import { randomInt } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  sql,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import { StoreError } from './errors.ts';
import { EMPTY_ROOT_HEX, migrationProvider, ZERO_HASH } from './migrations.ts';
import type { Schema } from './schema.ts';

export { StoreError, type StoreErrorCode } from './errors.ts';
export type * from './schema.ts';

/** Default log origin when none is configured (a deployment should set its own). */
export const DEFAULT_ORIGIN = 'data-embassy.local/audit';

export type Dialect = 'sqlite' | 'postgres';

export interface SqliteOptions {
  /** Directory of the local state; the database is `<dataDir>/embassy.sqlite`. */
  readonly dataDir: string;
  readonly origin?: string;
  /** How long a writer waits for another process's write lock, ms (default 10000). */
  readonly busyTimeoutMs?: number;
}

export interface PostgresOptions {
  readonly databaseUrl: string;
  /** Schema to use (created if absent); `public` when omitted. Tests use a random one each. */
  readonly schema?: string;
  readonly origin?: string;
  /** Pool size (default 10). */
  readonly poolSize?: number;
}

export type StoreOptions = SqliteOptions | PostgresOptions;

/** A transaction handle; pass it to appendEntry and to every query of the same state change. */
export type Trx = Transaction<Schema>;

export interface Store {
  readonly db: Kysely<Schema>;
  readonly dialect: Dialect;
  /** The audit log's origin (fixed at creation of the database). */
  readonly origin: string;
  /** Runs `fn` in a serialised write transaction; retried on serialization failures and deadlocks. */
  transaction<T>(fn: (trx: Trx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Transactions opened by a Store, with their dialect: appendEntry refuses any other handle. */
const openTransactions = new WeakMap<object, Dialect>();

/** The dialect of a transaction opened by {@link Store.transaction}, or undefined. */
export function transactionDialect(trx: object): Dialect | undefined {
  return openTransactions.get(trx);
}

/** SQLite driver whose transactions start with BEGIN IMMEDIATE (take the write lock up front). */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly cfg: ConstructorParameters<typeof SqliteDialect>[0]) {
    super(cfg);
  }
  override createDriver() {
    return new ImmediateSqliteDriver(this.cfg);
  }
}

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/** Options from the environment: PostgreSQL when DATABASE_URL is set, else SQLite under `dataDir`. */
export function storeOptionsFromEnv(dataDir: string, env: NodeJS.ProcessEnv = process.env): StoreOptions {
  const url = env.DATABASE_URL;
  return url !== undefined && url !== '' ? { databaseUrl: url } : { dataDir };
}

function isRetryable(e: unknown): boolean {
  const err = e as { code?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : '';
  return (
    code === '40001' || code === '40P01' || code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Opens (and migrates) the store. The audit log's origin is fixed when the database is created;
 * opening it later with a different `origin` fails with `store_origin_mismatch`.
 * @throws {StoreError}
 */
export async function openStore(opts: StoreOptions): Promise<Store> {
  if (opts === null || typeof opts !== 'object')
    throw new StoreError('store_bad_options', 'store options are required');
  let db: Kysely<Schema>;
  let dialect: Dialect;
  let schema: string | undefined;
  if ('databaseUrl' in opts && typeof opts.databaseUrl === 'string') {
    dialect = 'postgres';
    schema = opts.schema ?? 'public';
    if (!SCHEMA_RE.test(schema))
      throw new StoreError('store_bad_options', 'schema name must match [a-z_][a-z0-9_]*');
    // Create the schema first, on a throwaway client, so search_path can point at it.
    if (opts.schema !== undefined) {
      const c = new pg.Client({ connectionString: opts.databaseUrl });
      try {
        await c.connect();
        await c.query(`create schema if not exists "${schema}"`);
      } catch (e) {
        throw new StoreError('store_open_failed', `cannot open the PostgreSQL database: ${msg(e)}`, {
          cause: e,
        });
      } finally {
        await c.end().catch(() => {});
      }
    }
    const int8 = pg.types.builtins.INT8;
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.poolSize ?? 10,
      options: `-c search_path=${schema}`,
      // BIGINT as numbers (sizes and sequence numbers stay ≤ 2^53 − 1); per pool, not global.
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === int8 && format !== 'binary'
            ? (v: string) => Number(v)
            : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
      },
    });
    pool.on('error', () => {}); // idle-client errors surface on the next query
    db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  } else if ('dataDir' in opts && typeof opts.dataDir === 'string') {
    dialect = 'sqlite';
    let sqlite: Database.Database;
    try {
      mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
      sqlite = new Database(join(opts.dataDir, 'embassy.sqlite'));
      sqlite.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 10_000))}`);
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('synchronous = FULL');
      sqlite.pragma('foreign_keys = ON');
    } catch (e) {
      throw new StoreError('store_open_failed', `cannot open the SQLite database: ${msg(e)}`, { cause: e });
    }
    db = new Kysely<Schema>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) });
  } else {
    throw new StoreError('store_bad_options', 'give either dataDir or databaseUrl');
  }

  try {
    const migrator = new Migrator({
      db,
      provider: migrationProvider,
      ...(schema !== undefined ? { migrationTableSchema: schema } : {}),
    });
    const { error } = await migrator.migrateToLatest();
    if (error !== undefined)
      throw new StoreError('store_migration_failed', `database migration failed: ${msg(error)}`, {
        cause: error,
      });
    const wanted = opts.origin;
    await db
      .insertInto('log_head')
      .values({
        id: 1,
        origin: wanted ?? DEFAULT_ORIGIN,
        size: 0,
        root: EMPTY_ROOT_HEX,
        last_leaf: ZERO_HASH,
        frontier: '[]',
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    const head = await db
      .selectFrom('log_head')
      .select('origin')
      .where('id', '=', 1)
      .executeTakeFirstOrThrow();
    if (wanted !== undefined && head.origin !== wanted)
      throw new StoreError(
        'store_origin_mismatch',
        `this database holds the audit log of origin ${head.origin}, not ${wanted}`,
      );
    return makeStore(db, dialect, head.origin);
  } catch (e) {
    await db.destroy().catch(() => {});
    if (e instanceof StoreError) throw e;
    throw new StoreError('store_open_failed', `cannot open the store: ${msg(e)}`, { cause: e });
  }
}

function msg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function makeStore(db: Kysely<Schema>, dialect: Dialect, origin: string): Store {
  let closed = false;
  const MAX_ATTEMPTS = 20;
  return {
    db,
    dialect,
    origin,
    async transaction<T>(fn: (trx: Trx) => Promise<T>): Promise<T> {
      if (closed) throw new StoreError('store_closed', 'the store is closed');
      for (let attempt = 1; ; attempt++) {
        try {
          return await db.transaction().execute(async (trx) => {
            if (dialect === 'postgres')
              await sql`select id from log_head where id = 1 for update`.execute(trx);
            openTransactions.set(trx, dialect);
            try {
              return await fn(trx);
            } finally {
              openTransactions.delete(trx);
            }
          });
        } catch (e) {
          if (!isRetryable(e)) throw e;
          if (attempt >= MAX_ATTEMPTS)
            throw new StoreError('store_busy', `transaction still conflicting after ${attempt} attempts`, {
              cause: e,
            });
          await sleep(Math.min(200, 2 ** attempt) * (0.5 + randomInt(1000) / 1000));
        }
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
