// The rewrap job on real files and a real SQLite store: archives open with the new epoch key and no
// longer with the old one, bodies are byte-identical, and a kill -9 of a real child process at each
// step followed by a rerun leaves every archive rewrapped exactly once.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ArchiveError } from '../../src/archive/errors.ts';
import { parseQuorumStanza, STANZA_QUORUM } from '../../src/archive/header.ts';
import { atomicFileSink, bufferSink, fileSource } from '../../src/archive/io.ts';
import { openArchive } from '../../src/archive/open.ts';
import { rewrapArchive } from '../../src/archive/rekey.ts';
import { equalCt } from '../../src/crypto/bytes.ts';
import type { Identity } from '../../src/crypto/keys.ts';
import { archivesFromDirectory, archivesFromStore } from '../../src/jobs/common.ts';
import { rewrapJob } from '../../src/jobs/rewrap.ts';
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

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function world(n: number) {
  const dataDir = mkdtempSync(join(tmpdir(), 'embassy-jobs-'));
  dirs.push(dataDir);
  const store = await openStore({ dataDir });
  const oldId = newIdentity();
  const newId = newIdentity();
  const archiveDir = join(dataDir, 'archives');
  const paths = await sealArchives(store, archiveDir, n, oldId);
  return { dataDir, store, oldId, newId, archiveDir, paths, stateDir: join(dataDir, 'jobs') };
}

async function opens(path: string, id: Identity): Promise<Uint8Array> {
  const sink = bufferSink();
  await openArchive(await fileSource(path), sink, { identities: [id], threads: 0 });
  return sink.result();
}

async function openError(path: string, id: Identity): Promise<string> {
  try {
    await opens(path, id);
    return 'opened';
  } catch (e) {
    return e instanceof ArchiveError ? e.code : String(e);
  }
}

async function quorumKeyIds(path: string) {
  const { header } = await headerOf(path);
  return header.stanzas.filter((s) => s.type === STANZA_QUORUM).map((s) => parseQuorumStanza(s.body));
}

/** Each archive id in the job's batch entries, with how often it appears. */
async function batchCounts(store: Store) {
  const counts = new Map<string, number>();
  for (const e of await auditEntries(store))
    if (e.kind === 'rekey-rewrap-batch')
      for (const a of e.data!['archives'] as { id: string }[]) counts.set(a.id, (counts.get(a.id) ?? 0) + 1);
  return counts;
}

