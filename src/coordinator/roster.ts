/**
 * The roster chain the coordinator serves: every signed version, verified from the pinned genesis
 * when the coordinator starts, and each new version verified against the one in force (signed by
 * thresholds of the old and the new root) before it is recorded with its audit entry.
 */
import { appendEntry } from '../audit/log.ts';
import {
  RosterError,
  type SignedRoster,
  type VerifiedRoster,
  verifyRosterChain,
  verifyRosterUpdate,
} from '../roster/index.ts';
import type { Store, Trx } from '../store/index.ts';
import { type Caller, spendNonce } from './caller.ts';
import { ApiError } from './errors.ts';
import { insertRosterVersion, rosterVersions } from './repository.ts';

export class RosterService {
  private constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    private trusted: VerifiedRoster,
  ) {}

  /**
   * Loads the roster chain from the store, verified from the pinned genesis; on an empty store the
   * given genesis is verified against the pin and recorded.
   */
  static async load(
    store: Store,
    now: () => Date,
    opts: { rosterPin: string; genesis?: SignedRoster },
  ): Promise<RosterService> {
    const versions = await rosterVersions(store.db);
    if (versions.length > 0) {
      return new RosterService(store, now, verifyRosterChain(opts.rosterPin, versions, now()).current);
    }
    if (!opts.genesis)
      throw new ApiError('internal', 'the store holds no roster and no genesis roster was given');
    const s = new RosterService(store, now, verifyRosterChain(opts.rosterPin, [opts.genesis], now()).current);
    await store.transaction((trx) => s.record(trx, s.trusted, 'coordinator'));
    return s;
  }

  /** The version in force. */
  get current(): VerifiedRoster {
    return this.trusted;
  }

  versions(): Promise<SignedRoster[]> {
    return rosterVersions(this.store.db);
  }

  async add(caller: Caller, signed: unknown): Promise<{ version: number; rosterId: string }> {
    let next: VerifiedRoster;
    try {
      next = verifyRosterUpdate(this.trusted, signed, this.now());
    } catch (e) {
      if (e instanceof RosterError) throw new ApiError('policy', e.message);
      throw e;
    }
    await this.store.transaction(async (trx) => {
      await spendNonce(trx, caller, this.now());
      await this.record(trx, next, caller.ref);
    });
    this.trusted = next;
    return { version: next.roster.version, rosterId: next.rosterId };
  }

  private async record(trx: Trx, v: VerifiedRoster, actor: string): Promise<void> {
    const signed: SignedRoster = { roster: v.roster, signatures: [...v.signatures] };
    await insertRosterVersion(trx, { signed, rosterId: v.rosterId, createdAt: this.now().toISOString() });
    await appendEntry(trx, {
      kind: 'roster-version',
      actor,
      data: {
        version: signed.roster.version,
        rosterId: v.rosterId,
        signers: signed.signatures.map((s) => s.signer),
      },
    });
  }
}
