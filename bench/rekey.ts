/**
 * `npm run bench:rekey` (not a timed test): the rewrap job on 10,000 small archives after a rotation
 * (archives/s, with journal, audit batches in SQLite, fsync and rename per archive) against the bare
 * cost of one HPKE open + one HPKE seal per archive measured in the same run (target ≥ 0.7 of bare);
 * then the home-key rotation through SoftHSM2 (rewraps/s), against bare `home.rewrap` calls.
 *
 * Environment: REKEY_N (default 10000), HOME_N (default 2000), REKEY_CONCURRENCY (default 16),
 * BENCH_DIR (default a temporary directory, removed afterwards).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DevPins, initDevTokens, openHome } from '../hsm/index.ts';
import {
  type Header,
  makeQuorumStanza,
  openQuorumStanza,
  parseHomeStanza,
  parseQuorumStanza,
  STANZA_HOME,
  STANZA_QUORUM,
} from '../src/archive/header.ts';
import { homeWrapper } from '../src/archive/home.ts';
import { bufferSink, bufferSource } from '../src/archive/io.ts';
import { sealArchive } from '../src/archive/seal.ts';
import { type Identity, identityFromSeed } from '../src/crypto/keys.ts';
import { xwingKeygen } from '../src/crypto/xwing.ts';
import { archivesFromStore } from '../src/jobs/common.ts';
import { homeRotateJob } from '../src/jobs/home-rotate.ts';
import { rewrapJob } from '../src/jobs/rewrap.ts';
import { openStore, type Store } from '../src/store/index.ts';
import { table } from './measure.ts';

const N = Number(process.env['REKEY_N'] ?? 10_000);
const HOME_N = Number(process.env['HOME_N'] ?? 2_000);
const CONCURRENCY = Number(process.env['REKEY_CONCURRENCY'] ?? 16);
const own = process.env['BENCH_DIR'] === undefined;
const base = process.env['BENCH_DIR'] ?? mkdtempSync(join(tmpdir(), 'embassy-bench-rekey-'));
const log = (s: string) => process.stderr.write(`${s}\n`);

const newIdentity = (): Identity => identityFromSeed(xwingKeygen().seed);

/** Seals `n` small archives (1–3 KiB) into `dir` and registers them; no fsync (setup only). */
async function seal(
  store: Store,
  dir: string,
  n: number,
  domain: string,
  id: Identity,
  home?: Parameters<typeof homeWrapper>[0],
): Promise<Header[]> {
  mkdirSync(dir, { recursive: true });
  const headers: Header[] = [];
  const rows = [];
  for (let i = 0; i < n; i++) {
    const snapshotId = `${domain}-${i}`;
    const sink = bufferSink();
    const r = await sealArchive(bufferSource(Buffer.alloc(1024 + (i % 2048), i & 0xff)), sink, {
      manifest: {
        domain,
        snapshotId,
        sealEpoch: 1,
        createdAt: '2026-01-01T00:00:00Z',
        contentType: 'text/csv',
      },
      recipients: [{ publicKey: id.publicKey, epoch: 1 }],
      ...(home ? { home: [homeWrapper(home)] } : {}),
      threads: 0,
    });
    const path = join(dir, `${snapshotId}.emb`);
    writeFileSync(path, sink.result());
    headers.push(r.header);
    rows.push({
      id: snapshotId,
      domain,
      seal_epoch: 1,
      size: r.archiveBytes,
      digest: '0'.repeat(64),
      location: path,
      sequence: i + 1,
      manifest_json: '{}',
      registered_by: 'bench',
      registered_at: new Date().toISOString(),
    });
  }
  for (let i = 0; i < rows.length; i += 500)
    await store.db
      .insertInto('snapshots')
      .values(rows.slice(i, i + 500))
      .execute();
  return headers;
}

/** The bare crypto of one rewrap: HPKE open with the old key, HPKE seal to the new one. */
async function bare(headers: Header[], oldId: Identity, newKey: Uint8Array): Promise<number> {
  const start = performance.now();
  for (const h of headers) {
    const s = h.stanzas.find((x) => x.type === STANZA_QUORUM)!;
    const dek = await openQuorumStanza(h, parseQuorumStanza(s.body), oldId.seed, oldId.keyId);
    await makeQuorumStanza(h.manifest, h.manifestBytes, dek, newKey, 2);
    dek.fill(0);
  }
  return (performance.now() - start) / 1000;
}

