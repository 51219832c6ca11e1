/**
 * Schema migrations, in code (Kysely Migrator with an in-code provider), run by `openStore`.
 * Migrations are append-only: never edit a released one, add the next.
 * @module
 */
import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';

/** 64 zeros: the `prev` of entry 0 and `last_leaf` of an empty log. */
export const ZERO_HASH = '0'.repeat(64);
/** SHA-256(""): the RFC 9162 root of the empty tree. */
export const EMPTY_ROOT_HEX = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against a schema that is being built
type AnyDb = Kysely<any>;

const m001: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('roster_versions')
      .addColumn('version', 'bigint', (c) => c.primaryKey())
      .addColumn('roster_id', 'text', (c) => c.notNull().unique())
      .addColumn('signed_json', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('snapshots')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('domain', 'text', (c) => c.notNull())
      .addColumn('seal_epoch', 'bigint', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('location', 'text', (c) => c.notNull())
      .addColumn('sequence', 'bigint', (c) => c.notNull())
      .addColumn('manifest_json', 'text', (c) => c.notNull())
      .addColumn('registered_by', 'text', (c) => c.notNull())
      .addColumn('registered_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('snapshots_domain_sequence', ['domain', 'sequence'])
      .execute();

    await db.schema
      .createTable('ceremonies')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('domain', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('station_id', 'text')
      .addColumn('request_json', 'text', (c) => c.notNull())
      .addColumn('request_hash', 'text', (c) => c.notNull().unique())
      .addColumn('deadline', 'text', (c) => c.notNull())
      .addColumn('quorum_at', 'text')
      .addColumn('release_after', 'text')
      .addColumn('closed_at', 'text')
      .addColumn('close_reason', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('ceremonies_state').on('ceremonies').columns(['state', 'domain']).execute();

    await db.schema
      .createTable('approvals')
      .addColumn('ceremony_id', 'text', (c) => c.notNull().references('ceremonies.id'))
      .addColumn('custodian_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('approve', 'veto')`))
      .addColumn('statement_json', 'text', (c) => c.notNull())
      .addColumn('statement_hash', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('approvals_pk', ['ceremony_id', 'custodian_id'])
      .execute();

    await db.schema
      .createTable('releases')
      .addColumn('ceremony_id', 'text', (c) => c.notNull().references('ceremonies.id'))
      .addColumn('custodian_id', 'text', (c) => c.notNull())
      .addColumn('blob', 'text', (c) => c.notNull())
      .addColumn('blob_hash', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('releases_pk', ['ceremony_id', 'custodian_id'])
      .execute();

    await db.schema
      .createTable('nonces')
      .addColumn('principal_id', 'text', (c) => c.notNull())
      .addColumn('nonce', 'text', (c) => c.notNull())
      .addColumn('seen_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('nonces_pk', ['principal_id', 'nonce'])
      .execute();
    await db.schema.createIndex('nonces_seen_at').on('nonces').column('seen_at').execute();

    await db.schema
      .createTable('log_head')
      .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
      .addColumn('origin', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('root', 'text', (c) => c.notNull())
      .addColumn('last_leaf', 'text', (c) => c.notNull())
      .addColumn('frontier', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('audit_entries')
      .addColumn('seq', 'bigint', (c) => c.primaryKey())
      .addColumn('leaf_hash', 'text', (c) => c.notNull())
      .addColumn('entry_json', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('audit_nodes')
      .addColumn('level', 'integer', (c) => c.notNull())
      .addColumn('idx', 'bigint', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('audit_nodes_pk', ['level', 'idx'])
      .execute();

    await db.schema
      .createTable('audit_checkpoints')
      .addColumn('size', 'bigint', (c) => c.primaryKey())
      .addColumn('root', 'text', (c) => c.notNull())
      .addColumn('note', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('refused_auth')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('principal_id', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('refused_auth_at').on('refused_auth').column('at').execute();

    await db.schema
      .createTable('refused_auth_counters')
      .addColumn('principal_id', 'text', (c) => c.notNull())
      .addColumn('window_start', 'text', (c) => c.notNull())
      .addColumn('count', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('refused_auth_counters_pk', ['principal_id', 'window_start'])
      .execute();
  },
};

/** A release keeps the custodian's signed release statement beside the blob, for the station to check. */
const m002: Migration = {
  async up(db) {
    await db.schema
      .alterTable('releases')
      .addColumn('statement_json', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
  },
};

const MIGRATIONS: Record<string, Migration> = {
  '001_initial': m001,
  '002_release_statement': m002,
};

/** The in-code migration provider. */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
