/**
 * Shared machinery of the re-keying jobs (docs/JOBS.md): typed errors, the job journal, the
 * exactly-once audit recorder, archive listing, the TTY progress line and the worker pool.
 *
 * Nothing here ever sees a key, a DEK, a share or a PIN.
 * @module
 */
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { appendEntry, entries, treeHead } from '../audit/log.ts';
import type { JsonValue } from '../crypto/jcs.ts';
import { describeError, EmbassyError } from '../errors.ts';
import { Journal as AppendOnlyJournal } from '../fs/journal.ts';
import type { Store } from '../store/index.ts';

// ---------------------------------------------------------------------------------------------
// Errors.

export type JobErrorCode =
  | 'bad_argument'
  | 'journal_mismatch'
  | 'archive_unreadable'
  | 'wrong_domain'
  | 'no_old_key'
  | 'verify_failed'
  | 'home_kek_missing'
  | 'incomplete';

/** The jobs' typed error: a code and one line an operator can act on, never secret material. */
export class JobError extends EmbassyError<JobErrorCode> {}

/**
 * The failure record of an archive a job could not process: the code of an {@link EmbassyError}
 * (`internal` for anything else) and its one-line {@link describeError} (messages never hold secrets).
 */
export const failureOf = (e: unknown): { code: string; message: string } => ({
  code: e instanceof EmbassyError ? e.code : 'internal',
  message: describeError(e),
});

// ---------------------------------------------------------------------------------------------
// The journal: the append-only journal of src/fs (a JSON object per line, fsynced per append, a
// torn final line dropped on open, a lock that keeps two runs of one job apart), whose records are
// tagged by `t`.

export type JournalRecord = { t: string; [k: string]: JsonValue };

const isJobRecord = (v: unknown): v is JournalRecord =>
  typeof v === 'object' && v !== null && typeof (v as { t?: unknown }).t === 'string';

export class Journal {
  private constructor(private readonly journal: AppendOnlyJournal<JournalRecord>) {}

  /** Opens (or creates) the journal at `path`, taking its lock. @throws {JournalError} */
  static open(path: string): Journal {
    return new Journal(AppendOnlyJournal.open(path, isJobRecord));
  }

  get path(): string {
    return this.journal.path;
  }

  get records(): readonly JournalRecord[] {
    return this.journal.records;
  }

  /** Appends records durably (one write, then fsync) before returning. */
  append(...recs: JournalRecord[]): void {
    this.journal.append(...recs);
  }

  find(t: string): JournalRecord | undefined {
    return this.journal.records.find((r) => r.t === t);
  }

  all(t: string): JournalRecord[] {
    return this.journal.records.filter((r) => r.t === t);
  }

  close(): void {
    this.journal.close();
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
