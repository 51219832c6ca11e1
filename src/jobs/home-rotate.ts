/**
 * Home-key rotation (docs/DECISIONS.md#f4, #d5, #d6): generate a new home key-encryption key in
 * the home HSM, rewrap every archive's home stanza from the old KEK to the new one inside the HSM
 * (the DEK never reaches this process), and retire the old KEK only after every archive's home
 * stanza is under the new one. Home stanzas are outside the header MAC (docs/FORMAT.md §5), so the
 * rewrite changes only that stanza's bytes; the rest of the archive is copied byte for byte.
 *
 * HSM steps log an intent entry before and an outcome entry after, keyed by the KEK's CKA_ID. The
 * job is resumable like the rewrap job: a run resumes an unfinished rotation found in `stateDir`,
 * otherwise it starts a new one. The caller opens the home HSM (the restore role holds its PIN;
 * the job never reads a PIN).
 *
 * @example
 * const home = await openHome({ label: 'home', pin });
 * const r = await homeRotateJob({ home, archives: await archivesFromStore(store), stateDir, store,
 *   actor: 'restore-officer' });
 * home.close();
 * @module
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { HomeHsm } from '../../hsm/index.ts';
import {
  type Header,
  makeHomeStanza,
  parseHomeStanza,
  readHeader,
  STANZA_HOME,
  type Stanza,
} from '../archive/header.ts';
import { exactReader, fileSource } from '../archive/io.ts';
import { inPlace, replaceHeader } from '../archive/rekey.ts';
import { equalCt, fromHex, toHex } from '../crypto/bytes.ts';
import type { JsonValue } from '../crypto/jcs.ts';
import { describeError } from '../errors.ts';
import { fsyncDir, removeStaleTemps } from '../fs/durable.ts';
import { type Faults, noFaults } from '../fs/faults.ts';
import type { Store } from '../store/index.ts';
import {
  type ArchiveRef,
  AuditRecorder,
  failureOf,
  type JobCounters,
  JobError,
  Journal,
  newCounters,
  pool,
  progressLine,
} from './common.ts';
import type { ArchiveFailure } from './rewrap.ts';

export interface HomeRotateOptions {
  /** The opened home HSM (its PIN stays with the caller). */
  home: HomeHsm;
  /** Every archive that may carry a home stanza (all domains): {@link archivesFromStore} without a domain. */
  archives: ArchiveRef[];
  stateDir: string;
  store?: Store;
  actor: string;
  /** Retire the old KEK at the end (default true). */
  retire?: boolean;
  /** Archives in flight at once (default 16; HSM calls are bounded by the token's session pool). */
  concurrency?: number;
  batchSize?: number;
  progress?: boolean;
  onProgress?: (c: Readonly<JobCounters>, done: number, total: number) => void;
  /** Crash injection for tests (the test-support CLI wrapper); none by default. */
  faults?: Faults;
}

export interface HomeRotateResult {
  jobId: string;
  journalPath: string;
  fromKekId: string;
  toKekId: string;
  total: number;
  done: number;
  counters: JobCounters;
  failed: ArchiveFailure[];
  /** The old KEK was destroyed (every home stanza is under the new KEK). */
  retired: boolean;
  complete: boolean;
}

type Outcome =
  | { id: string; how: 'rewrapped' | 'found' | 'none'; header: string; bytes: number; path: string }
  | { id: string; how: 'failed'; code: string; message: string };

const JOB_RE = /^home-rotate-g(\d+)\.journal$/;
const generation = (kekId: string) => Buffer.from(kekId, 'hex').readUInt32BE(0);

