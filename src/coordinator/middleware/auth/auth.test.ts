/**
 * The signed-request middleware alone, on a tiny Hono app over a real coordinator (SQLite and
 * PostgreSQL): a good signature passes with the caller set; every refusal is its code and lands in
 * the refused-authentication stream, not the audit log.
 */
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, type TestWorld, testWorld } from '../../../../test/coordinator/world.ts';
import { ApiError } from '../../errors.ts';
import { errorBody } from '../errors/index.ts';
import { type AuthEnv, signedRequest } from './index.ts';

describe.each(DIALECTS)('auth middleware (%s)', (dialect) => {
  let w: TestWorld;
  let app: Hono<AuthEnv>;

  beforeAll(async () => {
    w = await testWorld(dialect, { domains: ['land'] });
    app = new Hono<AuthEnv>();
    app.onError((e, c) =>
      e instanceof ApiError ? c.json(errorBody(e.code, e.message), e.status as 401) : c.json({}, 500),
    );
    app.use('*', signedRequest(w.coordinator));
    app.all('*', (c) => c.json(c.get('caller')));
  });
  afterAll(async () => w?.cleanup());

  const fetch = async (url: string, init: RequestInit) => app.request(url, init);

  it('a good signature passes and sets the caller (role from the roster)', async () => {
    for (const [who, role] of [
      ['station-lux', 'station'],
      ['custodian-2', 'custodian'],
      ['backup-job', 'job'],
      ['auditor-1', 'auditor'],
    ] as const) {
      const caller = await w
        .client(who, fetch)
        .post<{ id: string; role: string; ref: string }>('/x?y=1', { a: 1 });
      expect(caller).toMatchObject({ id: who, role, ref: `${role}/${who}` });
    }
  });

  it('refusals: missing headers, stale, foreign roster, unknown principal, bad signature; logged apart', async () => {
    const before = (await w.store.db.selectFrom('audit_entries').selectAll().execute()).length;
    const res = await app.request('/x', { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
    const stale = w.client('station-lux', fetch);
    await expect(stale.withRoster('ab'.repeat(32)).post('/x', {})).rejects.toMatchObject({
      status: 401,
      code: 'unauthenticated',
    });
    const refused = await w.store.db.selectFrom('refused_auth').selectAll().execute();
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused.map((r) => r.path)).toContain('POST /x');
    expect((await w.store.db.selectFrom('audit_entries').selectAll().execute()).length).toBe(before);
  });
});
