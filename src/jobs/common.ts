/**
 * Shared machinery of the re-keying jobs (docs/JOBS.md): typed errors, the durable journal, the
 * exactly-once audit recorder, atomic archive replacement, archive listing, the TTY progress line,
 * the worker pool, and the crash points the kill -9 tests use.
 *
 * Nothing here ever sees a key, a DEK, a share or a PIN.
 * @module
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { type FileHandle, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { appendEntry, entries, treeHead } from '../audit/log.ts';
import type { JsonValue } from '../crypto/jcs.ts';
import { EmbassyError } from '../errors.ts';
import type { Store } from '../store/index.ts';

// ---------------------------------------------------------------------------------------------
// Errors.

export type JobErrorCode =
  | 'bad_argument'
  | 'journal_corrupt'
  | 'journal_mismatch'
  | 'journal_locked'
  | 'archive_unreadable'
  | 'wrong_domain'
  | 'no_old_key'
  | 'verify_failed'
  | 'home_kek_missing'
  | 'incomplete';

/** The jobs' typed error: a code and one line an operator can act on, never secret material. */
export class JobError extends EmbassyError<JobErrorCode> {}

/** `code: message` of any error, for per-archive failure records (messages never hold secrets). */
export function describeError(e: unknown): { code: string; message: string } {
  const err = e as { code?: unknown; message?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : 'error';
  const message = typeof err?.message === 'string' ? err.message : String(e);
  return { code, message };
}

// ---------------------------------------------------------------------------------------------
// Crash points (tests only): EMBASSY_JOB_CRASH="point:k[,point:k…]" makes the process SIGKILL itself
// the k-th time it reaches `point` (1-based), so a test can stop a real job at a deterministic step.

const crashCounts = new Map<string, number>();
let crashPlan: Map<string, number> | undefined;

export function crashPoint(point: string): void {
  if (crashPlan === undefined) {
    crashPlan = new Map();
    for (const part of (process.env['EMBASSY_JOB_CRASH'] ?? '').split(',')) {
      const i = part.lastIndexOf(':');
      if (i > 0) crashPlan.set(part.slice(0, i), Number(part.slice(i + 1)));
    }
  }
  const at = crashPlan.get(point);
  if (at === undefined) return;
  const n = (crashCounts.get(point) ?? 0) + 1;
  crashCounts.set(point, n);
  if (n === at) process.kill(process.pid, 'SIGKILL');
}

// ---------------------------------------------------------------------------------------------
// The journal: one JSON object per line, appended and fsynced. A torn final line (power loss in
// the middle of a write) is dropped on open. A lock file keeps two runs of one job apart.

export type JournalRecord = { t: string; [k: string]: JsonValue };

export class Journal {
  private fd: number;
  private constructor(
    readonly path: string,
    readonly records: JournalRecord[],
    private readonly lockPath: string,
  ) {
    this.fd = openSync(path, 'a', 0o600);
  }

  /** Opens (or creates) the journal at `path`, taking its lock. @throws {JobError} */
  static open(path: string): Journal {
    const lockPath = `${path}.lock`;
    takeLock(lockPath);
    try {
      let buf = Buffer.alloc(0);
      try {
        buf = readFileSync(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      const records: JournalRecord[] = [];
      // A record is complete only with its newline; a tail without one is a torn write (dropped).
      let good = 0;
      for (let nl = buf.indexOf(10, good); nl >= 0; nl = buf.indexOf(10, good)) {
        const line = buf.subarray(good, nl).toString('utf8');
        let rec: unknown;
        try {
          rec = line === '' ? { t: 'blank' } : JSON.parse(line);
        } catch {
          rec = undefined;
        }
        if (typeof rec !== 'object' || rec === null || typeof (rec as JournalRecord).t !== 'string')
          throw new JobError('journal_corrupt', `journal ${path} has a line that is not a journal record`);
        if (line !== '') records.push(rec as JournalRecord);
        good = nl + 1;
      }
      if (good !== buf.length) {
        // drop the torn tail so that the next append starts on a line of its own
        const fd = openSync(path, 'r+');
        try {
          ftruncateSync(fd, good);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
      const j = new Journal(path, records, lockPath);
      fsyncDirSync(dirname(path));
      return j;
    } catch (e) {
      releaseLock(lockPath);
      throw e;
    }
  }

  /** Appends records durably (one write, then fsync) before returning. */
  append(...recs: JournalRecord[]): void {
    if (recs.length === 0) return;
    const buf = Buffer.from(recs.map((r) => `${JSON.stringify(r)}\n`).join(''));
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    fsyncSync(this.fd);
    this.records.push(...recs);
  }

  find(t: string): JournalRecord | undefined {
    return this.records.find((r) => r.t === t);
  }

  all(t: string): JournalRecord[] {
    return this.records.filter((r) => r.t === t);
  }

  close(): void {
    closeSync(this.fd);
    releaseLock(this.lockPath);
  }
}

function takeLock(lockPath: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(lockPath, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid))
        throw new JobError('journal_locked', `another run of this job (pid ${pid}) holds ${lockPath}`);
      unlinkSync(lockPath); // stale: its process is gone (kill -9)
    }
  }
  throw new JobError('journal_locked', `cannot take the job lock ${lockPath}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseLock(lockPath: string): void {
  try {
    unlinkSync(lockPath);
  } catch {}
}

export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Exactly-once audit entries. Every entry a job writes carries `data.job` and `data.step` (a key
// unique within the job). Before appending, the recorder knows every step already in the log since
// the job started (`auditFrom`, the tree size recorded in the journal before the job's first entry),
// so a crash between the audit commit and the journal update never logs a step twice.

export class AuditRecorder {
  private readonly seen = new Map<string, { [k: string]: JsonValue }>();
  private constructor(
    private readonly store: Store | undefined,
    private readonly actor: string,
    readonly job: string,
  ) {}

  static async open(
    store: Store | undefined,
    actor: string,
    job: string,
    journal: Journal,
  ): Promise<AuditRecorder> {
    const r = new AuditRecorder(store, actor, job);
    if (store === undefined) return r;
    let start = journal.find('audit-from');
    if (start === undefined) {
      const head = await treeHead(store.db);
      start = { t: 'audit-from', size: head.size };
      journal.append(start);
    }
    const from = Number(start['size']);
    const size = (await treeHead(store.db)).size;
    for (let at = from; at < size; at += 10_000) {
      for (const e of await entries(store.db, at, Math.min(size, at + 10_000))) {
        const entry = JSON.parse(e.entry) as { data?: { job?: unknown; step?: unknown } };
        const d = entry.data;
        if (d?.job === job && typeof d.step === 'string') r.seen.set(d.step, d as { [k: string]: JsonValue });
      }
    }
    return r;
  }

  /** The data of a step already in the log, or undefined. */
  logged(step: string): { [k: string]: JsonValue } | undefined {
    return this.seen.get(step);
  }

  /** Appends `kind` for `step` unless the log already holds it. */
  async record(kind: string, step: string, data: { [k: string]: JsonValue }): Promise<void> {
    if (this.store === undefined || this.seen.has(step)) return;
    const full = { job: this.job, step, ...data };
    await this.store.transaction((trx) => appendEntry(trx, { kind, actor: this.actor, data: full }));
    this.seen.set(step, full);
  }
}

// ---------------------------------------------------------------------------------------------
// Atomic replacement of an archive: write `.<name>.<random>.jobtmp` beside it, fsync, rename over
// it; the directory is fsynced by the caller (once per batch and directory).

const TMP_SUFFIX = '.jobtmp';

export interface TempFile {
  readonly path: string;
  readonly tmp: string;
  write(buf: Uint8Array): Promise<void>;
  /** fsync and close; the file is not visible yet. */
  finish(): Promise<void>;
  /** rename over `path`. */
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export async function tempFileFor(path: string): Promise<TempFile> {
  const st = await stat(path);
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}${TMP_SUFFIX}`);
  let fh: FileHandle | undefined = await open(tmp, 'wx', st.mode & 0o777);
  return {
    path,
    tmp,
    async write(buf) {
      let off = 0;
      while (off < buf.length) off += (await fh!.write(buf, off, buf.length - off)).bytesWritten;
    },
    async finish() {
      await fh!.sync();
      await fh!.close();
      fh = undefined;
    },
    async commit() {
      await rename(tmp, path);
    },
    async abort() {
      await fh?.close().catch(() => {});
      fh = undefined;
      await unlink(tmp).catch(() => {});
    },
  };
}

/** Removes the temporaries a killed run left in the archives' directories (one listing per directory). */
export async function removeStaleTemps(paths: string[]): Promise<void> {
  const re = /^\..+\.[0-9a-f]{12}\.jobtmp$/;
  for (const dir of new Set(paths.map((p) => dirname(p)))) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const n of names) if (re.test(n)) await unlink(join(dir, n)).catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Archive listing.

export interface ArchiveRef {
  /** Stable id: the snapshot id (store) or the path relative to the directory. */
  id: string;
  /** Absolute path of the archive file. */
  path: string;
}

/**
 * The archives registered in the snapshots table (docs/DECISIONS.md#f2), of one domain or (no domain, for
 * the home-key rotation) of all. A relative `location` is resolved against `baseDir` (default: the
 * current directory); `file://` URLs are accepted.
 */
export async function archivesFromStore(
  store: Store,
  domain?: string,
  opts: { baseDir?: string } = {},
): Promise<ArchiveRef[]> {
  let q = store.db.selectFrom('snapshots').select(['id', 'location']).orderBy('domain').orderBy('sequence');
  if (domain !== undefined) q = q.where('domain', '=', domain);
  const rows = await q.execute();
  return rows.map((r) => {
    const loc = r.location.startsWith('file://') ? new URL(r.location).pathname : r.location;
    return { id: r.id, path: isAbsolute(loc) ? loc : resolve(opts.baseDir ?? '.', loc) };
  });
}

const MAGIC = Buffer.from('EMBASSY\x01', 'latin1');

/** Every archive file (by its magic) under `dir`, recursively, sorted by relative path. Hidden files are skipped. */
export function archivesFromDirectory(dir: string): ArchiveRef[] {
  const root = resolve(dir);
  const out: ArchiveRef[] = [];
  const walk = (d: string) => {
    for (const ent of readdirSync(d, { withFileTypes: true })) {
      if (ent.name.startsWith('.')) continue;
      const p = join(d, ent.name);
      if (ent.isDirectory()) walk(p);
      else if (ent.isFile() && hasMagic(p)) out.push({ id: relative(root, p), path: p });
    }
  };
  walk(root);
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function hasMagic(p: string): boolean {
  const fd = openSync(p, 'r');
  try {
    const b = Buffer.alloc(MAGIC.length);
    return readSync(fd, b, 0, b.length, 0) === b.length && b.equals(MAGIC);
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// Counters and progress.

export interface JobCounters {
  /** Archives looked at in this run. */
  scanned: number;
  /** Archives this run rewrote (each exactly once over all runs of a job). */
  rewritten: number;
  /** Archives found already done (by an earlier run, or nothing to do). */
  skipped: number;
  failed: number;
  bytesWritten: number;
}

export const newCounters = (): JobCounters => ({
  scanned: 0,
  rewritten: 0,
  skipped: 0,
  failed: 0,
  bytesWritten: 0,
});

/** One progress line with rate and ETA on stderr when it is a TTY (or when forced); silent otherwise. */
export function progressLine(
  label: string,
  total: number,
  enabled: boolean = process.stderr.isTTY === true,
): { update(done: number): void; end(): void } {
  const start = performance.now();
  let last = 0;
  return {
    update(done) {
      if (!enabled) return;
      const now = performance.now();
      if (now - last < 200 && done < total) return;
      last = now;
      const secs = (now - start) / 1000;
      const rate = secs > 0 ? done / secs : 0;
      const eta = rate > 0 ? Math.ceil((total - done) / rate) : undefined;
      const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
      process.stderr.write(
        `\r${label} ${done}/${total} (${pct}%) ${rate.toFixed(0)}/s ETA ${eta === undefined ? '?' : fmtSecs(eta)}  `,
      );
    },
    end() {
      if (enabled) process.stderr.write('\r\x1b[K');
    },
  };
}

const fmtSecs = (s: number) =>
  s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${s}s`;

/** Runs `fn` over `items` with at most `concurrency` in flight; results in input order. */
export async function pool<T, R>(items: T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return out;
}
