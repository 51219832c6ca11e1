/**
 * The one durable write of the project: the bytes go to a temporary file in the target's directory
 * (a name we own, `.<name>.tmp-<pid>-<12 hex>`), are fsynced, renamed over the target, and the directory
 * is fsynced. A reader sees the old file or the complete new one, never a prefix, and a failed or
 * interrupted write leaves no partial file under the target's name (docs/DECISIONS.md#d24).
 *
 * An output is renamed only over a regular file or a new name: a character device or a FIFO
 * (`-o /dev/null`, a pipe) is written into directly, and a directory is refused.
 * @module
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  openSync,
  renameSync,
  type Stats,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { type FileHandle, link, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isAlive } from './pid.ts';

export interface DurableOptions {
  /** Permission bits of a new file (the umask applies); default 0o600. */
  mode?: number;
  /**
   * Create only: the complete file appears under `path` through link(2), which fails with an
   * `EEXIST` error if `path` exists, so two writers cannot both create it.
   */
  exclusive?: boolean;
}

/** A file being written durably: bytes go to a temporary file until `commit`. */
export interface DurableFile {
  /** The target the bytes end up at. */
  readonly path: string;
  /** Where the bytes are until `commit`; `undefined` when writing directly into a device or FIFO. */
  readonly tempPath: string | undefined;
  write(buf: Uint8Array): Promise<void>;
  /** fsyncs and closes the temporary file; the target is unchanged. `commit` does it too. */
  finish(): Promise<void>;
  /**
   * Renames the temporary file over `path`, then fsyncs the directory unless `syncDir` is false
   * (a caller committing many files in one directory fsyncs it once with {@link fsyncDir}).
   */
  commit(opts?: { syncDir?: boolean }): Promise<void>;
  /** Removes the temporary file (a no-op for bytes already written into a device or FIFO). */
  abort(): Promise<void>;
}

const TEMP = /^\..+\.tmp-(\d+)-[0-9a-f]{12}$/;

/** The temporary name for `path`, in the same directory (so the rename stays on one file system). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** Whether `name` (a directory entry) is one of our temporary files. */
export const isTempName = (name: string): boolean => TEMP.test(name);

/** Whether `name` (a directory entry) is a temporary file whose writer is gone. */
function isStaleTemp(dir: string, name: string): boolean {
  const m = TEMP.exec(name);
  if (m === null) return false;
  const pid = Number(m[1]);
  return pid === process.pid ? !live.has(join(dir, name)) : !isAlive(pid);
}

/** A system error on our temporary, made to name `path`, the file the caller asked for. */
function named(path: string, e: unknown): unknown {
  (e as NodeJS.ErrnoException).path = path;
  return e;
}

/** How a target is written: through a temporary and a rename, or directly (device, FIFO). */
function kindOf(path: string, st: Stats | undefined): 'rename' | 'direct' {
  if (st === undefined || st.isFile()) return 'rename';
  if (st.isCharacterDevice() || st.isFIFO()) return 'direct';
  const e: NodeJS.ErrnoException = new Error(
    st.isDirectory() ? `${path} is a directory` : `${path} is not a regular file, device or FIFO`,
  );
  e.code = st.isDirectory() ? 'EISDIR' : 'EINVAL';
  e.path = path;
  throw e;
}

const statOrUndefined = async (path: string) =>
  stat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });

function statOrUndefinedSync(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

// Temporaries still open when the process exits (an error path, a SIGINT handler) are removed then,
// so no plaintext is left behind; a kill -9 leaves them to removeStaleTemps.
const live = new Set<string>();
let exitHookInstalled = false;
function track(tmp: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const t of live) {
        try {
          unlinkSync(t);
        } catch {}
      }
    });
  }
  live.add(tmp);
}

/**
 * Opens `path` for a durable streaming write.
 *
 * @example
 * const out = await openDurably('archive.embassy', { mode: 0o600 });
 * try {
 *   await out.write(bytes);
 *   await out.commit();
 * } catch (e) {
 *   await out.abort();
 *   throw e;
 * }
 */
