/**
 * Refused authentications (docs/DECISIONS.md#d6): a separate, rate-limited stream, NOT the Merkle log, so a
 * stranger hammering the API cannot grow the audit log or hog its lock. Per principal (as claimed by the
 * request, so attacker-chosen) and per one-minute window, the first `perPrincipal` refusals are stored
 * as rows; the rest are only counted. A global cap per window bounds the rows a flood of invented
 * principal ids can write. It never takes the log lock: one upsert and at most one insert.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Schema } from './schema.ts';

export interface RefusedAuthLimits {
  /** Rows kept per principal per minute (default 10). */
  readonly perPrincipal: number;
  /** Rows kept across all principals per minute (default 600). */
  readonly global: number;
}

export const DEFAULT_REFUSED_AUTH_LIMITS: RefusedAuthLimits = { perPrincipal: 10, global: 600 };

/** Counter key of the global window (not a valid principal id). */
const GLOBAL = '*';
const MAX_FIELD = 256;

const clip = (s: string): string => {
  let t = '';
  for (const ch of String(s)) {
    const c = ch.charCodeAt(0);
    t += c < 0x20 || c === 0x7f ? '?' : ch;
  }
  return t.length > MAX_FIELD ? `${t.slice(0, MAX_FIELD)}…` : t;
};

export interface RefusedAuth {
  /** The principal id the request claimed (may be unknown or invented). */
  readonly principalId: string;
  /** A short reason code, e.g. `bad-signature`, `stale-timestamp`, `replayed-nonce`. Never a secret. */
  readonly reason: string;
  /** Request path. */
  readonly path: string;
  readonly at?: Date;
}

export interface RefusedAuthResult {
  /** True if a row was written; false if only counted (rate limit reached). */
  readonly recorded: boolean;
  /** Refusals of this principal in the current window, recorded or not. */
  readonly count: number;
}

const windowStart = (at: Date): string => {
  const d = new Date(at.getTime());
  d.setUTCSeconds(0, 0);
  return d.toISOString();
};

async function bump(db: Kysely<Schema>, principal: string, window: string): Promise<number> {
  const row = await db
    .insertInto('refused_auth_counters')
    .values({ principal_id: principal, window_start: window, count: 1 })
    .onConflict((oc) =>
      oc
        .columns(['principal_id', 'window_start'])
        .doUpdateSet((eb) => ({ count: eb('refused_auth_counters.count', '+', 1) })),
    )
    .returning('count')
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Records a refused authentication, within the rate limits. Use `store.db`, not a write transaction. */
export async function recordRefusedAuth(
  db: Kysely<Schema>,
  r: RefusedAuth,
  limits: RefusedAuthLimits = DEFAULT_REFUSED_AUTH_LIMITS,
): Promise<RefusedAuthResult> {
  const at = r.at ?? new Date();
  const window = windowStart(at);
  const principal = clip(r.principalId);
  const count = await bump(db, principal, window);
  if (count > limits.perPrincipal) return { recorded: false, count };
  const total = await bump(db, GLOBAL, window);
  if (total > limits.global) return { recorded: false, count };
  await db
    .insertInto('refused_auth')
    .values({
      id: randomUUID(),
      principal_id: principal,
      reason: clip(r.reason),
      path: clip(r.path),
      at: at.toISOString(),
    })
    .execute();
  return { recorded: true, count };
}

/** Per-window totals, recorded and dropped, newest first: what an operator's dashboard shows. */
export async function refusedAuthSummary(
  db: Kysely<Schema>,
  since: Date,
  limits: RefusedAuthLimits = DEFAULT_REFUSED_AUTH_LIMITS,
): Promise<{ principalId: string; windowStart: string; count: number; dropped: number }[]> {
  const rows = await db
    .selectFrom('refused_auth_counters')
    .selectAll()
    .where('window_start', '>=', windowStart(since))
    .where('principal_id', '!=', GLOBAL)
    .orderBy('window_start', 'desc')
    .orderBy('principal_id')
    .execute();
  return rows.map((r) => ({
    principalId: r.principal_id,
    windowStart: r.window_start,
    count: Number(r.count),
    dropped: Math.max(0, Number(r.count) - limits.perPrincipal),
  }));
}

/** Deletes refused-authentication rows and counters older than `before`. */
export async function purgeRefusedAuth(db: Kysely<Schema>, before: Date): Promise<number> {
  const a = await db.deleteFrom('refused_auth').where('at', '<', before.toISOString()).executeTakeFirst();
  await db.deleteFrom('refused_auth_counters').where('window_start', '<', windowStart(before)).execute();
  return Number(a.numDeletedRows);
}
