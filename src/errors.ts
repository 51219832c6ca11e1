/**
 * The one error base. Every error a module throws on purpose is an {@link EmbassyError}: a stable
 * `code` that programs compare (tests, HTTP bodies, audit findings, job records, docs) and one
 * English line a person can act on. Codes are lowercase snake_case; a module with many codes
 * prefixes them with its name (`merkle_bad_hash`, `roster_pin_mismatch`), a module with a few names
 * the condition (`wrong_pin`, `usage`). Messages name files, ids, labels and sizes, never a PIN, a
 * share or a key, so {@link describeError} may print them.
 *
 * Pure: importable by every layer (scripts/check-layers.mjs).
 *
 * @example
 * export type MerkleErrorCode = 'merkle_bad_hash' | 'merkle_bad_size' | 'merkle_bad_index';
 * export class MerkleError extends EmbassyError<MerkleErrorCode> {}
 *
 * throw new MerkleError('merkle_bad_hash', 'a node hash must be 32 bytes');
 * // catch (e) { if (e instanceof MerkleError && e.code === 'merkle_bad_hash') … }
 */
export class EmbassyError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Node's system error codes that a user can meet, as the words the CLI prints for them. */
const SYSTEM_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a path component is not a directory',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  EPIPE: 'output closed early',
};

/**
 * Any failure as one line, never a stack: a system error as `path: what went wrong`, anything else as
 * the first line of its message. The CLI prints it after `embassy: `.
 *
 * @example
 * describeError(Object.assign(new Error('…'), { code: 'ENOENT', path: 'in.bin' })) // 'in.bin: no such file or directory'
 * describeError(new EmbassyError('usage', 'give -o FILE\n(see --help)'))            // 'give -o FILE'
 */
export function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code && SYSTEM_ERRORS[err.code])
    return `${err.path ?? err.syscall ?? 'file'}: ${SYSTEM_ERRORS[err.code]}`;
  if (err instanceof Error) return err.message.split('\n')[0]!;
  return String(e).split('\n')[0]!;
}
