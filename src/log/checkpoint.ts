/**
 * C2SP tlog-checkpoint v1.0.0 (c2sp.org/tlog-checkpoint) bodies, and the rule by which one checkpoint
 * may follow another.
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
 * @example
 * const body = formatCheckpoint({ origin, size: tree.size, root: tree.root() });
 * const note = await signNote(body, [signer]);
 * openCheckpoint(note, [verifier], origin); // { origin, size, root, note }
 * @module
 */

import { EmbassyError } from '../errors.ts';
import { HASH_SIZE, verifyConsistency } from './merkle.ts';
import { type NoteVerifier, type OpenedNote, openNote } from './note.ts';

/**
 * Error codes of checkpoints: the body and origin codes come from this module, the `STATE_*` codes from
 * the checkpoint signer (src/audit/signer.ts), which keeps the last signed checkpoint in a file.
 */
export type CheckpointErrorCode =
  | 'checkpoint_malformed'
  | 'checkpoint_bad_origin'
  | 'checkpoint_wrong_origin'
  | 'checkpoint_state_missing'
  | 'checkpoint_state_exists'
  | 'checkpoint_state_corrupt'
  | 'checkpoint_rollback'
  | 'checkpoint_fork'
  | 'checkpoint_inconsistent';

/** The only error this module throws itself (note errors pass through as NoteError). */
export class CheckpointError extends EmbassyError<CheckpointErrorCode> {}

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

/** Throws `checkpoint_bad_origin` unless {@link isValidOrigin}. */
export function checkOrigin(origin: string): void {
  if (!isValidOrigin(origin))
    throw new CheckpointError(
      'checkpoint_bad_origin',
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
    throw new CheckpointError('checkpoint_malformed', 'tree size must be a non-negative safe integer');
  if (!(c.root instanceof Uint8Array) || c.root.length !== HASH_SIZE)
    throw new CheckpointError('checkpoint_malformed', 'root must be 32 bytes');
  return `${c.origin}\n${c.size}\n${Buffer.from(c.root).toString('base64')}\n`;
}

/**
 * Parses a checkpoint body strictly: exactly three lines, a decimal size without leading zeros that is
 * a safe integer (≤ 2^53 − 1), and the canonical base64 of a 32-byte root. Extension lines are refused.
 * @throws {CheckpointError} `checkpoint_malformed` (never anything else).
 */
export function parseCheckpoint(text: string): Checkpoint {
  const bad = (why: string) => new CheckpointError('checkpoint_malformed', `checkpoint ${why}`);
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
    throw new CheckpointError('checkpoint_wrong_origin', `checkpoint is for log ${c.origin}, not ${origin}`);
  return { ...c, note: opened };
}

const eq = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/**
 * Checks that `next` may follow `last` in one log without a fork: it is not smaller, a same-size
 * checkpoint has the same root, and a larger one comes with a valid RFC 9162 consistency proof from
 * `last` (none is needed from the empty tree). Equal checkpoints pass.
 * @throws {CheckpointError} `checkpoint_rollback` (smaller), `checkpoint_fork` (same size, other root),
 *   `checkpoint_inconsistent` (missing or failing proof).
 * @example checkExtends({ origin, size: 0, root: EMPTY_ROOT }, next, []) // passes for any next
 */
export function checkExtends(last: Checkpoint, next: Checkpoint, proof: readonly Uint8Array[]): void {
  const { size, root } = next;
  if (size < last.size)
    throw new CheckpointError(
      'checkpoint_rollback',
      `refusing to sign tree size ${size}: a checkpoint of size ${last.size} was already signed`,
    );
  if (size === last.size) {
    if (!eq(root, last.root))
      throw new CheckpointError(
        'checkpoint_fork',
        `refusing to sign a second, different root for tree size ${size}: this would be a fork`,
      );
  } else if (last.size > 0 && !verifyConsistency(last.size, size, last.root, root, proof)) {
    throw new CheckpointError(
      'checkpoint_inconsistent',
      `refusing to sign tree size ${size}: no valid consistency proof from the signed size ${last.size}`,
    );
  }
}
