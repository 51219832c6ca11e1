import { EmbassyError } from '../errors.ts';

/** Errors the coordinator answers with: `{ "error": { "code", "message" } }` and this HTTP status. */
export type ApiErrorCode =
  | 'bad_request'
  | 'invalid_json'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'unauthenticated'
  | 'bad_signature'
  | 'stale_request'
  | 'replayed'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'wrong_state'
  | 'policy'
  | 'internal';

const STATUS: Record<ApiErrorCode, number> = {
  bad_request: 400,
  invalid_json: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  unauthenticated: 401,
  bad_signature: 401,
  stale_request: 401,
  replayed: 409,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  wrong_state: 409,
  policy: 422,
  internal: 500,
};

export class ApiError extends EmbassyError<ApiErrorCode> {
  get status(): number {
    return STATUS[this.code];
  }
}
