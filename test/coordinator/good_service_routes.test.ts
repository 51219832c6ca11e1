/**
 * The service routes: /healthz, /metrics (Prometheus text with ceremonies by state), /openapi.json
 * (OpenAPI 3.1 naming every route), /docs; and a property: random JSON bodies, signed by a principal
 * that may call the route, never make any POST route answer 500.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/custodian/client.ts';
import { STATEMENT } from '../../src/protocol/statements.ts';
import type { CeremonyView } from '../../src/protocol/views.ts';
import { capture, ceremonyOf, custodianSession, openCeremony, send } from './helpers.ts';
import { DIALECTS, type TestWorld, testWorld } from './world.ts';

const ROUTES = [
  ['get', '/v1/roster'],
  ['post', '/v1/roster'],
  ['get', '/v1/snapshots'],
  ['post', '/v1/snapshots'],
  ['get', '/v1/ceremonies'],
  ['post', '/v1/ceremonies'],
  ['get', '/v1/ceremonies/{id}'],
  ['post', '/v1/ceremonies/{id}/decisions'],
  ['post', '/v1/ceremonies/{id}/releases'],
  ['get', '/v1/ceremonies/{id}/releases'],
  ['post', '/v1/ceremonies/{id}/close'],
  ['get', '/v1/audit/entries'],
  ['get', '/v1/audit/checkpoint'],
  ['get', '/v1/audit/inclusion'],
  ['get', '/v1/audit/consistency'],
] as const;

describe.each(DIALECTS)('service routes (%s)', (dialect) => {
  let w: TestWorld;
  let v: CeremonyView;

  beforeAll(async () => {
    w = await testWorld(dialect);
    v = await ceremonyOf(w, (await openCeremony(w)).ceremony.id);
    const vetoed = (await openCeremony(w)).ceremony.id;
    await decide(custodianSession(w, 'custodian-1'), vetoed, 'veto', 'drill over');
  });
  afterAll(async () => w?.cleanup());

  it('/healthz answers ok with the roster and log size', async () => {
    const res = await w.app.request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, rosterVersion: 1, rosterId: w.rosterPin });
  });

  it('/metrics is Prometheus text with ceremonies by state, decisions and request latencies', async () => {
    await w.app.request('/v1/ceremonies');
    const res = await w.app.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('embassy_ceremonies{state="open"} 1');
    expect(text).toContain('embassy_ceremonies{state="vetoed"} 1');
    expect(text).toContain('embassy_decisions{kind="veto"} 1');
    expect(text).toMatch(/embassy_http_requests_total\{route="GET \/v1\/ceremonies",status="200"\} \d+/);
    expect(text).toMatch(
      /embassy_http_request_seconds_bucket\{route="GET \/v1\/ceremonies",le="\+Inf"\} \d+/,
    );
    expect(text).toMatch(/embassy_audit_log_size\{\} \d+/);
    // Every line is a comment or `name{labels} value`.
    for (const line of text.trimEnd().split('\n'))
      expect(line).toMatch(/^(# (HELP|TYPE) embassy_\w+ .+|embassy_\w+(\{[^}]*\})? -?[\d.e+-]+)$/);
  });

  it('/openapi.json is OpenAPI 3.1 with every route, its security and its error schema', async () => {
    const res = await w.app.request('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      info: { title: string; version: string };
      paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBeTruthy();
    for (const [method, path] of ROUTES) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(Object.keys(op!.responses)).toContain(
        method === 'post' && path !== '/v1/ceremonies/{id}/close' ? '201' : '200',
      );
      if (method === 'post') expect(op!.security, `${method} ${path}`).toEqual([{ EmbassySignature: [] }]);
    }
    expect(doc.components.securitySchemes.EmbassySignature).toBeDefined();
    expect(doc.components.schemas.Error).toBeDefined();
    // Every $ref resolves.
    const refs = JSON.stringify(doc).match(/"\$ref":"#\/components\/schemas\/[^"]+"/g) ?? [];
    for (const r of refs) expect(doc.components.schemas[r.split('/').pop()!.slice(0, -1)], r).toBeDefined();
  });

  it('/openapi.json describes the ceremony, snapshot and roster responses by their schemas', async () => {
    const doc = (await (await w.app.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { content: unknown }> }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
    };
    const schemaOf = (method: string, path: string, status: string) =>
      JSON.stringify(doc.paths[path]![method]!.responses[status]!.content);
    for (const [method, path, status] of [
      ['get', '/v1/ceremonies/{id}', '200'],
      ['post', '/v1/ceremonies', '201'],
      ['post', '/v1/ceremonies/{id}/decisions', '201'],
      ['post', '/v1/ceremonies/{id}/releases', '201'],
      ['post', '/v1/ceremonies/{id}/close', '200'],
    ] as const) {
      expect(schemaOf(method, path, status), `${method} ${path}`).toContain('#/components/schemas/Ceremony"');
    }
    expect(schemaOf('get', '/v1/ceremonies', '200')).toContain('#/components/schemas/Ceremony"');
    expect(schemaOf('get', '/v1/snapshots', '200')).toContain('#/components/schemas/Snapshot"');
    const ceremony = doc.components.schemas.Ceremony!;
    for (const p of [
      'id',
      'state',
      'request',
      'requestHash',
      'decisions',
      'releases',
      'verdict',
      'verdictInputs',
    ])
      expect(ceremony.required, p).toContain(p);
    // The verdict is discriminated by its state.
    const verdict = JSON.stringify(ceremony.properties!.verdict);
    for (const state of ['open', 'cooling-off', 'releasable', 'vetoed', 'expired'])
      expect(verdict).toContain(state);
    expect(verdict).toContain('vetoedBy');
  });

  it('/docs renders a reference page listing every route', async () => {
    const res = await w.app.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    for (const [, path] of ROUTES) expect(html).toContain(`<code>${path}</code>`);
    expect(html).not.toMatch(/<script/i);
  });

  it('random JSON bodies, signed, never make a POST route answer 500', async () => {
    const routes = [
      ['/v1/roster', 'auditor-1', 'roster'],
      ['/v1/snapshots', 'backup-job', STATEMENT.snapshot],
      ['/v1/ceremonies', 'station-lux', STATEMENT.unlockRequest],
      [`/v1/ceremonies/${v.id}/decisions`, 'custodian-2', STATEMENT.decision],
      [`/v1/ceremonies/${v.id}/releases`, 'custodian-2', STATEMENT.release],
      [`/v1/ceremonies/${v.id}/close`, 'station-lux', STATEMENT.close],
    ] as const;
    const shaped = (type: string) =>
      fc.record(
        {
          ceremonyId: fc.oneof(fc.constant(v.id), fc.string()),
          requestHash: fc.oneof(
            fc.constant(v.requestHash),
            fc.string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')) }),
          ),
          decision: fc.constantFrom('approve', 'veto', 'x'),
          outcome: fc.constantFrom('done', 'cancelled', 1),
          createdAt: fc.oneof(fc.constant(new Date().toISOString()), fc.string()),
          domain: fc.constantFrom('land', 'business', 'nope', ''),
          epoch: fc.oneof(fc.integer(), fc.double()),
          snapshots: fc.array(fc.string()),
          reason: fc.string(),
          extra: fc.jsonValue(),
          type: fc.constant(type),
        },
        { requiredKeys: [] },
      );
    for (const [path, who, type] of routes) {
      const client = w.client(who, w.fetch);
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.jsonValue(),
            fc.record({
              type: fc.constant(type),
              roster: fc.constant(w.rosterPin),
              signer: fc.string(),
              body: fc.jsonValue(),
              sig: fc.string(),
            }),
            shaped(type).map((b) => ({ __sign: b })),
          ),
          async (body) => {
            let payload: unknown = body;
            if (body && typeof body === 'object' && '__sign' in body) {
              const b = (body as { __sign: Record<string, unknown> }).__sign;
              payload = await client.statement(type, b as never).catch(() => b);
              if (path.endsWith('/releases')) payload = { statement: payload, blob: 'AAAA'.repeat(20) };
            }
            const res = await send(w, await capture(w, who, 'POST', path, payload));
            const text = await res.text();
            expect(res.status, `${path} ${text}`).not.toBe(500);
            expect(res.status, `${path} ${text}`).toBeLessThan(500);
            const parsed = JSON.parse(text) as { error?: { code: string } };
            if (res.status >= 400) expect(parsed.error?.code).toBeTruthy();
          },
        ),
        { numRuns: 100 },
      );
    }
  });
});
