/**
 * `npm run bench:api` — the coordinator over real HTTP (@hono/node-server) with autocannon, 50
 * connections: signed approvals/s (every request a valid, distinct, signed state change: decision
 * requests pre-signed in the custodians' SoftHSM2 tokens across many pending ceremonies, each with
 * its own nonce), a signed read route, and a trivial Hono route in the same run; p50/p99; and the
 * full ceremony latency from the last approval to the first restored byte. SQLite, then
 * PostgreSQL (skipped if it is not reachable). Not a test: it prints a table.
 *   node --import tsx bench/api.ts [--approvals N] [--seconds S] [--sqlite-only]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { atomicFileSink, bufferSource, sealArchive } from '../src/archive/index.ts';
import { registerSnapshot } from '../src/backup/index.ts';
import { startServer } from '../src/coordinator/server.ts';
import { decide, release } from '../src/custodian/client.ts';
import { buildDevDeployment, type DevDeployment } from '../src/devkit/deployment.ts';
import { recipientKeysHash, STATEMENT } from '../src/protocol/statements.ts';
import type { CeremonyView } from '../src/protocol/views.ts';
import { requestUnlock, unlockAndRestore } from '../src/station/client.ts';
import type { StoreOptions } from '../src/store/index.ts';
import { TEST_DATABASE_URL } from '../test/support/pg.ts';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<AutocannonResult>;
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  '2xx': number;
  duration: number;
}

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const APPROVALS = arg('approvals', 4000);
const SECONDS = arg('seconds', 5);
const CONNECTIONS = 50;
const CUSTODIANS = ['custodian-1', 'custodian-2', 'custodian-3', 'custodian-4', 'custodian-5'];
const JUSTIFICATION = { legalBasis: 'DRILL', caseReference: 'BENCH-1', text: 'benchmark' };

interface Row {
  store: string;
  what: string;
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  bad: number;
}

async function trivialServer() {
  const app = new Hono();
  app.get('/ping', (c) => c.json({ ok: true }));
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

interface Signed {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** The exact signed request a principal's client would send, without sending it. */
async function presign(
  w: DevDeployment,
  principal: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
) {
  let out: Signed | undefined;
  const c = w.client(principal, async (_url, init) => {
    out = {
      method,
      path,
      headers: init.headers as Record<string, string>,
      ...(init.body ? { body: init.body as string } : {}),
    };
    return new Response('{}', { status: 200 });
  });
  if (method === 'POST') await c.post(path, body);
  else await c.get(path, true);
  return out!;
}

function row(store: string, what: string, r: AutocannonResult): Row {
  return {
    store,
    what,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    ok: r['2xx'],
    bad: r.non2xx + r.errors,
  };
}