/** Runs or resumes a home-key rotation. Per-archive failures are returned, not thrown. @throws {JobError} */
export async function homeRotateJob(opts: HomeRotateOptions): Promise<HomeRotateResult> {
  mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
  const { home } = opts;
  const faults = opts.faults ?? noFaults;
  // Resume an unfinished rotation if there is one; else start one from the current KEK.
  let journal: Journal | undefined;
  for (const name of readdirSync(opts.stateDir)
    .filter((n) => JOB_RE.test(n))
    .sort()) {
    const j = Journal.open(join(opts.stateDir, name));
    if (j.find('complete') === undefined) {
      journal = j;
      break;
    }
    j.close();
  }
  if (journal === undefined) {
    const g = generation(home.kekId);
    journal = Journal.open(join(opts.stateDir, `home-rotate-g${g}.journal`));
    if (journal.find('complete') !== undefined) {
      journal.close();
      throw new JobError(
        'journal_mismatch',
        `a finished rotation from generation ${g} is recorded but the token still uses it`,
      );
    }
  }
  try {
    const jobId = journal.path.slice(journal.path.lastIndexOf('/') + 1, -'.journal'.length);
    let job = journal.find('job');
    if (job === undefined) {
      job = { t: 'job', kind: 'home-rotate', from: home.kekId };
      journal.append(job);
    }
    const from = String(job['from']);
    const audit = await AuditRecorder.open(opts.store, opts.actor, jobId, journal);

    // 1. Rotate: intent (keyed by the new CKA_ID), generate in the token, outcome.
    let next = journal.find('next');
    if (next === undefined) {
      next = { t: 'next', to: await home.nextKekId() };
      journal.append(next);
    }
    const to = String(next['to']);
    if (journal.find('rotated') === undefined) {
      await audit.record('home-kek-rotate-intent', 'rotate-intent', { kekId: to, fromKekId: from });
      faults.at('home:before-rotate');
      if (!(await home.kekIds()).includes(to)) await home.rotate(to);
      else if (home.kekId !== to)
        throw new JobError('home_kek_missing', `home KEK ${to} exists but is not the current one`);
      faults.at('home:after-rotate');
      await audit.record('home-kek-rotate', 'rotate', { kekId: to, fromKekId: from });
      journal.append({ t: 'rotated' });
    } else if (home.kekId !== to) {
      throw new JobError('home_kek_missing', `the current home KEK is not ${to}, which this job created`);
    }

    // 2. Rewrap every home stanza, in batches recorded in the audit log, then the journal.
    const batches = journal.all('batch');
    for (let k = batches.length; ; k++) {
      const d = audit.logged(`batch-${k}`);
      if (d === undefined) break;
      journal.append({ t: 'batch', k, done: d['archives'] as JsonValue[] });
    }
    const done = new Set<string>();
    for (const b of journal.all('batch')) for (const a of b['done'] as { id: string }[]) done.add(a.id);
    const counters = newCounters();
    const failed: ArchiveFailure[] = [];
    const todo = opts.archives.filter((a) => !done.has(a.id));
    await removeStaleTemps(todo.map((a) => dirname(a.path)));
    const held = new Set(await home.kekIds());
    counters.skipped += opts.archives.length - todo.length;
    const total = opts.archives.length;
    const bar = progressLine('home-rotate', total, opts.progress);
    const batchSize = Math.max(1, opts.batchSize ?? 256);
    for (let i = 0; i < todo.length; i += batchSize) {
      const batch = todo.slice(i, i + batchSize);
      const outcomes = await pool(batch, opts.concurrency ?? 16, (a) =>
        rehomeFile(a, home, held, to, faults).catch(
          (e): Outcome => ({ id: a.id, how: 'failed', ...failureOf(e) }),
        ),
      );
      const dirs = new Set<string>();
      const ok: { id: string; how: string; header: string }[] = [];
      for (const o of outcomes) {
        counters.scanned++;
        if (o.how === 'failed') {
          failed.push({ id: o.id, code: o.code, message: o.message });
          counters.failed++;
          continue;
        }
        ok.push({ id: o.id, how: o.how, header: o.header });
        if (o.how === 'rewrapped') {
          counters.rewritten++;
          counters.bytesWritten += o.bytes;
          dirs.add(dirname(o.path));
        } else counters.skipped++;
      }
      for (const d of dirs) await fsyncDir(d);
      faults.at('home:before-audit');
      if (ok.length > 0) {
        const k = journal.all('batch').length;
        await audit.record('home-rewrap-batch', `batch-${k}`, { kekId: to, fromKekId: from, archives: ok });
        faults.at('home:before-journal');
        journal.append({ t: 'batch', k, done: ok });
        for (const a of ok) done.add(a.id);
      }
      bar.update(done.size);
      opts.onProgress?.(counters, done.size, total);
      faults.at('home:after-batch');
    }
    bar.end();

    // 3. Retire the old KEK once every archive's home stanza is under the new one (checked again now).
    let retired = journal.find('retired') !== undefined;
    let complete = retired || (failed.length === 0 && opts.archives.every((a) => done.has(a.id)));
    if (complete && !retired && opts.retire !== false) {
      const stale: string[] = [];
      for (const a of opts.archives) if (await referencesOtherKek(a, to)) stale.push(a.id);
      if (stale.length > 0) {
        complete = false;
        for (const id of stale)
          failed.push({
            id,
            code: 'verify_failed',
            message: `archive ${id} still has a home stanza under an old KEK`,
          });
      } else {
        await audit.record('home-kek-retire-intent', 'retire-intent', { kekId: from });
        faults.at('home:before-retire');
        if ((await home.kekIds()).includes(from)) await home.retire(from);
        faults.at('home:after-retire');
        await audit.record('home-kek-retire', 'retire', { kekId: from });
        journal.append({ t: 'retired' });
        retired = true;
      }
    }
    if (complete && (retired || opts.retire === false)) {
      await audit.record('home-rotate-complete', 'complete', {
        kekId: to,
        fromKekId: from,
        archives: total,
        retired,
      });
      journal.append({ t: 'complete' });
    }
    return {
      jobId,
      journalPath: journal.path,
      fromKekId: from,
      toKekId: to,
      total,
      done: done.size,
      counters,
      failed,
      retired,
      complete,
    };
  } finally {
    journal.close();
  }
}

