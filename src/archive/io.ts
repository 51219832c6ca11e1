/**
 * Byte sources and sinks for the archive streams: files (large positional reads and writes),
 * stdin/stdout, and in-memory buffers. A file sink writes to a temporary file in the target's
 * directory and renames it only on commit, so a failed open leaves no plaintext behind (invariant 5).
 */
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { openDurably, removeStaleTemps } from '../fs/durable.ts';
import { ArchiveError } from './errors.ts';

export interface Source {
  /** Reads up to `buf.length` bytes into `buf`; returns 0 only at end of input. */
  read(buf: Uint8Array): Promise<number>;
  close(): Promise<void>;
}

export interface Sink {
  write(buf: Uint8Array): Promise<void>;
  /** Makes the output visible (rename) or flushes it. */
  commit(): Promise<void>;
  /** Discards everything written (no-op where bytes already left, e.g. stdout). */
  abort(): Promise<void>;
}

export async function fileSource(path: string): Promise<Source & { size: number }> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new ArchiveError('bad_argument', `${path} is a directory`);
    return {
      size: st.size,
      async read(buf) {
        return (await fh.read(buf, 0, buf.length, null)).bytesRead;
      },
      close: () => fh.close(),
    };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

export function streamSource(stream: Readable): Source {
  const it = stream[Symbol.asyncIterator]();
  let pending: Uint8Array = new Uint8Array(0);
  let done = false;
  return {
    async read(buf) {
      while (pending.length === 0 && !done) {
        const r = await it.next();
        if (r.done) done = true;
        else pending = typeof r.value === 'string' ? Buffer.from(r.value) : (r.value as Uint8Array);
      }
      const n = Math.min(buf.length, pending.length);
      buf.set(pending.subarray(0, n));
      pending = pending.subarray(n);
      return n;
    },
    async close() {},
  };
}

export function bufferSource(data: Uint8Array): Source {
  let off = 0;
  return {
    async read(buf) {
      const n = Math.min(buf.length, data.length - off);
      buf.set(data.subarray(off, off + n));
      off += n;
      return n;
    },
    async close() {},
  };
}

/** Fills `buf` as far as the source allows; returns the byte count (short only at end of input). */
export async function readFull(src: Source, buf: Uint8Array): Promise<number> {
  let n = 0;
  while (n < buf.length) {
    const r = await src.read(buf.subarray(n));
    if (r === 0) break;
    n += r;
  }
  return n;
}

/** Exact reads on top of a source, for the header; `truncated` when the input ends early. */
export function exactReader(src: Source) {
  let total = 0;
  return async (n: number): Promise<Uint8Array> => {
    const buf = new Uint8Array(n);
    const got = await readFull(src, buf);
    total += got;
    if (got < n) throw new ArchiveError('truncated', total === 0 ? 'input is empty' : 'archive is truncated');
    return buf;
  };
}

/**
 * A file sink written durably through src/fs/durable.ts: a temporary file beside `path`, fsynced
 * and renamed over it on commit, then the directory fsynced; removed on abort or process exit.
 * A device or FIFO (`-o /dev/null`) is written into, never renamed over. Temporaries that an
 * earlier run killed with SIGKILL left in the directory (possibly plaintext) are removed as it opens
 * (docs/DECISIONS.md#d24).
 */
export async function atomicFileSink(path: string, mode = 0o600): Promise<Sink> {
  const file = await openDurably(path, { mode });
  if (file.tempPath !== undefined) await removeStaleTemps([dirname(path)]);
  return { write: (buf) => file.write(buf), commit: () => file.commit(), abort: () => file.abort() };
}

export function streamSink(stream: Writable): Sink {
  return {
    async write(buf) {
      if (!stream.write(buf)) await new Promise<void>((res) => stream.once('drain', res));
    },
    async commit() {},
    async abort() {},
  };
}

export function bufferSink(): Sink & { result(): Uint8Array } {
  const parts: Uint8Array[] = [];
  let committed = false;
  return {
    async write(buf) {
      parts.push(buf.slice());
    },
    async commit() {
      committed = true;
    },
    async abort() {
      parts.length = 0;
    },
    result() {
      if (!committed) throw new Error('buffer sink not committed');
      return new Uint8Array(Buffer.concat(parts));
    },
  };
}
