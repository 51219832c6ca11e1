// Home-key rotation on real SoftHSM2 tokens and a real SQLite store: every home stanza moves to the
// new KEK inside the HSM, the quorum stanza and MAC stay valid, the old KEK is retired last, and a
// kill -9 of a real child process at each step followed by a rerun finishes with each step once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevPins, type HomeHsm, initDevTokens, openHome } from '../../hsm/index.ts';
import { parseHomeStanza, STANZA_HOME } from '../../src/archive/header.ts';
import { homeUnwrapper } from '../../src/archive/home.ts';
import { bufferSink, fileSource } from '../../src/archive/io.ts';
import { openArchive } from '../../src/archive/open.ts';
import { archivesFromStore } from '../../src/jobs/common.ts';
import { homeRotateJob } from '../../src/jobs/home-rotate.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import {
  auditEntries,
  headerOf,
  hex,
  inodes,
  newIdentity,
  plaintextOf,
  runChild,
  sealArchives,
  tempsIn,
} from './helpers.ts';

// One SoftHSM2 token directory per file (SOFTHSM2_CONF is read once per process); each test uses
// its own store and archives, and rotates the same home token further.
let base: string;
let pins: DevPins;
let pinsPath: string;
let confPath: string;
beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'embassy-jobs-home-'));
  const r = await initDevTokens({ dataDir: base, custodians: 1 });
  pinsPath = r.pinsPath;
  confPath = r.confPath;
  pins = JSON.parse((await import('node:fs')).readFileSync(pinsPath, 'utf8')) as DevPins;
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

const openTheHome = () => openHome({ label: 'home', pin: pins['home']!.user });

async function world(n: number) {
  const dataDir = mkdtempSync(join(base, 'w-'));
  const store = await openStore({ dataDir });
  const quorum = newIdentity();
  const home = await openTheHome();
  const archiveDir = join(dataDir, 'archives');
  const paths = await sealArchives(store, archiveDir, n, quorum, home);
  // one archive without a home stanza (the domain did not opt in)
  const [plain] = await sealArchives(store, join(dataDir, 'plain'), 1, quorum, undefined, {
    prefix: 'plain',
    firstSequence: 1000,
  });
  const fromKek = home.kekId;
  home.close();
  return {
    dataDir,
    store,
    quorum,
    archiveDir,
    paths,
    plain: plain!,
    fromKek,
    stateDir: join(dataDir, 'jobs'),
  };
}

async function homeKekOf(path: string): Promise<string | undefined> {
  const { header } = await headerOf(path);
  const s = header.stanzas.find((x) => x.type === STANZA_HOME);
  return s ? hex(parseHomeStanza(s.body).kekId) : undefined;
}

async function openWith(path: string, keys: { home?: HomeHsm; quorum?: ReturnType<typeof newIdentity> }) {
  const sink = bufferSink();
  await openArchive(await fileSource(path), sink, {
    ...(keys.home ? { home: homeUnwrapper(keys.home) } : {}),
    ...(keys.quorum ? { identities: [keys.quorum] } : {}),
    threads: 0,
  });
  return Buffer.from(sink.result());
}

async function checkAfter(w: Awaited<ReturnType<typeof world>>, store: Store, to: string) {
  const home = await openTheHome();
  try {
    expect(home.kekId).toBe(to);
    expect(await home.kekIds()).toEqual([to]); // rotated exactly once, old KEK retired
    for (const [i, p] of w.paths.entries()) {
      expect(await homeKekOf(p)).toBe(to);
      expect((await openWith(p, { home })).equals(plaintextOf(i))).toBe(true);
      expect((await openWith(p, { quorum: w.quorum })).equals(plaintextOf(i))).toBe(true);
    }
  } finally {
    home.close();
  }
  const log = await auditEntries(store);
  const count = (k: string) => log.filter((e) => e.kind === k).length;
  for (const k of [
    'home-kek-rotate-intent',
    'home-kek-rotate',
    'home-kek-retire-intent',
    'home-kek-retire',
    'home-rotate-complete',
  ])
    expect(count(k), k).toBe(1);
  expect(log.find((e) => e.kind === 'home-kek-rotate-intent')!.data!['kekId']).toBe(to);
  expect(log.find((e) => e.kind === 'home-kek-retire')!.data!['kekId']).toBe(w.fromKek);
  const ids = new Map<string, number>();
  for (const e of log.filter((x) => x.kind === 'home-rewrap-batch'))
    for (const a of e.data!['archives'] as { id: string }[]) ids.set(a.id, (ids.get(a.id) ?? 0) + 1);
  expect(ids.size).toBe(w.paths.length + 1);
  expect([...ids.values()].every((c) => c === 1)).toBe(true);
  // intent before the HSM step, outcome after, retire after every batch
  const kinds = log.map((e) => e.kind);
  expect(kinds.indexOf('home-kek-rotate-intent')).toBeLessThan(kinds.indexOf('home-kek-rotate'));
  expect(kinds.lastIndexOf('home-rewrap-batch')).toBeLessThan(kinds.indexOf('home-kek-retire-intent'));
}

