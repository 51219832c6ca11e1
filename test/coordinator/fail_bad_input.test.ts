/**
 * Bad input on every route, through the real app: malformed JSON, wrong types, oversized bodies,
 * unknown and malformed ids, wrong content type, missing or stale signatures, another roster. Every
 * answer is `{ "error": { "code", "message" } }` with the right status and no stack trace.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/protocol/request.ts';
import { recipientKeysHash, STATEMENT } from '../../src/protocol/statements.ts';
import type { CeremonyView } from '../../src/protocol/views.ts';
import { capture, ceremonyOf, expectError, openCeremony, send } from './helpers.ts';
import { DIALECTS, type TestWorld, testWorld } from './world.ts';

const UNKNOWN = `cer-${'ab'.repeat(16)}`;

describe.each(DIALECTS)('bad input (%s)', (dialect) => {
  let w: TestWorld;
  let v: CeremonyView;

  beforeAll(async () => {
    w = await testWorld(dialect);
    v = await ceremonyOf(w, (await openCeremony(w)).ceremony.id);
  });
  afterAll(async () => w?.cleanup());

  /** Every POST route with the principal that may call it and a statement-shaped body. */
  const routes = () =>
    [
      ['/v1/roster', 'custodian-1'],
      ['/v1/snapshots', 'backup-job'],
      ['/v1/ceremonies', 'station-lux'],
      [`/v1/ceremonies/${v.id}/decisions`, 'custodian-1'],
      [`/v1/ceremonies/${v.id}/releases`, 'custodian-1'],
      [`/v1/ceremonies/${v.id}/close`, 'station-lux'],
    ] as const;
  const post = (path: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
    w.app.request(path, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });

  it('malformed JSON is 400 invalid_json on every POST route', async () => {
    for (const [path] of routes()) {
      for (const body of ['{', '{"a":1,}', "{'a':1}", 'nul', '\u0000', '{"a":"\\x"}']) {
        await expectError(await post(path, body), 400, 'invalid_json');
      }
    }
  });

  it('a wrong content type is 415 on every POST route', async () => {
    for (const [path] of routes()) {
      for (const type of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/jsonx',
        'multipart/form-data',
      ]) {
        await expectError(await post(path, '{}', { 'content-type': type }), 415, 'unsupported_media_type');
      }
      await expectError(
        await w.app.request(path, { method: 'POST', body: '{}' }),
        415,
        'unsupported_media_type',
      );
    }
  });

  it('a body over 1 MiB is 413 on every POST route, with or without a content-length', async () => {
    const big = `{"x":"${'a'.repeat(1024 * 1024)}"}`;
    for (const [path] of routes()) {
      await expectError(await post(path, big), 413, 'payload_too_large');
      await expectError(
        await post(path, big, { 'content-length': String(Buffer.byteLength(big)) }),
        413,
        'payload_too_large',
      );
      const stream = new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode(big));
          c.close();
        },
      });
      await expectError(
        await w.app.request(path, {
          method: 'POST',
          body: stream,
          headers: { 'content-type': 'application/json' },
          duplex: 'half',
        } as RequestInit),
        413,
        'payload_too_large',
      );
    }
  });

  it('missing, partial, stale or foreign-roster signatures are 401 on every signed route', async () => {
    const signedRoutes = [
      ...routes().map(([p, who]) => ['POST', p, who] as const),
      ['GET', `/v1/ceremonies/${v.id}/releases`, 'station-lux'] as const,
    ];
    for (const [method, path, who] of signedRoutes) {
      const good = await capture(w, who, method, path, method === 'POST' ? {} : undefined);
      const sendWith = (h: Record<string, string | undefined>) => {
        const headers: Record<string, string> = {};
        for (const [k, x] of Object.entries<string | undefined>({ ...good.init.headers, ...h }))
          if (x !== undefined) headers[k] = x;
        return send(w, { url: good.url, init: { ...good.init, headers } });
      };
      const noAuth = await w.app.request(path, {
        method,
        ...(method === 'POST' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}),
      });
      await expectError(noAuth, 401, 'unauthenticated');
      for (const h of [
        'embassy-principal',
        'embassy-timestamp',
        'embassy-nonce',
        'embassy-roster',
        'embassy-signature',
      ])
        await expectError(await sendWith({ [h]: undefined }), 401, 'unauthenticated');
      const old = new Date(Date.now() - 10 * 60_000).toISOString();
      const future = new Date(Date.now() + 10 * 60_000).toISOString();
      await expectError(await sendWith({ 'embassy-timestamp': old }), 401, 'stale_request');
      await expectError(await sendWith({ 'embassy-timestamp': future }), 401, 'stale_request');
      await expectError(await sendWith({ 'embassy-timestamp': 'yesterday' }), 401, 'unauthenticated');
      await expectError(await sendWith({ 'embassy-nonce': 'ABC' }), 401, 'unauthenticated');
      await expectError(await sendWith({ 'embassy-roster': 'ab'.repeat(32) }), 401, 'unauthenticated');
      await expectError(await sendWith({ 'embassy-principal': 'nobody' }), 401, 'unauthenticated');
      await expectError(await sendWith({ 'embassy-signature': '!!' }), 401, 'bad_signature');
    }
    // Refusals go to the refused-authentication stream, not the Merkle log.
    const refused = await w.store.db.selectFrom('refused_auth').selectAll().execute();
    expect(refused.length).toBeGreaterThan(0);
  });

  it('wrong types are 400 bad_request on every POST route', async () => {
    for (const [path, who] of routes()) {
      const c = w.client(who, w.fetch);
      const bodies: unknown[] = [
        [],
        'string',
        42,
        null,
        { type: 1, roster: [], signer: {}, body: 'x', sig: null },
        { type: 'x', roster: 'y', signer: 'z', body: {}, sig: 's', extra: true },
      ];
      for (const b of bodies) {
        const res = await send(w, await capture(w, who, 'POST', path, b));
        // /v1/roster takes any object and hands it to roster verification (422) — arrays and scalars are 400.
        if (path === '/v1/roster' && b !== null && typeof b === 'object' && !Array.isArray(b))
          await expectError(res, 422, 'policy');
        else await expectError(res, 400, 'bad_request');
      }
      void c;
    }
  });

  it('statement bodies of the wrong shape are 400 bad_request, with the field named', async () => {
    const c1 = w.client('custodian-1', w.fetch);
    const st = w.client('station-lux', w.fetch);
    const keys = recipientKeysHash(new Uint8Array(65), new Uint8Array(1216));
    const cases: [string, string, unknown][] = [
      ['station-lux', '/v1/ceremonies', await st.statement(STATEMENT.unlockRequest, { ceremonyId: 'x' })],
      ['station-lux', '/v1/ceremonies', await st.statement(STATEMENT.decision, { ceremonyId: v.id })],
      [
        'custodian-1',
        `/v1/ceremonies/${v.id}/decisions`,
        await c1.statement(STATEMENT.decision, {
          ceremonyId: v.id,
          requestHash: v.requestHash,
          decision: 'maybe',
          recipientKeys: keys,
          createdAt: new Date().toISOString(),
        }),
      ],
      [
        'custodian-1',
        `/v1/ceremonies/${v.id}/decisions`,
        await c1.statement(STATEMENT.decision, {
          ceremonyId: v.id,
          requestHash: v.requestHash,
          decision: 'veto',
          recipientKeys: keys,
          createdAt: new Date().toISOString(),
        }),
      ],
    ];
    for (const [who, path, body] of cases) {
      const e = await expectError(
        await send(w, await capture(w, who, 'POST', path, body)),
        400,
        'bad_request',
      );
      expect(e.message.length).toBeGreaterThan(5);
    }
  });

  it('unknown ids are 404 and malformed ids 400, on every route with an id', async () => {
    await expectError(await w.app.request(`/v1/ceremonies/${UNKNOWN}`), 404, 'not_found');
    await expectError(await w.app.request('/v1/ceremonies/not-an-id'), 400, 'bad_request');
    await expectError(await w.app.request('/v1/nothing-here'), 404, 'not_found');
    await expectError(await w.app.request('/v1/audit/entries?from=x&to=1'), 400, 'bad_request');
    await expectError(await w.app.request('/v1/audit/inclusion?seq=99&size=1'), 400, 'bad_request');
    const c1 = w.client('custodian-1', w.fetch);
    const st = w.client('station-lux', w.fetch);
    const now = () => new Date().toISOString();
    const blob = randomBytes(100);
    const keys = recipientKeysHash(new Uint8Array(65), new Uint8Array(1216));
    const decision = await c1.statement(STATEMENT.decision, {
      ceremonyId: UNKNOWN,
      requestHash: '11'.repeat(32),
      decision: 'approve',
      recipientKeys: keys,
      createdAt: now(),
    });
    const release = {
      statement: await c1.statement(STATEMENT.release, {
        ceremonyId: UNKNOWN,
        requestHash: '11'.repeat(32),
        recipientKeys: keys,
        blobHash: sha256Hex(blob),
        createdAt: now(),
      }),
      blob: blob.toString('base64url'),
    };
    const close = await st.statement(STATEMENT.close, {
      ceremonyId: UNKNOWN,
      requestHash: '11'.repeat(32),
      outcome: 'cancelled',
      createdAt: now(),
    });
    for (const [who, path, body] of [
      ['custodian-1', `/v1/ceremonies/${UNKNOWN}/decisions`, decision],
      ['custodian-1', `/v1/ceremonies/${UNKNOWN}/releases`, release],
      ['station-lux', `/v1/ceremonies/${UNKNOWN}/close`, close],
    ] as const) {
      await expectError(await send(w, await capture(w, who, 'POST', path, body)), 404, 'not_found');
      const bad = path.replace(UNKNOWN, 'cer-XYZ');
      await expectError(await send(w, await capture(w, who, 'POST', bad, body)), 400, 'bad_request');
    }
    await expectError(
      await send(w, await capture(w, 'station-lux', 'GET', `/v1/ceremonies/${UNKNOWN}/releases`)),
      404,
      'not_found',
    );
    // A statement naming one ceremony posted to another's route is refused.
    await expectError(
      await send(w, await capture(w, 'custodian-1', 'POST', `/v1/ceremonies/${v.id}/decisions`, decision)),
      400,
      'bad_request',
    );
  });

  it('a statement signed against another roster is refused (422 policy)', async () => {
    const c1 = w.client('custodian-1', w.fetch).withRoster('cd'.repeat(32));
    const s = await c1.statement(STATEMENT.decision, {
      ceremonyId: v.id,
      requestHash: v.requestHash,
      decision: 'approve',
      recipientKeys: recipientKeysHash(new Uint8Array(65), new Uint8Array(1216)),
      createdAt: new Date().toISOString(),
    });
    await expectError(
      await send(w, await capture(w, 'custodian-1', 'POST', `/v1/ceremonies/${v.id}/decisions`, s)),
      422,
      'policy',
    );
  });
});
