/**
 * Structured JSON access log (pino) with a request id: method, route, status, duration and the
 * authenticated principal. Never bodies, headers or query values: nothing secret can reach it.
 */
import { randomBytes } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { Logger } from 'pino';

export function accessLog(log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const requestId = randomBytes(8).toString('hex');
    c.set('requestId' as never, requestId as never);
    c.header('x-request-id', requestId);
    const start = performance.now();
    await next();
    const caller = c.get('caller' as never) as { id?: string } | undefined;
    log.info({
      requestId,
      method: c.req.method,
      route: routePath(c),
      status: c.res.status,
      ms: Math.round((performance.now() - start) * 10) / 10,
      principal: caller?.id,
    });
  };
}