describe('home-key rotation job', () => {
  it('rotates, rewraps every home stanza in the HSM (only that stanza changes), retires the old KEK', async () => {
    const w = await world(5);
    const before = await Promise.all(w.paths.map((p) => headerOf(p)));
    const home = await openTheHome();
    const r = await homeRotateJob({
      home,
      archives: await archivesFromStore(w.store),
      stateDir: w.stateDir,
      store: w.store,
      actor: 'restore-officer',
      batchSize: 2,
    });
    home.close();
    expect(r.complete).toBe(true);
    expect(r.retired).toBe(true);
    expect(r.fromKekId).toBe(w.fromKek);
    expect(r.counters).toMatchObject({ rewritten: 5, skipped: 1, failed: 0 });
    for (const [i, p] of w.paths.entries()) {
      const after = await headerOf(p);
      expect(after.bytes.length).toBe(before[i]!.bytes.length);
      expect(Buffer.from(after.body).equals(Buffer.from(before[i]!.body))).toBe(true);
      expect(Buffer.from(after.header.mac).equals(Buffer.from(before[i]!.header.mac))).toBe(true);
      // the only differing bytes are inside the home stanza (kek id and wrapped DEK)
      const diff = [...after.bytes].flatMap((b, j) => (b !== before[i]!.bytes[j] ? [j] : []));
      const hs = after.header.bytes.length - 32 - (2 + 16 + 2 + 40);
      expect(diff.every((j) => j >= hs && j < hs + 60)).toBe(true);
    }
    await checkAfter(w, w.store, r.toKekId);
    // a rerun starts nothing new until asked: it would rotate again, so check the journal says complete
    await w.store.close();
  });

  const points = [
    'home:before-rotate:1',
    'home:after-rotate:1',
    'home:mid-write:2',
    'home:before-rename:2',
    'home:after-rename:4',
    'home:before-audit:1',
    'home:before-journal:2',
    'home:after-batch:1',
    'home:before-retire:1',
    'home:after-retire:1',
  ];
  it.each(points)(
    'kill -9 at %s, then a rerun: rotated once, every stanza rewrapped once, retired',
    async (point) => {
      const w = await world(6);
      await w.store.close();
      const cfg = { job: 'home', dataDir: w.dataDir, stateDir: w.stateDir, pinsPath };
      const env = { SOFTHSM2_CONF: confPath };
      const orig = inodes(w.paths);
      const crashed = await runChild(cfg, point, env);
      expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
      const atCrash = inodes(w.paths);
      const rerun = await runChild(cfg, undefined, env);
      expect(rerun.code, rerun.stderr).toBe(0);
      const r = JSON.parse(rerun.stdout);
      expect(r.complete).toBe(true);
      expect(r.fromKekId).toBe(w.fromKek);
      const after = inodes(w.paths);
      const changedAtCrash = orig.filter((x, i) => x !== atCrash[i]).length;
      expect(r.counters.rewritten).toBe(w.paths.length - changedAtCrash);
      for (const [i] of w.paths.entries()) if (atCrash[i] !== orig[i]) expect(after[i]).toBe(atCrash[i]);
      expect(tempsIn(w.archiveDir)).toEqual([]);
      const store = await openStore({ dataDir: w.dataDir });
      await checkAfter(w, store, r.toKekId);
      await store.close();
    },
  );
});