const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const openArchive = (ref: ArchiveRef) =>
  fileSource(ref.path).catch((e) => {
    throw new JobError('archive_unreadable', `cannot open archive ${ref.id}: ${describeError(e)}`);
  });

async function referencesOtherKek(ref: ArchiveRef, to: string): Promise<boolean> {
  const src = await openArchive(ref);
  let header: Header;
  try {
    header = await readHeader(exactReader(src));
  } finally {
    await src.close();
  }
  return header.stanzas.some((s) => s.type === STANZA_HOME && toHex(parseHomeStanza(s.body).kekId) !== to);
}

async function rehomeFile(
  ref: ArchiveRef,
  home: HomeHsm,
  held: Set<string>,
  to: string,
  faults: Faults,
): Promise<Outcome> {
  const src = await openArchive(ref);
  let how: 'none' | 'found' = 'found';
  const r = await replaceHeader(src, inPlace(ref.path, { syncDir: false }), {
    done(old) {
      const homes = old.stanzas.filter((s) => s.type === STANZA_HOME).map((s) => parseHomeStanza(s.body));
      if (homes.length === 0) how = 'none';
      return homes.every((h) => toHex(h.kekId) === to);
    },
    // Home stanzas are outside the header MAC: the old MAC stays valid.
    async stanzas(old) {
      const stanzas: Stanza[] = [];
      for (const s of old.stanzas) {
        if (s.type !== STANZA_HOME) {
          stanzas.push(s);
          continue;
        }
        const h = parseHomeStanza(s.body);
        const kekId = toHex(h.kekId);
        if (kekId === to) stanzas.push(s);
        else if (!held.has(kekId))
          throw new JobError(
            'home_kek_missing',
            `archive ${ref.id} has a home stanza under KEK ${kekId}, which the token does not hold`,
          );
        else
          stanzas.push(
            makeHomeStanza({ kekId: fromHex(to), wrapped: await home.rewrap(h.wrapped, kekId, to) }),
          );
      }
      return stanzas;
    },
    check: (old, fresh) => verifyRehomed(ref.id, old, fresh, to),
    fail: (why) => new JobError('verify_failed', `archive ${ref.id}: ${why}`),
    faults: { at: (step) => faults.at(`home:${step}`) },
  });
  const header = sha256Hex(r.header.bytes);
  return r.changed
    ? { id: ref.id, how: 'rewrapped', header, bytes: r.bytes, path: ref.path }
    : { id: ref.id, how, header, bytes: 0, path: ref.path };
}

/** Everything but the home stanzas is byte-identical, and every home stanza names the new KEK. */
function verifyRehomed(id: string, old: Header, fresh: Header, to: string): void {
  const fail = (why: string) => new JobError('verify_failed', `new header of archive ${id}: ${why}`);
  if (!equalCt(fresh.manifestBytes, old.manifestBytes) || !equalCt(fresh.mac, old.mac))
    throw fail('manifest or MAC changed');
  if (fresh.stanzas.length !== old.stanzas.length) throw fail('stanza count changed');
  for (const [i, s] of fresh.stanzas.entries()) {
    const o = old.stanzas[i]!;
    if (s.type !== o.type) throw fail('stanza order changed');
    if (s.type === STANZA_HOME) {
      const h = parseHomeStanza(s.body);
      if (toHex(h.kekId) !== to || h.wrapped.length !== 40)
        throw fail('home stanza is not under the new KEK');
    } else if (!equalCt(s.body, o.body)) throw fail('a stanza other than the home stanza changed');
  }
}