export async function openDurably(path: string, opts: { mode?: number } = {}): Promise<DurableFile> {
  const mode = opts.mode ?? 0o600;
  if (kindOf(path, await statOrUndefined(path)) === 'direct') return directFile(path);
  const tmp = tempPathFor(path);
  let fh: FileHandle | undefined = await open(tmp, 'wx', mode).catch((e) => {
    throw named(path, e);
  });
  track(tmp);
  const finish = async () => {
    if (fh === undefined) return;
    await fh.sync();
    await fh.close();
    fh = undefined;
  };
  return {
    path,
    tempPath: tmp,
    async write(buf) {
      let off = 0;
      while (off < buf.length) off += (await fh!.write(buf, off, buf.length - off)).bytesWritten;
    },
    finish,
    async commit({ syncDir = true } = {}) {
      await finish();
      await rename(tmp, path);
      live.delete(tmp);
      if (syncDir) await fsyncDir(dirname(path));
    },
    async abort() {
      await fh?.close().catch(() => {});
      fh = undefined;
      await unlink(tmp).catch(() => {});
      live.delete(tmp);
    },
  };
}

/** A device or FIFO, written into; an error names it (`DIR/full: no space left on device`). */
async function directFile(path: string): Promise<DurableFile> {
  const fh = await open(path, 'w').catch((e) => {
    throw named(path, e);
  });
  let closed = false;
  const finish = async () => {
    if (!closed) {
      closed = true;
      await fh.close();
    }
  };
  return {
    path,
    tempPath: undefined,
    async write(buf) {
      let off = 0;
      try {
        while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
      } catch (e) {
        throw named(path, e);
      }
    },
    finish,
    commit: finish,
    abort: () => finish().catch(() => {}),
  };
}

/**
 * Writes `data` to `path` durably (temporary file, fsync, rename or exclusive link, directory
 * fsync). No partial file is left on failure.
 *
 * @example
 * await writeDurably('state/checkpoint', note, { mode: 0o644 });
 * await writeDurably('state/first', note, { exclusive: true }); // EEXIST if it is there
 */
export async function writeDurably(
  path: string,
  data: string | Uint8Array,
  opts: DurableOptions = {},
): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (!opts.exclusive) {
    const out = await openDurably(path, opts);
    try {
      await out.write(bytes);
      await out.commit();
    } catch (e) {
      await out.abort();
      throw e;
    }
    return;
  }
  const tmp = tempPathFor(path);
  const fh = await open(tmp, 'wx', opts.mode ?? 0o600).catch((e) => {
    throw named(path, e);
  });
  try {
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    // link(2) fails if the target exists: an atomic create-if-absent of the complete file
    await link(tmp, path).catch((e) => {
      throw named(path, e);
    });
  } finally {
    await unlink(tmp).catch(() => {});
  }
  await fsyncDir(dirname(path));
}

/**
 * The synchronous {@link writeDurably}, for small state files written on synchronous paths.
 *
 * @example
 * writeDurablySync('dev-pins.json', `${JSON.stringify(pins)}\n`, { mode: 0o600 });
 */
export function writeDurablySync(path: string, data: string | Uint8Array, opts: DurableOptions = {}): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (!opts.exclusive && kindOf(path, statOrUndefinedSync(path)) === 'direct') {
    const fd = openSync(path, 'w');
    try {
      writeAllSync(fd, bytes);
    } finally {
      closeSync(fd);
    }
    return;
  }
  const tmp = tempPathFor(path);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', opts.mode ?? 0o600);
  } catch (e) {
    throw named(path, e);
  }
  try {
    try {
      writeAllSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (opts.exclusive) linkSync(tmp, path);
    else renameSync(tmp, path);
  } finally {
    try {
      unlinkSync(tmp); // after a rename: ENOENT, ignored
    } catch {}
  }
  fsyncDirSync(dirname(path));
}

function writeAllSync(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

// Directories cannot be fsynced on every platform (EINVAL, EISDIR on some); the rename is still atomic.
const cannotSyncDir = (e: unknown) =>
  ['EINVAL', 'EISDIR', 'ENOTSUP'].includes((e as NodeJS.ErrnoException).code!);

/** fsyncs a directory, so that a rename or a new name in it survives a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (e) {
    if (!cannotSyncDir(e)) throw e;
  } finally {
    await fh.close();
  }
}

/** The synchronous {@link fsyncDir}. */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } catch (e) {
    if (!cannotSyncDir(e)) throw e;
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes the temporary files an interrupted run left in `dirs`: only names we own, and only those
 * whose writing process is gone (a concurrent writer's temporary is left alone).
 *
 * @example
 * await removeStaleTemps(archives.map((a) => dirname(a.path)));
 */
export async function removeStaleTemps(dirs: Iterable<string>): Promise<void> {
  for (const dir of new Set(dirs)) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const n of names) if (isStaleTemp(dir, n)) await unlink(join(dir, n)).catch(() => {});
  }
}
