/**
 * The one append-only journal of the project: JSON Lines, each record ending with a newline,
 * appended with one write and an fsync before `append` returns, behind an exclusive lock.
 *
 * A record is complete only with its newline. A tail without one is a torn write (power loss or
 * kill -9 in the middle of an append): `open` cuts it off at the byte offset where the last
 * complete record ends, so the next append starts on a line of its own. A complete line that is
 * not a record is corruption and is refused, never skipped.
 *
 * The lock is a file `<journal>.lock` created exclusively and holding the owner's pid. A live
 * holder is refused, in another process or in this one; a lock left by a dead process (kill -9) is
 * taken over. Two processes that both find the same dead holder at the same instant can both take
 * it over (no advisory lock exists in Node to close that window); a pid reused by another live
 * process keeps the lock until an operator removes it.
 * @module
 */
import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  linkSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { EmbassyError } from '../errors.ts';
import { fsyncDirSync, tempPathFor } from './durable.ts';
import { isAlive } from './pid.ts';

export type JournalErrorCode = 'journal_corrupt' | 'journal_locked';

/** A journal that cannot be opened: corrupt, or locked by a live holder. */
export class JournalError extends EmbassyError<JournalErrorCode> {}

/** Tells a record from any other JSON value; a complete line that fails it is corruption. */
export type RecordGuard<R> = (value: unknown) => value is R;

/**
 * Splits journal bytes into complete records. `end` is the byte offset just past the last
 * complete line (everything after it is a torn tail); blank lines are skipped.
 *
 * @example
 * parseJournal(Buffer.from('{"t":"a"}\n{"t":"b"'), isRecord); // { records: [{ t: 'a' }], end: 10 }
 * @throws {JournalError} `journal_corrupt` on a complete line that is not a record.
 */
export function parseJournal<R>(
  buf: Uint8Array,
  isRecord: RecordGuard<R>,
  name = 'journal',
): { records: R[]; end: number } {
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const records: R[] = [];
  let end = 0;
  for (let nl = bytes.indexOf(10, end); nl >= 0; nl = bytes.indexOf(10, end)) {
    const line = bytes.subarray(end, nl).toString('utf8');
    end = nl + 1;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    if (!isRecord(value))
      throw new JournalError('journal_corrupt', `${name} has a line that is not a record`);
    records.push(value);
  }
  return { records, end };
}

/**
 * The complete records of the journal at `path` ([] if there is none), without taking its lock or
 * touching a torn tail.
 */
export function readJournal<R>(path: string, isRecord: RecordGuard<R>): R[] {
  return parseJournal(readOrEmpty(path), isRecord, `journal ${path}`).records;
}

// Locks this process holds, so that a lock file naming our own pid is told apart from one a dead
// process with the same pid left behind (pids repeat across container restarts).
const held = new Set<string>();

/**
 * An open journal: its complete records, and appends that are durable when they return.
 *
 * @example
 * const j = Journal.open('job.journal', (v): v is { t: string } => typeof (v as { t?: unknown })?.t === 'string');
 * try {
 *   if (!j.records.some((r) => r.t === 'started')) j.append({ t: 'started' });
 * } finally {
 *   j.close();
 * }
 */
export class Journal<R> {
  private fd: number | undefined;
  private constructor(
    readonly path: string,
    readonly records: R[],
    private readonly lockPath: string,
    mode: number,
  ) {
    this.fd = openSync(path, 'a', mode);
  }

  /**
   * Opens (or creates, with `mode`, default 0o600) the journal at `path`, taking its lock, reading
   * its records and cutting off a torn tail.
   * @throws {JournalError} `journal_locked` or `journal_corrupt`.
   */
  static open<R>(path: string, isRecord: RecordGuard<R>, opts: { mode?: number } = {}): Journal<R> {
    const lockPath = `${path}.lock`;
    takeLock(lockPath);
    try {
      const buf = readOrEmpty(path);
      const { records, end } = parseJournal(buf, isRecord, `journal ${path}`);
      if (end !== buf.length) {
        const fd = openSync(path, 'r+');
        try {
          ftruncateSync(fd, end);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
      const j = new Journal(path, records, lockPath, opts.mode ?? 0o600);
      fsyncDirSync(dirname(path)); // a journal created just now must survive a power loss
      return j;
    } catch (e) {
      releaseLock(lockPath);
      throw e;
    }
  }

  /** Appends records with one write and an fsync; they are durable when this returns. */
  append(...recs: R[]): void {
    if (this.fd === undefined) throw new Error(`journal ${this.path} is closed`);
    if (recs.length === 0) return;
    const buf = Buffer.from(recs.map((r) => `${JSON.stringify(r)}\n`).join(''));
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    fsyncSync(this.fd);
    this.records.push(...recs);
  }

  /** Closes the file and releases the lock. */
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    releaseLock(this.lockPath);
  }
}

function readOrEmpty(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw e;
  }
}

function takeLock(lockPath: string): void {
  // The lock appears complete (pid inside) through link(2), which fails if it exists: a reader
  // never sees an empty lock file that it could mistake for a stale one.
  const mine = tempPathFor(lockPath);
  writeFileSync(mine, String(process.pid), { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(mine, lockPath);
        held.add(lockPath);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const pid = Number(readOrEmpty(lockPath).toString('utf8').trim());
      const live =
        pid === process.pid ? held.has(lockPath) : Number.isInteger(pid) && pid > 0 && isAlive(pid);
      if (live) throw new JournalError('journal_locked', `another run (pid ${pid}) holds ${lockPath}`);
      try {
        unlinkSync(lockPath); // stale: its process is gone
      } catch {}
    }
    throw new JournalError('journal_locked', `cannot take the lock ${lockPath}`);
  } finally {
    unlinkSync(mine);
  }
}

function releaseLock(lockPath: string): void {
  held.delete(lockPath);
  try {
    unlinkSync(lockPath);
  } catch {}
}