async function run(label: string, store: StoreOptions | undefined, dataDir: string, trivialUrl: string) {
  const rows: Row[] = [];
  const w: DevDeployment = await buildDevDeployment({
    dataDir,
    domains: ['land'],
    coolOffSeconds: 0,
    ...(store ? { store } : {}),
  });
  const server = await startServer(w.coordinator, { port: 0 });
  try {
    const client = (id: string) => w.client(id, undefined, server.url);
    // One sealed snapshot (~1 MiB) to restore at the end.
    const data = Buffer.from('parcel;owner;area\n12-004;Tamm;1200\n'.repeat(30_000));
    const split = w.splits.get('land')!;
    const path = join(dataDir, 'land-1');
    await sealArchive(bufferSource(data), await atomicFileSink(path), {
      manifest: {
        domain: 'land',
        snapshotId: 'land-1',
        sealEpoch: 1,
        createdAt: `${new Date().toISOString().slice(0, 19)}Z`,
        contentType: 'text/csv',
      },
      recipients: [{ publicKey: split.publicKey, epoch: 1 }],
      maker: { signer: 'job/backup-job', rosterId: w.rosterPin, sequence: 1, sign: w.job.sign },
      threads: 0,
    });
    await registerSnapshot(client('backup-job'), path);
    const station = { id: 'station-lux', roster: w.roster, client: client('station-lux') };

    // Pending ceremonies, and one pre-signed decision request per (ceremony, custodian).
    const nCeremonies = Math.ceil(APPROVALS / CUSTODIANS.length);
    process.stderr.write(
      `[${label}] opening ${nCeremonies} ceremonies and pre-signing ${APPROVALS} approvals in the tokens…\n`,
    );
    const ceremonies: CeremonyView[] = [];
    for (let i = 0; i < nCeremonies; i++) {
      ceremonies.push(
        (
          await requestUnlock(station, {
            domain: 'land',
            epoch: 1,
            snapshots: ['land-1'],
            justification: JUSTIFICATION,
            ttlSeconds: 3600,
          })
        ).ceremony,
      );
    }
    const signed: Signed[] = [];
    const clients = new Map(CUSTODIANS.map((c) => [c, client(c)]));
    for (const cer of ceremonies) {
      const b = cer.request.body as { recipientP256: string; recipientXWing: string };
      const keys = recipientKeysHash(
        Buffer.from(b.recipientP256, 'base64url'),
        Buffer.from(b.recipientXWing, 'base64url'),
      );
      for (const cu of CUSTODIANS) {
        if (signed.length >= APPROVALS) break;
        const c = clients.get(cu)!;
        const st = await c.statement(STATEMENT.decision, {
          ceremonyId: cer.id,
          requestHash: cer.requestHash,
          decision: 'approve',
          recipientKeys: keys,
          createdAt: new Date().toISOString(),
        });
        signed.push(await presign(w, cu, 'POST', `/v1/ceremonies/${cer.id}/decisions`, st));
      }
    }
    // Interleave so that concurrent requests mostly hit different ceremonies.
    const order = signed
      .map((_, i) => (i % CUSTODIANS.length) * nCeremonies + Math.floor(i / CUSTODIANS.length))
      .filter((i) => i < signed.length);
    let next = 0;
    const approvals = await autocannon({
      url: server.url,
      connections: CONNECTIONS,
      amount: signed.length,
      requests: [
        {
          setupRequest: (req: Record<string, unknown>) => {
            const r = signed[order[next++ % order.length]!]!;
            return { ...req, method: r.method, path: r.path, headers: r.headers, body: r.body };
          },
        },
      ],
    });
    rows.push(row(label, `signed approvals (POST …/decisions, ${signed.length} distinct)`, approvals));
    const decisions = await w.store.db
      .selectFrom('approvals')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    process.stderr.write(`[${label}] approvals stored: ${decisions.n} of ${signed.length}\n`);

    // The station's signed fetch of releases, one request repeated: the first is served, every repeat
    // is a replay and refused (409): this row measures signature check + nonce refusal.
    const readReq = await presign(w, 'station-lux', 'GET', `/v1/ceremonies/${ceremonies[0]!.id}/releases`);
    const read = await autocannon({
      url: `${server.url}/v1/ceremonies/${ceremonies[0]!.id}/releases`,
      connections: CONNECTIONS,
      duration: SECONDS,
      headers: readReq.headers,
    });
    rows.push(row(label, 'signed GET …/releases replayed (first 200, then 409 replayed)', read));
    const unsignedRead = await autocannon({
      url: `${server.url}/healthz`,
      connections: CONNECTIONS,
      duration: SECONDS,
    });
    rows.push(row(label, 'GET /healthz (store read)', unsignedRead));
    const trivial = await autocannon({
      url: `${trivialUrl}/ping`,
      connections: CONNECTIONS,
      duration: SECONDS,
    });
    rows.push(row(label, 'trivial Hono route (same run)', trivial));

    // Full ceremony: last approval → releases → first restored byte.
    const cer = await requestUnlock(station, {
      domain: 'land',
      epoch: 1,
      snapshots: ['land-1'],
      justification: JUSTIFICATION,
      ttlSeconds: 3600,
    });
    const sess = (id: string) => ({
      id,
      roster: w.roster,
      client: client(id),
      token: w.custodians.get(id)!.token,
      journal: w.custodians.get(id)!.journal,
    });
    for (const id of ['custodian-1', 'custodian-3', 'custodian-5'])
      await decide(sess(id), cer.ceremony.id, 'approve');
    const tLastApproval = performance.now();
    for (const id of ['custodian-1', 'custodian-3', 'custodian-5']) await release(sess(id), cer.ceremony.id);
    const tLastRelease = performance.now();
    const res = await unlockAndRestore(
      station,
      cer.ceremony.id,
      cer.keys,
      () => path,
      join(dataDir, 'restored'),
    );
    const ceremony = {
      approvalToFirstByte: tLastRelease - tLastApproval + res.firstByteMs,
      releaseToFirstByte: res.firstByteMs,
      bytes: res.files[0]!.bytes,
    };
    return { rows, ceremony, trivial: trivial.requests.average, approvals };
  } finally {
    await server.close();
    await w.close();
  }
}

