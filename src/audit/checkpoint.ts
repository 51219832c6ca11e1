/**
 * C2SP tlog-checkpoint v1.0.0 (c2sp.org/tlog-checkpoint) bodies, and a {@link CheckpointSigner} that
 * never signs two inconsistent checkpoints.
 *
 * A checkpoint body is exactly three lines, each ending in `\n`:
 * ```
 * <origin>\n          a unique log identity, e.g. "embassy.example.gov/audit" (schema-less URL)
 * <tree size>\n       decimal, no sign, no leading zeros
 * <base64 root>\n     standard, padded base64 of the 32-byte RFC 9162 root
 * ```
 * It is signed as a C2SP signed note ({@link signNote}) with Ed25519. We write no extension lines
 * and the strict parser refuses them.
 *
 * The signer keeps the last (size, root) it agreed to sign in a small file that lives OUTSIDE the
 * database (DESIGN decision 6): a restored or rolled-back database cannot make it sign a fork. It
 * refuses, with a {@link CheckpointError}, a smaller tree, a different root at the same size, and a
 * larger tree without a valid consistency proof from the last one. The new state is made durable
 * (write, fsync, rename, fsync directory) before the signature is requested.
 *
 * @example
 * await CheckpointSigner.init('/var/lib/embassy/log-state', 'embassy.example.gov/audit');
 * const cs = new CheckpointSigner({ statePath, origin, signer });   // signer: HSM or software
 * const note = await cs.sign(tree.size, tree.root(), tree.consistencyProof(last.size, tree.size));
 * openCheckpoint(note, [verifier], origin); // { origin, size, root }
 * @module
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { EMPTY_ROOT, HASH_SIZE, verifyConsistency } from './merkle.ts';
import { type NoteVerifier, type OpenedNote, openNote, type Signer, signNote } from './note.ts';

/** Error codes raised by this module. */
export type CheckpointErrorCode =
  | 'CHECKPOINT_MALFORMED'
  | 'CHECKPOINT_BAD_ORIGIN'
  | 'CHECKPOINT_WRONG_ORIGIN'
  | 'CHECKPOINT_STATE_MISSING'
  | 'CHECKPOINT_STATE_EXISTS'
  | 'CHECKPOINT_STATE_CORRUPT'
  | 'CHECKPOINT_ROLLBACK'
  | 'CHECKPOINT_FORK'
  | 'CHECKPOINT_INCONSISTENT';

/** The only error this module throws itself (signing and note errors pass through as NoteError). */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(
    readonly code: CheckpointErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A checkpoint: a log's identity, its tree size and the RFC 9162 root of that many leaves. */
export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
}

/** Origins: non-empty, well-formed, no control characters (so no newline). */
export function isValidOrigin(origin: string): boolean {
  return (
    typeof origin === 'string' &&
    origin.length > 0 &&
    ![...origin].some((ch) => ch.charCodeAt(0) < 0x20 || ch === '\u007f') &&
    !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(origin)
  );
}

function checkOrigin(origin: string): void {
  if (!isValidOrigin(origin))
    throw new CheckpointError(
      'CHECKPOINT_BAD_ORIGIN',
      'origin must be a non-empty line without control characters',
    );
}

/**
 * The checkpoint body text (three lines).
 * @example formatCheckpoint({ origin: 'example.com/log', size: 0, root: EMPTY_ROOT })
 *   // 'example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n'
 */
export function formatCheckpoint(c: Checkpoint): string {
  checkOrigin(c.origin);
  if (!Number.isSafeInteger(c.size) || c.size < 0)
    throw new CheckpointError('CHECKPOINT_MALFORMED', 'tree size must be a non-negative safe integer');
  if (!(c.root instanceof Uint8Array) || c.root.length !== HASH_SIZE)
    throw new CheckpointError('CHECKPOINT_MALFORMED', 'root must be 32 bytes');
  return `${c.origin}\n${c.size}\n${Buffer.from(c.root).toString('base64')}\n`;
}

/**
 * Parses a checkpoint body strictly: exactly three lines, a decimal size without leading zeros that is
 * a safe integer (≤ 2^53 − 1), and the canonical base64 of a 32-byte root. Extension lines are refused.
 * @throws {CheckpointError} `CHECKPOINT_MALFORMED` (never anything else).
 */
export function parseCheckpoint(text: string): Checkpoint {
  const bad = (why: string) => new CheckpointError('CHECKPOINT_MALFORMED', `checkpoint ${why}`);
  if (typeof text !== 'string' || !text.endsWith('\n')) throw bad('must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw bad('must have origin, size and root lines');
  if (lines.length > 3) throw bad('has extension lines, which this log does not use');
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (!isValidOrigin(origin)) throw bad('has an invalid origin line');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText)) throw bad('has an invalid tree size');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw bad('tree size is too large');
  if (!/^[A-Za-z0-9+/]{43}=$/.test(rootText)) throw bad('root is not the base64 of 32 bytes');
  const root = new Uint8Array(Buffer.from(rootText, 'base64'));
  if (root.length !== HASH_SIZE || Buffer.from(root).toString('base64') !== rootText)
    throw bad('root is not canonical base64');
  return { origin, size, root };
}

/**
 * Opens a signed checkpoint: verifies the note under `verifiers` (signed-note rules) and parses its
 * body; when `origin` is given, the checkpoint must be for that log.
 * @throws {NoteError} from {@link openNote}, or {@link CheckpointError}.
 */
