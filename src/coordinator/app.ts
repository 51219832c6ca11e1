/**
 * The coordinator's HTTP API (Hono, schemas in zod, OpenAPI 3.1 at /openapi.json, a reference page
 * at /docs). Routes are thin: they validate, call {@link Coordinator}, and return JSON. Request and
 * response bodies are the schemas of src/protocol/ (so /openapi.json describes what is really
 * served). Mutating routes (and the station's fetch of releases) require a signed request.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import pino, { type Logger } from 'pino';
import {
  AuditLogError,
  consistencyProof,
  entries,
  inclusionProof,
  latestCheckpoint,
  treeHead,
} from '../audit/log.ts';
import { CeremonyId } from '../protocol/ids.ts';
import {
  AuditEntryView,
  CeremonyView,
  CheckpointView,
  ConsistencyProofView,
  ErrorView,
  InclusionProofView,
  ReleaseView,
  RosterChainView,
  SnapshotView,
  StatementView,
} from '../protocol/views.ts';
import { ApiError } from './errors.ts';
import type { Coordinator } from './index.ts';
import { accessLog } from './middleware/access-log/index.ts';
import { type AuthEnv, signedRequest } from './middleware/auth/index.ts';
import { errorBody, onError } from './middleware/errors/index.ts';
import { Metrics } from './middleware/metrics/index.ts';

export interface AppOptions {
  log?: Logger;
}

/** A new roster version is checked by the roster module (src/roster/verify.ts), not here. */
const Any = z.record(z.string(), z.unknown());

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});
const errors = {
  400: json(ErrorView, 'malformed request'),
  401: json(ErrorView, 'missing, stale or bad request signature'),
  403: json(ErrorView, 'the principal may not do this'),
  404: json(ErrorView, 'unknown id'),
  409: json(ErrorView, 'replayed request, duplicate, or wrong ceremony state'),
  413: json(ErrorView, 'body too large'),
  415: json(ErrorView, 'not application/json'),
  422: json(ErrorView, 'refused by policy or roster'),
};
const signed = [{ EmbassySignature: [] }];
const IdParam = z.object({ id: CeremonyId });
const body = <T extends z.ZodType>(schema: T) => ({
  body: { content: { 'application/json': { schema } }, required: true },
});

/** What /healthz says about a failed checkpoint; the detail goes to the log. */
const CHECKPOINT_FAILED = {
  code: 'checkpoint_failed',
  message: 'the last checkpoint was not signed; the server log has the cause',
} as const;

