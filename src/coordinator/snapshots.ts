/**
 * Snapshot registrations: a backup job registers each sealed archive with a signed
 * `snapshot-registration` statement, for a domain the roster lets it seal, with a sequence number
 * after the domain's last one; stations and auditors read them back. The stored digest is the
 * registration's `bodyDigest`, which rewraps leave unchanged (docs/DECISIONS.md#d15).
 */
import { appendEntry } from '../audit/log.ts';
import type { Statement } from '../crypto/statement.ts';
import { PrincipalRef } from '../protocol/ids.ts';
import { STATEMENT } from '../protocol/statements.ts';
import type { SnapshotView } from '../protocol/views.ts';
import { jobMaySeal } from '../roster/index.ts';
import { acceptStatement, type Caller, type Context, spendNonce } from './caller.ts';
import { ApiError } from './errors.ts';
import { insertSnapshot, lastSnapshotSequence, snapshotExists, snapshots } from './repository.ts';

export class SnapshotService {
  constructor(private readonly ctx: Context) {}

  async register(caller: Caller, statement: Statement): Promise<void> {
    const { ctx } = this;
    const body = acceptStatement(ctx, caller, statement, STATEMENT.snapshot, 'register snapshots');
    if (!jobMaySeal(ctx.roster().roster, caller.id, body.domain)) {
      throw new ApiError('forbidden', `job "${caller.id}" may not seal for domain "${body.domain}"`);
    }
    await ctx.store.transaction(async (trx) => {
      await spendNonce(trx, caller, ctx.now());
      if (await snapshotExists(trx, body.id))
        throw new ApiError('conflict', `snapshot "${body.id}" is already registered`);
      const last = await lastSnapshotSequence(trx, body.domain);
      if (last !== undefined && body.sequence <= last) {
        throw new ApiError(
          'conflict',
          `sequence ${body.sequence} is not after the last one (${last}) for "${body.domain}"`,
        );
      }
      await insertSnapshot(trx, {
        id: body.id,
        domain: body.domain,
        sealEpoch: body.sealEpoch,
        size: body.size,
        digest: body.bodyDigest,
        location: body.location,
        sequence: body.sequence,
        registeredBy: PrincipalRef.parse(caller.ref),
        registeredAt: ctx.now().toISOString(),
        statement,
      });
      await appendEntry(trx, { kind: 'snapshot-registration', actor: caller.ref, statement });
    });
  }

  /** Registered snapshots, of one domain or all. */
  list(domain?: string): Promise<SnapshotView[]> {
    return snapshots(this.ctx.store.db, domain);
  }
}
