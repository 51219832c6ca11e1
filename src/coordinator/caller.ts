/**
 * Who is calling, and the checks every service applies to what a caller submits: the caller's role,
 * then the statement's type, roster, signer, signature and body (through the statement registry of
 * src/protocol/statements.ts), then its freshness; and the caller's nonce, spent in the transaction
 * of the change it authorises (invariant 7), so a replayed request changes nothing.
 */
import { type Statement, verifyStatement } from '../crypto/statement.ts';
import { MAX_CLOCK_SKEW_MS } from '../protocol/request.ts';
import { type BodyOf, type SignerRole, STATEMENTS, type StatementType } from '../protocol/statements.ts';
import { principalKey, type VerifiedRoster } from '../roster/index.ts';
import type { Store } from '../store/index.ts';
import { rememberNonce } from '../store/nonces.ts';
import { ApiError } from './errors.ts';
import type { Db } from './repository.ts';

/** Who is calling, after the auth middleware verified the request signature. */
export interface Caller {
  id: string;
  /** `<role>/<id>`: how statements name their signer and audit entries their actor. */
  ref: string;
  role: SignerRole;
  nonce: string;
}

/** What the services share: the store, the clock and the roster version in force. */
export interface Context {
  readonly store: Store;
  now(): Date;
  roster(): VerifiedRoster;
}

export function requireRole(caller: Caller, role: Caller['role'], what: string): void {
  if (caller.role !== role) throw new ApiError('forbidden', `a ${caller.role} may not ${what}`);
}

/**
 * Accepts a statement the caller submits to `what` (e.g. "approve or veto"): the caller has the role
 * the registry names for `type`, and the statement is of that type, against the roster in force,
 * signed by the caller, with a valid body signed within the clock skew. Returns the parsed body.
 */
export function acceptStatement<T extends StatementType>(
  ctx: Context,
  caller: Caller,
  s: Statement,
  type: T,
  what: string,
): BodyOf<T> {
  const spec = STATEMENTS[type];
  requireRole(caller, spec.signer, what);
  if (s.type !== type) throw new ApiError('bad_request', `expected a "${type}" statement`);
  const { roster, rosterId } = ctx.roster();
  if (s.roster !== rosterId)
    throw new ApiError('policy', 'the statement was signed against another roster version');
  if (s.signer !== caller.ref) {
    throw new ApiError('forbidden', 'the statement is signed by someone other than the caller');
  }
  let ok = false;
  try {
    ok = verifyStatement(s, principalKey(roster, caller.id));
  } catch {
    ok = false;
  }
  if (!ok) throw new ApiError('bad_signature', `the "${type}" statement's signature does not verify`);
  const r = spec.body.safeParse(s.body);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ApiError('bad_request', `statement body: ${i.path.join('.') || '(root)'} ${i.message}`);
  }
  const body = r.data as BodyOf<T>;
  if (Math.abs(Date.parse(body.createdAt) - ctx.now().getTime()) > MAX_CLOCK_SKEW_MS) {
    throw new ApiError('stale_request', 'the statement time is too far from the coordinator clock');
  }
  return body;
}

/** Spends the caller's nonce in `db` (the transaction of the change, or the store for a signed read). */
export async function spendNonce(db: Db, caller: Caller, now: Date): Promise<void> {
  if (!(await rememberNonce(db, caller.id, caller.nonce, now))) {
    throw new ApiError('replayed', 'this request was seen before (replayed nonce)');
  }
}
