import { EmbassyError } from '../errors.ts';

/** Error codes raised by the store. */
export type StoreErrorCode =
  | 'store_bad_options'
  | 'store_open_failed'
  | 'store_migration_failed'
  | 'store_origin_mismatch'
  | 'store_busy'
  | 'store_closed';

/** The store's typed error. Messages name tables and ids, never stored values. */
export class StoreError extends EmbassyError<StoreErrorCode> {}