export function createApp(coordinator: Coordinator, opts: AppOptions = {}) {
  const log = opts.log ?? pino({ level: 'silent' });
  const metrics = new Metrics();
  const app = new OpenAPIHono<AuthEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const i = result.error.issues[0]!;
        return c.json(errorBody('bad_request', `${i.path.join('.') || 'body'}: ${i.message}`), 400);
      }
    },
  });
  app.onError(onError((f) => log.error(f)));
  coordinator.onCheckpointError((e) =>
    log.error({
      msg: 'checkpoint not signed',
      err: e instanceof Error ? e.name : typeof e,
      detail: e instanceof Error ? e.message : String(e),
    }),
  );
  app.notFound((c) =>
    c.json(errorBody('not_found', `no route ${c.req.method} ${new URL(c.req.url).pathname}`), 404),
  );
  app.use('*', accessLog(log));
  app.use('*', metrics.middleware());
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: 1024 * 1024,
      onError: (c) => c.json(errorBody('payload_too_large', 'request body exceeds 1 MiB'), 413),
    }),
  );
  app.use('/v1/*', async (c, next) => {
    if (c.req.method === 'POST') {
      const type = c.req.header('content-type') ?? '';
      if (!/^application\/json(;|$)/i.test(type))
        throw new ApiError('unsupported_media_type', 'request body must be application/json');
      const text = await c.req.text();
      try {
        JSON.parse(text);
      } catch {
        throw new ApiError('invalid_json', 'request body is not valid JSON');
      }
    }
    await next();
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'EmbassySignature', {
    type: 'apiKey',
    in: 'header',
    name: 'Embassy-Signature',
    description:
      'with Embassy-Principal, Embassy-Timestamp, Embassy-Nonce and Embassy-Roster; see docs/API.md',
  });
  const auth = signedRequest(coordinator);
  const caller = (c: { get(k: 'caller'): AuthEnv['Variables']['caller'] }) => c.get('caller');

  // ---- service
  app.get('/healthz', async (c) => {
    const head = await treeHead(coordinator.store.db);
    // A refused checkpoint is loud: the service reports itself unhealthy until one succeeds. The
    // cause is in the server log, not here (a database error could name internals).
    const ok = coordinator.lastCheckpointError === undefined;
    return c.json(
      {
        ok,
        rosterVersion: coordinator.roster.version,
        rosterId: coordinator.rosterId,
        logSize: head.size,
        ...(ok ? {} : { checkpointError: CHECKPOINT_FAILED }),
      },
      ok ? 200 : 503,
    );
  });
  app.get('/metrics', async (c) => {
    const gauges = await coordinator.gauges();
    const head = await treeHead(coordinator.store.db);
    return c.text(
      metrics.render({
        ceremonies: {
          help: 'Ceremonies by state.',
          values: gauges.ceremonies.map((r) => [{ state: r.state }, r.n]),
        },
        decisions: {
          help: 'Custodian decisions by kind.',
          values: gauges.decisions.map((r) => [{ kind: r.kind }, r.n]),
        },
        audit_log_size: { help: 'Entries in the audit log.', values: [[{}, head.size]] },
      }),
      200,
      { 'content-type': 'text/plain; version=0.0.4' },
    );
  });

  // ---- roster
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/roster',
      summary: 'Every signed roster version, oldest first; clients verify them from their pin',
      responses: {
        200: json(RosterChainView, 'roster chain'),
      },
    }),
    async (c) =>
      c.json(
        {
          rosterId: coordinator.rosterId,
          version: coordinator.roster.version,
          versions: await coordinator.rosterVersions(),
        },
        200,
      ),
  );
  app.use('/v1/roster', async (c, next) => (c.req.method === 'POST' ? auth(c, next) : next()));
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/roster',
      summary: 'Submit the next roster version, signed by thresholds of the old and the new root',
      security: signed,
      request: body(Any),
      responses: {
        201: json(z.object({ version: z.number(), rosterId: z.string() }), 'accepted'),
        ...errors,
      },
    }),
    async (c) => c.json(await coordinator.addRosterVersion(caller(c), c.req.valid('json')), 201),
  );

  // ---- snapshots
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/snapshots',
      summary: 'Registered snapshots',
      request: { query: z.object({ domain: z.string().optional() }) },
      responses: { 200: json(z.object({ snapshots: z.array(SnapshotView) }), 'snapshots') },
    }),
    async (c) => c.json({ snapshots: await coordinator.snapshots(c.req.valid('query').domain) }, 200),
  );
  app.use('/v1/snapshots', async (c, next) => (c.req.method === 'POST' ? auth(c, next) : next()));
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/snapshots',
      summary: 'A backup job registers a sealed archive (signed snapshot-registration statement)',
      security: signed,
      request: body(StatementView),
      responses: { 201: json(z.object({ ok: z.boolean() }), 'registered'), ...errors },
    }),
    async (c) => {
      await coordinator.registerSnapshot(caller(c), c.req.valid('json'));
      return c.json({ ok: true }, 201);
    },
  );

  // ---- ceremonies
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/ceremonies',
      summary: 'Ceremonies, e.g. ?state=pending for what custodians may approve',
      request: { query: z.object({ state: z.string().optional() }) },
      responses: { 200: json(z.object({ ceremonies: z.array(CeremonyView) }), 'ceremonies') },
    }),
    async (c) => c.json({ ceremonies: await coordinator.ceremonies(c.req.valid('query').state) }, 200),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/ceremonies/{id}',
      summary: 'One ceremony: the signed request, decisions so far, the policy verdict',
      request: { params: IdParam },
      responses: { 200: json(CeremonyView, 'ceremony'), ...errors },
    }),
    async (c) => c.json(await coordinator.ceremony(c.req.valid('param').id), 200),
  );
  app.use('/v1/ceremonies', async (c, next) => (c.req.method === 'POST' ? auth(c, next) : next()));
  app.use('/v1/ceremonies/*', async (c, next) =>
    c.req.method === 'POST' || c.req.path.endsWith('/releases') ? auth(c, next) : next(),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/ceremonies',
      summary: 'A registered station opens an unlock request (signed unlock-request statement)',
      security: signed,
      request: body(StatementView),
      responses: { 201: json(CeremonyView, 'ceremony opened'), ...errors },
    }),
    async (c) => c.json(await coordinator.openUnlock(caller(c), c.req.valid('json')), 201),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/ceremonies/{id}/decisions',
      summary: 'A custodian approves or vetoes (signed unlock-decision statement; carries no share)',
      security: signed,
      request: { params: IdParam, ...body(StatementView) },
      responses: { 201: json(CeremonyView, 'decision recorded'), ...errors },
    }),
    async (c) =>
      c.json(await coordinator.decide(caller(c), c.req.valid('param').id, c.req.valid('json')), 201),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/ceremonies/{id}/releases',
      summary: "A custodian's wrapped share, after its client checked the quorum itself",
      security: signed,
      request: {
        params: IdParam,
        ...body(z.strictObject({ statement: StatementView, blob: z.string().max(16384) })),
      },
      responses: { 201: json(CeremonyView, 'release stored'), ...errors },
    }),
    async (c) => {
      const b = c.req.valid('json');
      return c.json(await coordinator.release(caller(c), c.req.valid('param').id, b.statement, b.blob), 201);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/ceremonies/{id}/releases',
      summary: 'The wrapped shares, for the requesting station only (signed GET)',
      security: signed,
      request: { params: IdParam },
      responses: { 200: json(z.object({ releases: z.array(ReleaseView) }), 'releases'), ...errors },
    }),
    async (c) => c.json({ releases: await coordinator.releases(caller(c), c.req.valid('param').id) }, 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/ceremonies/{id}/close',
      summary: 'The station closes its ceremony (done or cancelled); wrapped shares are deleted',
      security: signed,
      request: { params: IdParam, ...body(StatementView) },
      responses: { 200: json(CeremonyView, 'closed'), ...errors },
    }),
    async (c) =>
      c.json(await coordinator.close(caller(c), c.req.valid('param').id, c.req.valid('json')), 200),
  );

  // ---- audit (read-only)
  const num = (name: string) =>
    z.coerce
      .number()
      .int()
      .min(0)
      .openapi({ param: { name, in: 'query' } });
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/audit/entries',
      summary: 'Audit log entries [from, to)',
      request: { query: z.object({ from: num('from'), to: num('to') }) },
      responses: { 200: json(z.object({ entries: z.array(AuditEntryView) }), 'entries'), ...errors },
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json({ entries: await badRange(() => entries(coordinator.store.db, q.from, q.to)) }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/audit/checkpoint',
      summary: 'The latest signed checkpoint (C2SP signed note)',
      responses: { 200: json(CheckpointView, 'checkpoint'), ...errors },
    }),
    async (c) => {
      const cp = await latestCheckpoint(coordinator.store.db);
      if (!cp) throw new ApiError('not_found', 'no checkpoint has been signed yet');
      return c.json(cp, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/audit/inclusion',
      summary: 'Inclusion proof of entry seq in the tree of size',
      request: { query: z.object({ seq: num('seq'), size: num('size') }) },
      responses: { 200: json(InclusionProofView, 'proof'), ...errors },
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await badRange(() => inclusionProof(coordinator.store.db, q.seq, q.size)), 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/audit/consistency',
      summary: 'Consistency proof between two tree sizes',
      request: { query: z.object({ from: num('from'), to: num('to') }) },
      responses: { 200: json(ConsistencyProofView, 'proof'), ...errors },
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await badRange(() => consistencyProof(coordinator.store.db, q.from, q.to)), 200);
    },
  );

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'data-embassy coordinator',
      version: '1',
      description: 'Quorum unlock ceremonies; see docs/API.md',
    },
  });
  app.get('/docs', (c) =>
    c.html(
      referencePage(
        app.getOpenAPI31Document({
          openapi: '3.1.0',
          info: { title: 'data-embassy coordinator', version: '1' },
        }) as never,
      ),
    ),
  );
  return { app, metrics };
}

