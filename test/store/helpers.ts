// Store factories for tests: every store test runs on SQLite (temporary directory) and PostgreSQL
// (a random schema in database `test`, dropped afterwards, so runs never collide).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, type Store, type StoreOptions } from '../../src/store/index.ts';
import { TEST_DATABASE_URL } from '../support/pg.ts';

/** One test database, reopenable (same file or schema) until `cleanup`. */
export interface TestDb {
  readonly dialect: 'sqlite' | 'postgres';
  readonly options: StoreOptions;
  open(extra?: { origin?: string }): Promise<Store>;
  cleanup(): Promise<void>;
}

export interface Factory {
  readonly name: 'sqlite' | 'postgres';
  create(): TestDb;
}

export const sqliteFactory: Factory = {
  name: 'sqlite',
  create() {
    const dir = mkdtempSync(join(tmpdir(), 'embassy-store-'));
    const options = { dataDir: dir };
    return {
      dialect: 'sqlite',
      options,
      open: (extra = {}) => openStore({ ...options, ...extra }),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

export const postgresFactory: Factory = {
  name: 'postgres',
  create() {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const options = { databaseUrl: TEST_DATABASE_URL, schema };
    return {
      dialect: 'postgres',
      options,
      open: (extra = {}) => openStore({ ...options, ...extra }),
      cleanup: async () => {
        const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await c.connect();
        try {
          await c.query(`drop schema if exists "${schema}" cascade`);
        } finally {
          await c.end();
        }
      },
    };
  },
};

export const factories: Factory[] = [sqliteFactory, postgresFactory];

/** Opens a fresh store; returns it with a disposer that closes it and drops its database. */
export async function freshStore(
  f: Factory,
  extra?: { origin?: string },
): Promise<{ store: Store; db: TestDb; done: () => Promise<void> }> {
  const db = f.create();
  const store = await db.open(extra);
  return {
    store,
    db,
    done: async () => {
      await store.close();
      await db.cleanup();
    },
  };
}
