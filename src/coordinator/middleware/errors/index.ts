/**
 * Every error leaves as `{ "error": { "code", "message" } }` with its HTTP status. Only our own
 * ApiErrors (whose messages are written for the caller) and Hono's HTTP exceptions leave with their
 * message; anything else, a database or audit-log failure included, and an ApiError that is itself
 * `internal`, is a 500 whose message says nothing about the internals (the detail goes to the log
 * with the request id, never secret material).
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ApiError } from '../../errors.ts';

export const errorBody = (code: string, message: string) => ({ error: { code, message } });

export function onError(log: (fields: Record<string, unknown>) => void) {
  return (err: Error, c: Context) => {
    if (err instanceof ApiError && err.code !== 'internal')
      return c.json(errorBody(err.code, err.message), err.status as ContentfulStatusCode);
    if (err instanceof HTTPException) {
      const code =
        err.status === 413
          ? 'payload_too_large'
          : err.status === 415
            ? 'unsupported_media_type'
            : 'bad_request';
      return c.json(errorBody(code, err.message || code.replace(/_/g, ' ')), err.status);
    }
    log({
      level: 'error',
      msg: 'unhandled error',
      requestId: c.get('requestId' as never),
      err: err.name,
      detail: err.message,
    });
    return c.json(errorBody('internal', 'internal error'), 500);
  };
}
