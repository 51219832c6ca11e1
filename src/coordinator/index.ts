/**
 * The coordinator: one object over the roster, snapshot and unlock services (./roster.ts,
 * ./snapshots.ts, ./unlock.ts), which share the store, the clock and the roster version in force,
 * and keep their SQL in ./repository.ts. The HTTP app (./app.ts) and in-process callers (the
 * development deployment, ceremonies, the CLI) drive it through the methods below. The coordinator
 * keeps only public keys, signed statements and wrapped blobs (invariant 1): it never sees a share,
 * DEK or private key.
 *
 * @example
 * const coordinator = await Coordinator.open(store, { rosterPin, genesis, checkpointer });
 * const { app } = createApp(coordinator);
 */
import { issueCheckpoint, latestCheckpoint, treeHead } from '../audit/log.ts';
import type { CheckpointSigner } from '../audit/signer.ts';
import type { Statement } from '../crypto/statement.ts';
import type { CeremonyId } from '../protocol/ids.ts';
import type { CeremonyView, ReleaseView, SnapshotView } from '../protocol/views.ts';
import type { RosterDoc, SignedRoster } from '../roster/index.ts';
import type { Store } from '../store/index.ts';
import type { Caller, Context } from './caller.ts';
import { ceremonyCounts, decisionCounts } from './repository.ts';
import { RosterService } from './roster.ts';
import { SnapshotService } from './snapshots.ts';
import { UnlockService } from './unlock.ts';

export class Coordinator {
  /**
   * The last checkpoint failure, undefined when the last attempt worked. /healthz reports that there
   * is one, never its text (a database error could name internals); listeners log it.
   */
  lastCheckpointError: unknown;
  private readonly checkpointListeners: ((error: unknown) => void)[] = [];
  private readonly snapshotService: SnapshotService;
  private readonly unlock: UnlockService;

  private constructor(
    readonly store: Store,
    private readonly rosters: RosterService,
    private readonly now: () => Date,
    private readonly checkpointer?: CheckpointSigner,
  ) {
    const ctx: Context = { store, now, roster: () => rosters.current };
    this.snapshotService = new SnapshotService(ctx);
    this.unlock = new UnlockService(ctx, () => this.checkpoint());
  }

  /**
   * Loads the roster chain from the store, verified from the pinned genesis; on an empty store the
   * given genesis is verified against the pin and recorded.
   */
  static async open(
    store: Store,
    opts: { rosterPin: string; genesis?: SignedRoster; now?: () => Date; checkpointer?: CheckpointSigner },
  ): Promise<Coordinator> {
    const now = opts.now ?? (() => new Date());
    const rosters = await RosterService.load(store, now, opts);
    return new Coordinator(store, rosters, now, opts.checkpointer);
  }

  /**
   * Signs a checkpoint of the committed log when it grew since the last one (only committed state
   * is signed; the signer refuses, loudly, anything inconsistent with its last one). Runs after
   * every ceremony close and on the server's schedule; a failure is kept for /healthz.
   */
  async checkpoint(): Promise<void> {
    if (!this.checkpointer) return;
    try {
      const [head, last] = await Promise.all([treeHead(this.store.db), latestCheckpoint(this.store.db)]);
      if (last && last.size === head.size) return;
      await issueCheckpoint(this.store, this.checkpointer);
      this.lastCheckpointError = undefined;
    } catch (e) {
      this.lastCheckpointError = e;
      for (const listener of this.checkpointListeners) listener(e);
    }
  }

  /** Calls `listener` with every checkpoint failure as it happens (the app logs it). */
  onCheckpointError(listener: (error: unknown) => void): void {
    this.checkpointListeners.push(listener);
  }

  get roster(): RosterDoc {
    return this.rosters.current.roster;
  }

  get rosterId(): string {
    return this.rosters.current.rosterId;
  }

  get clock(): Date {
    return this.now();
  }

  // ---- roster
  rosterVersions(): Promise<SignedRoster[]> {
    return this.rosters.versions();
  }
  addRosterVersion(caller: Caller, signed: unknown): Promise<{ version: number; rosterId: string }> {
    return this.rosters.add(caller, signed);
  }

  // ---- snapshots
  registerSnapshot(caller: Caller, statement: Statement): Promise<void> {
    return this.snapshotService.register(caller, statement);
  }
  snapshots(domain?: string): Promise<SnapshotView[]> {
    return this.snapshotService.list(domain);
  }

  // ---- unlock ceremonies
  openUnlock(caller: Caller, statement: Statement): Promise<CeremonyView> {
    return this.unlock.open(caller, statement);
  }
  decide(caller: Caller, id: CeremonyId, statement: Statement): Promise<CeremonyView> {
    return this.unlock.decide(caller, id, statement);
  }
  release(caller: Caller, id: CeremonyId, statement: Statement, blob: string): Promise<CeremonyView> {
    return this.unlock.release(caller, id, statement, blob);
  }
  releases(caller: Caller, id: CeremonyId): Promise<ReleaseView[]> {
    return this.unlock.releases(caller, id);
  }
  close(caller: Caller, id: CeremonyId, statement: Statement): Promise<CeremonyView> {
    return this.unlock.close(caller, id, statement);
  }
  /** Closes every ceremony past its deadline; returns how many. */
  sweep(): Promise<number> {
    return this.unlock.sweep();
  }
  ceremonies(state?: string): Promise<CeremonyView[]> {
    return this.unlock.ceremonies(state);
  }
  ceremony(id: CeremonyId): Promise<CeremonyView> {
    return this.unlock.ceremony(id);
  }

  /** Ceremonies by state and decisions by kind, for /metrics. */
  async gauges(): Promise<{
    ceremonies: { state: string; n: number }[];
    decisions: { kind: string; n: number }[];
  }> {
    const [ceremonies, decisions] = await Promise.all([
      ceremonyCounts(this.store.db),
      decisionCounts(this.store.db),
    ]);
    return { ceremonies, decisions };
  }
}
