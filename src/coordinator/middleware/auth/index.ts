/**
 * Signed-request authentication (docs/API.md §2): the principal, timestamp, nonce and roster
 * headers and a signature over method, path, body digest, timestamp and nonce, checked against
 * the principal's key in the coordinator's current roster. The nonce is remembered in the same
 * transaction as the state change (../../caller.ts), so a replay changes nothing (invariant 7).
 * Refusals go to the rate-limited refused-authentication stream, not the Merkle log (docs/DECISIONS.md#d6).
 */
import type { MiddlewareHandler } from 'hono';
import { fromBase64Url, verifyPayload } from '../../../crypto/statement.ts';
import { HEADER, MAX_CLOCK_SKEW_MS, requestPayload } from '../../../protocol/request.ts';
import { principalKey } from '../../../roster/index.ts';
import { recordRefusedAuth } from '../../../store/refused.ts';
import type { Caller } from '../../caller.ts';
import { ApiError } from '../../errors.ts';
import type { Coordinator } from '../../index.ts';

export type AuthEnv = { Variables: { caller: Caller } };

export function signedRequest(coordinator: Coordinator): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const h = (name: string) => c.req.header(name);
    const principal = h(HEADER.principal);
    const refuse = async (code: 'unauthenticated' | 'bad_signature' | 'stale_request', message: string) => {
      await recordRefusedAuth(coordinator.store.db, {
        principalId: principal ?? '(none)',
        reason: `${code}: ${message}`,
        path: `${c.req.method} ${new URL(c.req.url).pathname}`,
      }).catch(() => undefined);
      throw new ApiError(code, message);
    };
    const timestamp = h(HEADER.timestamp);
    const nonce = h(HEADER.nonce);
    const roster = h(HEADER.roster);
    const signature = h(HEADER.signature);
    if (!principal || !timestamp || !nonce || !roster || !signature) {
      return refuse('unauthenticated', 'this request must be signed (Embassy-* headers missing)');
    }
    if (!/^[0-9a-f]{32}$/.test(nonce))
      return refuse('unauthenticated', 'Embassy-Nonce must be 32 lowercase hex digits');
    const t = Date.parse(timestamp);
    if (!/^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/.test(timestamp) || Number.isNaN(t)) {
      return refuse('unauthenticated', 'Embassy-Timestamp must be RFC 3339 UTC');
    }
    if (Math.abs(t - coordinator.clock.getTime()) > MAX_CLOCK_SKEW_MS) {
      return refuse('stale_request', 'the request timestamp is too far from the coordinator clock');
    }
    if (roster !== coordinator.rosterId) {
      return refuse(
        'unauthenticated',
        'the request was signed against another roster version; fetch the current roster',
      );
    }
    let key: ReturnType<typeof principalKey>;
    try {
      key = principalKey(coordinator.roster, principal);
    } catch {
      return refuse('unauthenticated', `"${principal}" is not a principal of the current roster`);
    }
    const sig = fromBase64Url(signature);
    const url = new URL(c.req.url);
    const body = new Uint8Array(await c.req.arrayBuffer());
    const payload = requestPayload(
      { method: c.req.method, path: url.pathname + url.search, body, timestamp, nonce, principal },
      Buffer.from(roster, 'hex'),
    );
    if (!sig || !verifyPayload(key, payload, sig))
      return refuse('bad_signature', 'the request signature does not verify');
    c.set('caller', { id: key.id, ref: `${key.role}/${key.id}`, role: key.role, nonce });
    await next();
  };
}