describe('rewrap job', () => {
  it('rewraps every archive: opens with the new key only, body byte-identical, rerun does nothing', async () => {
    const w = await world(9);
    const before = w.paths.map((p) => readFileSync(p));
    const oldBodies = await Promise.all(w.paths.map(async (p) => (await headerOf(p)).body));
    const r = await rewrapJob({
      domain: 'land',
      identities: [w.oldId],
      recipient: { publicKey: w.newId.publicKey, epoch: 2, keyId: w.newId.keyId },
      archives: await archivesFromStore(w.store, 'land'),
      stateDir: w.stateDir,
      store: w.store,
      actor: 'station-ee',
      batchSize: 4,
    });
    expect(r.complete).toBe(true);
    expect(r.counters).toMatchObject({ rewritten: 9, failed: 0, skipped: 0 });
    for (const [i, p] of w.paths.entries()) {
      expect(Buffer.from(await opens(p, w.newId)).equals(plaintextOf(i))).toBe(true);
      expect(await openError(p, w.oldId)).toBe('no_matching_stanza');
      const { body, header } = await headerOf(p);
      expect(Buffer.from(body).equals(Buffer.from(oldBodies[i]!))).toBe(true);
      const q = await quorumKeyIds(p);
      expect(q).toHaveLength(1);
      expect(equalCt(q[0]!.keyId, w.newId.keyId)).toBe(true);
      expect(q[0]!.epoch).toBe(2);
      expect(header.manifest.sealEpoch).toBe(1);
      expect(readFileSync(p).equals(before[i]!)).toBe(false);
    }
    const kinds = (await auditEntries(w.store)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'rekey-rewrap-start')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'rekey-rewrap-batch')).toHaveLength(3);
    expect(kinds.filter((k) => k === 'rekey-rewrap-complete')).toHaveLength(1);
    expect([...(await batchCounts(w.store)).values()].every((c) => c === 1)).toBe(true);
    // no secret material in the log
    const log = JSON.stringify(await auditEntries(w.store));
    expect(log).not.toContain(hex(w.oldId.seed));

    const ino = inodes(w.paths);
    const again = await rewrapJob({
      domain: 'land',
      identities: [w.oldId],
      recipient: { publicKey: w.newId.publicKey, epoch: 2 },
      archives: await archivesFromStore(w.store, 'land'),
      stateDir: w.stateDir,
      store: w.store,
      actor: 'station-ee',
    });
    expect(again.complete).toBe(true);
    expect(again.counters.rewritten).toBe(0);
    expect(inodes(w.paths)).toEqual(ino);
    expect((await auditEntries(w.store)).length).toBe(kinds.length);
    await w.store.close();
  });

  it('skips archives already under the new key, fails (and keeps) archives it cannot open, from a directory', async () => {
    const w = await world(3);
    // one archive sealed to a key the station does not hold, one already under the new key
    await sealArchives(w.store, join(w.archiveDir, 'other'), 1, newIdentity(), undefined, {
      register: false,
      prefix: 'foreign',
    });
    const first = w.paths[0]!;
    await rewrapArchive(await fileSource(first), await atomicFileSink(first), {
      identities: [w.oldId],
      recipients: [{ publicKey: w.newId.publicKey, epoch: 2 }],
    });
    const refs = archivesFromDirectory(w.archiveDir);
    expect(refs.map((r) => r.id)).toContain('land-0000.emb');
    const r = await rewrapJob({
      domain: 'land',
      identities: [w.oldId],
      recipient: { publicKey: w.newId.publicKey, epoch: 2 },
      archives: refs,
      stateDir: w.stateDir,
      actor: 'station-ee',
    });
    expect(r.complete).toBe(false);
    expect(r.failed.map((f) => [f.id, f.code])).toEqual([['other/foreign-0000.emb', 'no_old_key']]);
    expect(r.counters).toMatchObject({ rewritten: 2, skipped: 1, failed: 1 });
    for (const p of w.paths) expect(await openError(p, w.newId)).toBe('opened');
    await w.store.close();
  });

  it('refuses a new key that does not match the roster key id', async () => {
    const w = await world(1);
    await expect(
      rewrapJob({
        domain: 'land',
        identities: [w.oldId],
        recipient: { publicKey: w.newId.publicKey, epoch: 2, keyId: w.oldId.keyId },
        archives: [],
        stateDir: w.stateDir,
        actor: 'station-ee',
      }),
    ).rejects.toMatchObject({ code: 'bad_argument' });
    await w.store.close();
  });

  const points = [
    'rewrap:mid-write:3',
    'rewrap:before-rename:3',
    'rewrap:after-rename:3',
    'rewrap:after-rename:8',
    'rewrap:before-audit:1',
    'rewrap:before-audit:2',
    'rewrap:before-journal:1',
    'rewrap:before-journal:2',
    'rewrap:after-batch:1',
  ];
  it.each(points)('kill -9 at %s, then a rerun: every archive rewrapped exactly once', async (point) => {
    const N = 10;
    const w = await world(N);
    await w.store.close();
    const cfg = {
      job: 'rewrap',
      dataDir: w.dataDir,
      stateDir: w.stateDir,
      oldSeed: hex(w.oldId.seed),
      newPublicKey: hex(w.newId.publicKey),
    };
    const orig = inodes(w.paths);
    const crashed = await runChild(cfg, point);
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    const atCrash = inodes(w.paths);
    const doneAtCrash = [];
    for (const [i, p] of w.paths.entries()) {
      const q = await quorumKeyIds(p);
      const isNew = equalCt(q[0]!.keyId, w.newId.keyId);
      // an archive is either untouched or completely rewrapped
      expect(isNew).toBe(atCrash[i] !== orig[i]);
      if (isNew) doneAtCrash.push(i);
    }
    expect(doneAtCrash.length).toBeLessThan(N);

    const rerun = await runChild(cfg);
    expect(rerun.code, rerun.stderr).toBe(0);
    const r = JSON.parse(rerun.stdout);
    expect(r.complete).toBe(true);
    expect(r.counters.rewritten).toBe(N - doneAtCrash.length);
    const after = inodes(w.paths);
    for (const i of doneAtCrash) expect(after[i]).toBe(atCrash[i]); // not rewritten a second time
    expect(tempsIn(w.archiveDir)).toEqual([]);

    const store = await openStore({ dataDir: w.dataDir });
    const counts = await batchCounts(store);
    expect(counts.size).toBe(N);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    const kinds = (await auditEntries(store)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'rekey-rewrap-start')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'rekey-rewrap-complete')).toHaveLength(1);
    await store.close();
    for (const [i, p] of w.paths.entries()) {
      expect(Buffer.from(await opens(p, w.newId)).equals(plaintextOf(i))).toBe(true);
      expect(await openError(p, w.oldId)).toBe('no_matching_stanza');
    }
  });
});