export function openCheckpoint(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  origin?: string,
): Checkpoint & { readonly note: OpenedNote } {
  const opened = openNote(note, verifiers);
  const c = parseCheckpoint(opened.text);
  if (origin !== undefined && c.origin !== origin)
    throw new CheckpointError('CHECKPOINT_WRONG_ORIGIN', `checkpoint is for log ${c.origin}, not ${origin}`);
  return { ...c, note: opened };
}

const eq = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** Writes `data` to `path` atomically and durably (temp file, fsync, rename, fsync directory). */
/**
 * Writes `data` to `path` durably: a temporary file beside it, fsync, rename (or, `exclusive`, a
 * hard link that fails if `path` exists), fsync of the directory. No partial file on failure.
 */
export async function writeDurably(
  path: string,
  data: string,
  exclusive: boolean,
  mode = 0o600,
): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    if (exclusive) {
      // link(2) fails if the target exists: an atomic create-if-absent of the complete file.
      await link(tmp, path).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'EEXIST')
          throw new CheckpointError('CHECKPOINT_STATE_EXISTS', `checkpoint state ${path} already exists`);
        throw e;
      });
      await unlink(tmp);
    } else await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Options of a {@link CheckpointSigner}. */
export interface CheckpointSignerOptions {
  /** File holding the last signed checkpoint body; keep it outside the database, on durable storage. */
  readonly statePath: string;
  /** This log's origin line. */
  readonly origin: string;
  /** The log key: an HSM-backed Ed25519 signer in production. */
  readonly signer: Signer;
}

/**
 * Signs checkpoints for one log, refusing loudly to sign anything inconsistent with the last one it
 * signed. One process owns a state file (there is no cross-process lock); calls within the process
 * are serialised per state file, across signer objects.
 */
export class CheckpointSigner {
  /** One queue per state file, shared by every signer object in this process. */
  private static readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly opts: CheckpointSignerOptions) {
    checkOrigin(opts.origin);
  }

  /**
   * Creates the state file for a new, empty log. Refuses if it exists: a lost state file must be
   * restored from backup (or re-created deliberately from a trusted checkpoint), never re-initialised
   * silently.
   */
  static async init(statePath: string, origin: string, from: Checkpoint | null = null): Promise<void> {
    const c = from ?? { origin, size: 0, root: EMPTY_ROOT };
    if (c.origin !== origin)
      throw new CheckpointError('CHECKPOINT_WRONG_ORIGIN', 'checkpoint is for another log');
    await writeDurably(statePath, formatCheckpoint(c), true);
  }

  /** The last checkpoint this signer agreed to sign (size 0 right after {@link init}). */
  async last(): Promise<Checkpoint> {
    let text: string;
    try {
      text = await readFile(this.opts.statePath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw new CheckpointError(
          'CHECKPOINT_STATE_MISSING',
          `checkpoint state ${this.opts.statePath} is missing: restore it, or run init for a new log`,
        );
      throw e;
    }
    let c: Checkpoint;
    try {
      c = parseCheckpoint(text);
    } catch {
      throw new CheckpointError(
        'CHECKPOINT_STATE_CORRUPT',
        `checkpoint state ${this.opts.statePath} is corrupt`,
      );
    }
    if (c.origin !== this.opts.origin)
      throw new CheckpointError('CHECKPOINT_WRONG_ORIGIN', `checkpoint state is for log ${c.origin}`);
    return c;
  }

  /**
   * Signs the checkpoint (origin, `size`, `root`) and returns the signed note. `proof` is the RFC 9162
   * consistency proof from the last signed size to `size` (not needed when the last size is 0 or equals
   * `size`). Re-signing the last checkpoint is allowed.
   * @throws {CheckpointError} `CHECKPOINT_ROLLBACK` (smaller), `CHECKPOINT_FORK` (same size, other root),
   *   `CHECKPOINT_INCONSISTENT` (missing or failing proof), `CHECKPOINT_STATE_*`.
   */
  sign(size: number, root: Uint8Array, proof: readonly Uint8Array[] = []): Promise<string> {
    const key = resolve(this.opts.statePath);
    const run = (CheckpointSigner.queues.get(key) ?? Promise.resolve()).then(() =>
      this.signNow(size, root, proof),
    );
    const tail = run.catch(() => {});
    CheckpointSigner.queues.set(key, tail);
    void tail.then(() => {
      if (CheckpointSigner.queues.get(key) === tail) CheckpointSigner.queues.delete(key);
    });
    return run;
  }

  private async signNow(size: number, root: Uint8Array, proof: readonly Uint8Array[]): Promise<string> {
    const next: Checkpoint = { origin: this.opts.origin, size, root: root.slice() };
    const body = formatCheckpoint(next);
    const last = await this.last();
    if (size < last.size)
      throw new CheckpointError(
        'CHECKPOINT_ROLLBACK',
        `refusing to sign tree size ${size}: a checkpoint of size ${last.size} was already signed`,
      );
    if (size === last.size) {
      if (!eq(root, last.root))
        throw new CheckpointError(
          'CHECKPOINT_FORK',
          `refusing to sign a second, different root for tree size ${size}: this would be a fork`,
        );
    } else if (last.size > 0 && !verifyConsistency(last.size, size, last.root, root, proof)) {
      throw new CheckpointError(
        'CHECKPOINT_INCONSISTENT',
        `refusing to sign tree size ${size}: no valid consistency proof from the signed size ${last.size}`,
      );
    }
    if (size !== last.size) await writeDurably(this.opts.statePath, body, false);
    return signNote(body, [this.opts.signer]);
  }
}
