import { describe, expect, it } from 'vitest';
import { openStore, StoreError, storeOptionsFromEnv } from '../../src/store/index.ts';
import { purgeNonces, rememberNonce } from '../../src/store/nonces.ts';
import { purgeRefusedAuth, recordRefusedAuth, refusedAuthSummary } from '../../src/store/refused.ts';
import { factories, freshStore } from './helpers.ts';

describe.each(factories)('store on $name', (f) => {
  it('opens, migrates, reopens idempotently, and keeps its origin', async () => {
    const { store, db, done } = await freshStore(f, { origin: 'test.example/audit' });
    try {
      expect(store.dialect).toBe(f.name);
      expect(store.origin).toBe('test.example/audit');
      const head = await store.db.selectFrom('log_head').selectAll().executeTakeFirstOrThrow();
      expect(head.size).toBe(0);
      expect(typeof head.size).toBe('number');
      await store.close();
      const again = await db.open();
      expect(again.origin).toBe('test.example/audit');
      await again.close();
      await expect(db.open({ origin: 'other.example/audit' })).rejects.toMatchObject({
        code: 'store_origin_mismatch',
      });
      const third = await db.open({ origin: 'test.example/audit' });
      Object.assign(store, { close: () => third.close() });
    } finally {
      await done();
    }
  });

  it('commits a transaction, and rolls back everything on an error', async () => {
    const { store, done } = await freshStore(f);
    try {
      const row = {
        id: 's-1',
        domain: 'land',
        seal_epoch: 1,
        size: 2 ** 40,
        digest: 'ab'.repeat(32),
        location: 'store/s-1',
        sequence: 1,
        manifest_json: '{}',
        registered_by: 'job/backup',
        registered_at: '2026-01-01T00:00:00.000Z',
      };
      await store.transaction(async (trx) => {
        await trx.insertInto('snapshots').values(row).execute();
      });
      await expect(
        store.transaction(async (trx) => {
          await trx
            .insertInto('snapshots')
            .values({ ...row, id: 's-2', sequence: 2 })
            .execute();
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      const rows = await store.db.selectFrom('snapshots').selectAll().execute();
      expect(rows.map((r) => r.id)).toEqual(['s-1']);
      expect(rows[0]!.size).toBe(2 ** 40);
      // unique (domain, sequence)
      await expect(
        store.transaction((trx) =>
          trx
            .insertInto('snapshots')
            .values({ ...row, id: 's-3' })
            .execute(),
        ),
      ).rejects.toThrow();
    } finally {
      await done();
    }
  });

  it('has every table of the schema with its keys', async () => {
    const { store, done } = await freshStore(f);
    try {
      const now = '2026-01-01T00:00:00.000Z';
      await store.transaction(async (trx) => {
        await trx
          .insertInto('roster_versions')
          .values({ version: 1, roster_id: '00'.repeat(32), signed_json: '{}', created_at: now })
          .execute();
        await trx
          .insertInto('ceremonies')
          .values({
            id: 'c-1',
            kind: 'unlock',
            domain: 'land',
            state: 'open',
            station_id: 'station/a',
            request_json: '{}',
            request_hash: '11'.repeat(32),
            deadline: now,
            quorum_at: null,
            release_after: null,
            closed_at: null,
            close_reason: null,
            created_at: now,
          })
          .execute();
        await trx
          .insertInto('approvals')
          .values({
            ceremony_id: 'c-1',
            custodian_id: 'custodian/a',
            kind: 'approve',
            statement_json: '{}',
            statement_hash: '22'.repeat(32),
            created_at: now,
          })
          .execute();
        await trx
          .insertInto('releases')
          .values({
            ceremony_id: 'c-1',
            custodian_id: 'custodian/a',
            blob: 'AAAA',
            blob_hash: '33'.repeat(32),
            created_at: now,
          })
          .execute();
      });
      // one approval per custodian per ceremony; kind is approve|veto
      await expect(
        store.transaction((trx) =>
          trx
            .insertInto('approvals')
            .values({
              ceremony_id: 'c-1',
              custodian_id: 'custodian/a',
              kind: 'veto',
              statement_json: '{}',
              statement_hash: '44'.repeat(32),
              created_at: now,
            })
            .execute(),
        ),
      ).rejects.toThrow();
      await expect(
        store.transaction((trx) =>
          trx
            .insertInto('approvals')
            .values({
              ceremony_id: 'c-1',
              custodian_id: 'custodian/b',
              kind: 'maybe' as 'veto', // testing the CHECK constraint
              statement_json: '{}',
              statement_hash: '55'.repeat(32),
              created_at: now,
            })
            .execute(),
        ),
      ).rejects.toThrow();
    } finally {
      await done();
    }
  });

  it('refuses a replayed nonce and purges old ones', async () => {
    const { store, done } = await freshStore(f);
    try {
      const t0 = new Date('2026-01-01T00:00:00Z');
      expect(await rememberNonce(store.db, 'custodian/a', 'n1', t0)).toBe(true);
      expect(await rememberNonce(store.db, 'custodian/a', 'n1', t0)).toBe(false);
      expect(await rememberNonce(store.db, 'custodian/b', 'n1', t0)).toBe(true);
      expect(await rememberNonce(store.db, 'custodian/a', 'n2', new Date('2026-01-01T00:10:00Z'))).toBe(true);
      expect(await purgeNonces(store.db, new Date('2026-01-01T00:05:00Z'))).toBe(2);
      const left = await store.db.selectFrom('nonces').select('nonce').execute();
      expect(left.map((r) => r.nonce)).toEqual(['n2']);
    } finally {
      await done();
    }
  });

  it('rate-limits the refused-authentication stream per principal and counts the rest', async () => {
    const { store, done } = await freshStore(f);
    try {
      const at = new Date('2026-01-01T00:00:10Z');
      const limits = { perPrincipal: 3, global: 5 };
      const results = [];
      for (let i = 0; i < 10; i++)
        results.push(
          await recordRefusedAuth(
            store.db,
            { principalId: 'mallory', reason: 'bad-signature', path: '/x', at },
            limits,
          ),
        );
      expect(results.filter((r) => r.recorded)).toHaveLength(3);
      expect(results.at(-1)!.count).toBe(10);
      // the global cap bounds rows from many invented principals
      for (let i = 0; i < 10; i++)
        await recordRefusedAuth(
          store.db,
          { principalId: `p${i}`, reason: 'unknown-principal', path: '/x', at },
          limits,
        );
      const rows = await store.db.selectFrom('refused_auth').selectAll().execute();
      expect(rows).toHaveLength(5);
      // a new minute is a new window
      const later = new Date('2026-01-01T00:01:10Z');
      expect(
        (
          await recordRefusedAuth(
            store.db,
            { principalId: 'mallory', reason: 'x', path: '/x', at: later },
            limits,
          )
        ).recorded,
      ).toBe(true);
      const summary = await refusedAuthSummary(store.db, at, limits);
      expect(
        summary.find((s) => s.principalId === 'mallory' && s.windowStart === '2026-01-01T00:00:00.000Z'),
      ).toMatchObject({ count: 10, dropped: 7 });
      // nothing went to the audit log
      const head = await store.db.selectFrom('log_head').select('size').executeTakeFirstOrThrow();
      expect(head.size).toBe(0);
      expect(await purgeRefusedAuth(store.db, later)).toBe(5);
      // control characters are neutralised
      await recordRefusedAuth(
        store.db,
        { principalId: 'a\nb', reason: 'r', path: '/p\u0000', at: later },
        limits,
      );
      const r = await store.db
        .selectFrom('refused_auth')
        .selectAll()
        .where('principal_id', '=', 'a?b')
        .executeTakeFirst();
      expect(r?.path).toBe('/p?');
    } finally {
      await done();
    }
  });

  it('serialises concurrent writers in one process', async () => {
    const { store, done } = await freshStore(f);
    try {
      // read-modify-write of a counter: lost updates would show if transactions interleaved
      await store.transaction((trx) =>
        trx.insertInto('nonces').values({ principal_id: 'counter', nonce: '0', seen_at: 'x' }).execute(),
      );
      await Promise.all(
        Array.from({ length: 20 }, () =>
          store.transaction(async (trx) => {
            const r = await trx
              .selectFrom('nonces')
              .select('nonce')
              .where('principal_id', '=', 'counter')
              .executeTakeFirstOrThrow();
            await new Promise((res) => setTimeout(res, 1));
            await trx
              .updateTable('nonces')
              .set({ nonce: String(Number(r.nonce) + 1) })
              .where('principal_id', '=', 'counter')
              .execute();
          }),
        ),
      );
      const r = await store.db
        .selectFrom('nonces')
        .select('nonce')
        .where('principal_id', '=', 'counter')
        .executeTakeFirstOrThrow();
      expect(r.nonce).toBe('20');
    } finally {
      await done();
    }
  });
});

describe('store options', () => {
  it('picks PostgreSQL when DATABASE_URL is set', () => {
    expect(storeOptionsFromEnv('/d', { DATABASE_URL: 'postgres://x/y' })).toEqual({
      databaseUrl: 'postgres://x/y',
    });
    expect(storeOptionsFromEnv('/d', {})).toEqual({ dataDir: '/d' });
  });
  it('refuses bad options with a typed error', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: bad input on purpose
    await expect(openStore({} as any)).rejects.toBeInstanceOf(StoreError);
    await expect(
      openStore({ databaseUrl: 'postgres://127.0.0.1/test', schema: 'Bad-Name' }),
    ).rejects.toMatchObject({
      code: 'store_bad_options',
    });
    await expect(
      openStore({ databaseUrl: 'postgres://postgres@127.0.0.1:1/test', schema: 'x' }),
    ).rejects.toMatchObject({
      code: 'store_open_failed',
    });
  });
});
