/**
 * Sealing a snapshot as the backup job: to the domain's current quorum key as the pinned roster
 * states it (never as the coordinator says), optionally with home stanzas, and signed as its maker
 * with a sequence that only increases (docs/DECISIONS.md#d4), so a station can refuse a forged
 * archive or an older one handed back in place of the registered one.
 *
 * @example
 * const { snapshotId } = await sealSnapshot(await fileSource('land.csv'), await atomicFileSink('land.emb', 0o644), {
 *   roster, domain: 'land', client: job, name: 'land.csv' });
 * @module
 */
import { type HomeWrapper, type Sink, type Source, sealArchive } from '../archive/index.ts';
import type { SealOptions, SealResult } from '../archive/seal.ts';
import type { CoordinatorClient } from '../protocol/client.ts';
import { currentEpoch, quorumKey, type RosterDoc } from '../roster/index.ts';

export interface SealSnapshotOptions {
  /** The roster the job pinned and verified. */
  roster: RosterDoc;
  domain: string;
  /** The backup job's client: its principal and key sign the maker statement, its roster id is named. */
  client: CoordinatorClient;
  /** Default `<domain>-<created-at as YYYYMMDDTHHMMSSZ>`. */
  snapshotId?: string;
  /** Default `application/octet-stream`. */
  contentType?: string;
  /** The input's file name, recorded in the manifest. */
  name?: string;
  /** Home stanzas (the home HSM's key wrap), for restores without a quorum. */
  home?: HomeWrapper[];
  /** Default: the clock in milliseconds, which only increases between runs of one job. */
  sequence?: number;
  now?: () => Date;
  /** Passed to sealArchive: chunk worker threads, and randomness (injected only by tests that keep the DEK). */
  threads?: SealOptions['threads'];
  random?: SealOptions['random'];
}

export interface SealedSnapshot extends SealResult {
  snapshotId: string;
  sequence: number;
}

/** Seals `src` into `sink` as a snapshot of `domain`. @throws {ArchiveError} and roster errors for an unknown domain */
export async function sealSnapshot(
  src: Source,
  sink: Sink,
  opts: SealSnapshotOptions,
): Promise<SealedSnapshot> {
  const epoch = currentEpoch(opts.roster, opts.domain);
  const now = (opts.now ?? (() => new Date()))();
  const createdAt = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const snapshotId = opts.snapshotId ?? `${opts.domain}-${createdAt.replace(/[-:]/g, '')}`;
  const sequence = opts.sequence ?? now.getTime();
  const res = await sealArchive(src, sink, {
    manifest: {
      domain: opts.domain,
      snapshotId,
      sealEpoch: epoch.epoch,
      createdAt,
      contentType: opts.contentType ?? 'application/octet-stream',
      ...(opts.name !== undefined ? { name: opts.name } : {}),
    },
    recipients: [{ publicKey: quorumKey(epoch).publicKey, epoch: epoch.epoch }],
    ...(opts.home ? { home: opts.home } : {}),
    maker: {
      signer: `job/${opts.client.principal}`,
      rosterId: opts.client.rosterId,
      sequence,
      sign: (p) => opts.client.sign(p),
    },
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    ...(opts.random ? { random: opts.random } : {}),
  });
  return { ...res, snapshotId, sequence };
}
