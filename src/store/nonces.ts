/**
 * Replay protection (invariant 7, docs/DECISIONS.md#i7): a (principal, nonce) pair is accepted once. Call
 * {@link rememberNonce} inside the transaction of the request it authenticates, so a request that fails
 * does not burn its nonce, and purge nonces older than the accepted timestamp window.
 * @module
 */
import type { Kysely } from 'kysely';
import type { Schema } from './schema.ts';

/**
 * Records a nonce; returns false if this principal already used it (a replay).
 * @example if (!(await rememberNonce(trx, 'custodian/alice', nonce, now))) throw replay();
 */
export async function rememberNonce(
  db: Kysely<Schema>,
  principalId: string,
  nonce: string,
  seenAt: Date = new Date(),
): Promise<boolean> {
  const r = await db
    .insertInto('nonces')
    .values({ principal_id: principalId, nonce, seen_at: seenAt.toISOString() })
    .onConflict((oc) => oc.columns(['principal_id', 'nonce']).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
}

/** Deletes nonces seen before `before` (older than the timestamp window); returns how many. */
export async function purgeNonces(db: Kysely<Schema>, before: Date): Promise<number> {
  const r = await db.deleteFrom('nonces').where('seen_at', '<', before.toISOString()).executeTakeFirst();
  return Number(r.numDeletedRows);
}