/**
 * A range the log does not hold is the caller's mistake: a 400 with the log's own text. Any other
 * failure (a database error included) stays an internal error, answered without its message.
 */
async function badRange<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof AuditLogError && e.code === 'audit_bad_range')
      throw new ApiError('bad_request', e.message);
    throw e;
  }
}

/** A self-contained reference page rendered from the OpenAPI document (no external scripts). */
function referencePage(doc: {
  paths?: Record<string, Record<string, { summary?: string; security?: unknown[] }>>;
}): string {
  const esc = (s: string) => s.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
  const rows = Object.entries(doc.paths ?? {}).flatMap(([path, ops]) =>
    Object.entries(ops).map(
      ([method, op]) =>
        `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${esc(path)}</code></td><td>${op.security ? 'signed' : ''}</td><td>${esc(op.summary ?? '')}</td></tr>`,
    ),
  );
  return `<!doctype html><html><head><meta charset="utf-8"><title>data-embassy coordinator API</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}td{padding:.3rem .6rem;border-bottom:1px solid #ddd}</style></head>
<body><h1>data-embassy coordinator API</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Request signing: docs/API.md.</p>
<table><tr><th>method</th><th>path</th><th>auth</th><th>what</th></tr>${rows.join('\n')}</table></body></html>`;
}
