/** Turns any failure into the one line the CLI prints: `embassy: <what went wrong>`. */
export class UsageError extends Error {
  readonly code = 'usage';
}

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

/** One line, no stack: codes and messages of our own errors never hold secret material. */
export function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code && SYSTEM_ERRORS[err.code])
    return `${err.path ?? err.syscall ?? 'file'}: ${SYSTEM_ERRORS[err.code]}`;
  if (err instanceof Error) return err.message.split('\n')[0]!;
  return String(e);
}
