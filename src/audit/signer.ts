/**
 * A {@link CheckpointSigner} that never signs two inconsistent checkpoints of one log.
 *
 * The signer keeps the last (size, root) it agreed to sign in a small file that lives OUTSIDE the
 * database (docs/DECISIONS.md#d6): a restored or rolled-back database cannot make it sign a fork. It
 * refuses, with a {@link CheckpointError}, a smaller tree, a different root at the same size, and a
 * larger tree without a valid consistency proof from the last one ({@link checkExtends}). The new state
 * is made durable (write, fsync, rename, fsync directory) before the signature is requested.
 *
 * @example
 * await CheckpointSigner.init('/var/lib/embassy/log-state', 'embassy.example.gov/audit');
 * const cs = new CheckpointSigner({ statePath, origin, signer });   // signer: HSM or software
 * const note = await cs.sign(tree.size, tree.root(), tree.consistencyProof(last.size, tree.size));
 * openCheckpoint(note, [verifier], origin); // { origin, size, root }
 * @module
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { writeDurably } from '../fs/durable.ts';
import {
  type Checkpoint,
  CheckpointError,
  checkExtends,
  checkOrigin,
  formatCheckpoint,
  parseCheckpoint,
} from '../log/checkpoint.ts';
import { EMPTY_ROOT } from '../log/merkle.ts';
import { type Signer, signNote } from '../log/note.ts';

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
      throw new CheckpointError('checkpoint_wrong_origin', 'checkpoint is for another log');
    await writeDurably(statePath, formatCheckpoint(c), { exclusive: true }).catch(
      (e: NodeJS.ErrnoException) => {
        if (e.code === 'EEXIST')
          throw new CheckpointError(
            'checkpoint_state_exists',
            `checkpoint state ${statePath} already exists`,
          );
        throw e;
      },
    );
  }

  /** The last checkpoint this signer agreed to sign (size 0 right after {@link init}). */
  async last(): Promise<Checkpoint> {
    let text: string;
    try {
      text = await readFile(this.opts.statePath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw new CheckpointError(
          'checkpoint_state_missing',
          `checkpoint state ${this.opts.statePath} is missing: restore it, or run init for a new log`,
        );
      throw e;
    }
    let c: Checkpoint;
    try {
      c = parseCheckpoint(text);
    } catch {
      throw new CheckpointError(
        'checkpoint_state_corrupt',
        `checkpoint state ${this.opts.statePath} is corrupt`,
      );
    }
    if (c.origin !== this.opts.origin)
      throw new CheckpointError('checkpoint_wrong_origin', `checkpoint state is for log ${c.origin}`);
    return c;
  }

  /**
   * Signs the checkpoint (origin, `size`, `root`) and returns the signed note. `proof` is the RFC 9162
   * consistency proof from the last signed size to `size` (not needed when the last size is 0 or equals
   * `size`). Re-signing the last checkpoint is allowed.
   * @throws {CheckpointError} `checkpoint_rollback` (smaller), `checkpoint_fork` (same size, other root),
   *   `checkpoint_inconsistent` (missing or failing proof), `checkpoint_state_*`.
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
    checkExtends(last, next, proof);
    if (size !== last.size) await writeDurably(this.opts.statePath, body);
    return signNote(body, [this.opts.signer]);
  }
}
