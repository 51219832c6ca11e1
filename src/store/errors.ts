/** Error codes raised by the store. */
export type StoreErrorCode =
  | 'STORE_BAD_OPTIONS'
  | 'STORE_OPEN_FAILED'
  | 'STORE_MIGRATION_FAILED'
  | 'STORE_ORIGIN_MISMATCH'
  | 'STORE_BUSY'
  | 'STORE_CLOSED';

/** The store's typed error. Messages name tables and ids, never stored values. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