async function pgReachable(): Promise<boolean> {
  const pg = await import('pg');
  const c = new pg.default.Client({
    connectionString: TEST_DATABASE_URL,
    connectionTimeoutMillis: 1000,
  });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

const trivial = await trivialServer();
const results: Awaited<ReturnType<typeof run>>[] = [];
const dirs: string[] = [];
try {
  const d1 = mkdtempSync(join(tmpdir(), 'embassy-bench-api-'));
  dirs.push(d1);
  results.push(await run('sqlite', undefined, d1, trivial.url));
  if (!process.argv.includes('--sqlite-only') && (await pgReachable())) {
    const d2 = mkdtempSync(join(tmpdir(), 'embassy-bench-api-'));
    dirs.push(d2);
    const schema = `bench_${Date.now().toString(36)}`;
    results.push(
      await run(
        'postgres',
        {
          databaseUrl: TEST_DATABASE_URL,
          schema,
          origin: 'data-embassy.example/audit',
        },
        d2,
        trivial.url,
      ),
    );
    const pg = await import('pg');
    const c = new pg.default.Client({ connectionString: TEST_DATABASE_URL });
    await c.connect();
    await c.query(`drop schema if exists ${schema} cascade`);
    await c.end();
  }
} finally {
  await trivial.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

const fmt = (n: number, d = 0) => n.toFixed(d);
const lines = [
  `coordinator API, ${CONNECTIONS} connections (autocannon), node ${process.version}`,
  '',
  '| store | route | req/s | p50 ms | p99 ms | 2xx | non-2xx | ratio to trivial |',
  '|---|---|---:|---:|---:|---:|---:|---:|',
];
for (const r of results) {
  for (const x of r.rows) {
    lines.push(
      `| ${x.store} | ${x.what} | ${fmt(x.rps)} | ${fmt(x.p50)} | ${fmt(x.p99)} | ${x.ok} | ${x.bad} | ${fmt(x.rps / r.trivial, 3)} |`,
    );
  }
}
lines.push(
  '',
  '| store | last approval → first restored byte (3 releases + fetch + combine + open) | last release → first byte | restored bytes |',
  '|---|---:|---:|---:|',
);
for (const [i, r] of results.entries()) {
  lines.push(
    `| ${r.rows[0]!.store} | ${fmt(r.ceremony.approvalToFirstByte)} ms | ${fmt(r.ceremony.releaseToFirstByte)} ms | ${r.ceremony.bytes} |`,
  );
  const ratio = r.approvals.requests.average / r.trivial;
  lines.push(
    `targets (${r.rows[0]!.store}): approvals ≥ 0.25 × trivial: ${ratio >= 0.25 ? 'met' : 'MISSED'} (${fmt(ratio, 3)}); p99 < 50 ms: ${r.approvals.latency.p99 < 50 ? 'met' : 'MISSED'} (${r.approvals.latency.p99} ms); last approval → first byte < 1 s: ${r.ceremony.approvalToFirstByte < 1000 ? 'met' : 'MISSED'}`,
  );
  void i;
}
process.stdout.write(`${lines.join('\n')}\n`);