async function main() {
  const rows: (string | number)[][] = [];
  // ---- quorum rewrap
  const dataDir = join(base, 'data');
  const store = await openStore({ dataDir });
  const oldId = newIdentity();
  const newId = newIdentity();
  log(`sealing ${N} archives…`);
  const headers = await seal(store, join(base, 'archives'), N, 'land', oldId);
  log('bare HPKE open + seal…');
  const bare1 = await bare(headers, oldId, newId.publicKey);
  log('rewrap job…');
  const t0 = performance.now();
  const r = await rewrapJob({
    domain: 'land',
    identities: [oldId],
    recipient: { publicKey: newId.publicKey, epoch: 2 },
    archives: await archivesFromStore(store, 'land'),
    stateDir: join(base, 'jobs'),
    store,
    actor: 'bench-station',
    concurrency: CONCURRENCY,
  });
  const jobSecs = (performance.now() - t0) / 1000;
  if (!r.complete || r.counters.rewritten !== N)
    throw new Error(`rewrap incomplete: ${JSON.stringify(r.counters)}`);
  const bare2 = await bare(headers, oldId, newId.publicKey);
  const bareSecs = Math.min(bare1, bare2);
  rows.push(
    ['bare HPKE open + seal (best of 2)', N, bareSecs.toFixed(2), (N / bareSecs).toFixed(0), '1.00'],
    [
      `rewrap job (concurrency ${CONCURRENCY}, fsync + rename each, audit batches)`,
      N,
      jobSecs.toFixed(2),
      (N / jobSecs).toFixed(0),
      (bareSecs / jobSecs).toFixed(2),
    ],
  );
  await store.close();

  // ---- home-key rotation through SoftHSM2
  log('SoftHSM2 tokens…');
  const tokens = await initDevTokens({ dataDir: join(base, 'hsm'), custodians: 1 });
  const pins = JSON.parse(readFileSync(tokens.pinsPath, 'utf8')) as DevPins;
  const home = await openHome({ label: 'home', pin: pins['home']!.user });
  const hstore = await openStore({ dataDir: join(base, 'hdata') });
  log(`sealing ${HOME_N} archives with a home stanza…`);
  const hheaders = await seal(hstore, join(base, 'harchives'), HOME_N, 'census', oldId, home);
  // bare: rewrap each stanza to a spare KEK and back is two calls; time one direction to a fresh KEK
  const from = home.kekId;
  log('bare home.rewrap…');
  const spare = await home.rotate();
  const tb = performance.now();
  for (const h of hheaders) {
    const hs = parseHomeStanza(h.stanzas.find((x) => x.type === STANZA_HOME)!.body);
    await home.rewrap(hs.wrapped, from, spare);
  }
  const bareHome = (performance.now() - tb) / 1000;
  log('home rotation job…');
  const th = performance.now();
  const hr = await homeRotateJob({
    home,
    archives: await archivesFromStore(hstore),
    stateDir: join(base, 'hjobs'),
    store: hstore,
    actor: 'bench-restore',
  });
  const homeSecs = (performance.now() - th) / 1000;
  if (!hr.complete || hr.counters.rewritten !== HOME_N)
    throw new Error(
      `home rotation incomplete: ${JSON.stringify(hr.counters)} ${JSON.stringify(hr.failed[0])}`,
    );
  rows.push(
    ['bare home.rewrap in SoftHSM2', HOME_N, bareHome.toFixed(2), (HOME_N / bareHome).toFixed(0), '1.00'],
    [
      'home-rotate job (rotate, rewrap in HSM, fsync + rename each, retire)',
      HOME_N,
      homeSecs.toFixed(2),
      (HOME_N / homeSecs).toFixed(0),
      (bareHome / homeSecs).toFixed(2),
    ],
  );
  home.close();
  await hstore.close();

  process.stdout.write(
    `\n${table(['what', 'archives', 'seconds', 'archives/s', 'ratio to bare'], rows)}\n\n` +
      `node ${process.version}, ${new Date().toISOString()}; target: rewrap job ≥ 0.70 of bare\n`,
  );
}

try {
  await main();
} finally {
  if (own) rmSync(base, { recursive: true, force: true });
}
