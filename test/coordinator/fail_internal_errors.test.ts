/**
 * HTTP errors never echo internal messages: a failing store or audit log answers 500 `internal`
 * through the real Hono app, with the detail only in the server log; a range the log does not hold
 * is still the caller's 400 with the log's own text; a checkpoint that fails on the database makes
 * /healthz unhealthy with a fixed code, its cause only in the log.
 */
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/coordinator/app.ts';
import { expectError } from './helpers.ts';
import { type TestWorld, testWorld } from './world.ts';

describe('internal errors are not echoed', () => {
  let w: TestWorld;
  const lines: string[] = [];
  let app: ReturnType<typeof createApp>['app'];

  beforeAll(async () => {
    w = await testWorld('sqlite', { domains: ['land'] });
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    app = createApp(w.coordinator, { log: pino(sink) }).app;
  });
  afterAll(async () => w?.cleanup());

  it('a range outside the log is a 400 with the log’s own text', async () => {
    const e = await expectError(await app.request('/v1/audit/inclusion?seq=5&size=1'), 400, 'bad_request');
    expect(e.message).toMatch(/not in a tree of size 1/);
  });

  it('a store failure under the audit log is a 500 without its message; the log has the detail', async () => {
    await sql`alter table audit_entries rename to audit_entries_gone`.execute(w.store.db);
    try {
      for (const path of ['/v1/audit/inclusion?seq=0&size=1', '/v1/audit/entries?from=0&to=1']) {
        const res = await app.request(path);
        const e = await expectError(res, 500, 'internal');
        expect(e.message).toBe('internal error');
        expect(JSON.stringify(e)).not.toMatch(/audit_entries|no such table|sqlite/i);
      }
      expect(lines.join('')).toMatch(/no such table: audit_entries/);
    } finally {
      await sql`alter table audit_entries_gone rename to audit_entries`.execute(w.store.db);
    }
  });

  it('a checkpoint failing on the store makes /healthz a 503 with a fixed code; the log has the detail', async () => {
    const before = lines.length;
    await sql`alter table audit_checkpoints rename to audit_checkpoints_gone`.execute(w.store.db);
    try {
      await w.coordinator.checkpoint();
    } finally {
      await sql`alter table audit_checkpoints_gone rename to audit_checkpoints`.execute(w.store.db);
    }
    const res = await app.request('/healthz');
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body).toMatchObject({
      ok: false,
      checkpointError: {
        code: 'checkpoint_failed',
        message: 'the last checkpoint was not signed; the server log has the cause',
      },
    });
    expect(JSON.stringify(body)).not.toMatch(/audit_checkpoints|no such table|sqlite/i);
    const logged = lines.slice(before).join('');
    expect(logged).toMatch(/checkpoint not signed/);
    expect(logged).toMatch(/no such table: audit_checkpoints/);
  });
});
