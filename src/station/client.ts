/**
 * The recovery station's side of an unlock ceremony over the coordinator: open a signed request
 * naming fresh per-ceremony recipient keys; later fetch the releases, check each against the
 * pinned roster (signature, blob hash, commitment), combine, check against the quorum public key,
 * restore the requested archives, and close the ceremony (which deletes the wrapped shares).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type CeremonyKeys, createCeremonyKeys, zeroizeCeremonyKeys } from '../../hsm/index.ts';
import { fileSource, openArchive, type Sink } from '../archive/index.ts';
import { toBase64Url } from '../crypto/statement.ts';
import { openDurably } from '../fs/durable.ts';
import { checkCeremony, checkRelease } from '../protocol/check.ts';
import type { CoordinatorClient } from '../protocol/client.ts';
import { STATEMENT, type UnlockRequestBody } from '../protocol/statements.ts';
import type { CeremonyView, RosterChainView } from '../protocol/views.ts';
import { findEpoch, quorumKey, type RosterDoc } from '../roster/index.ts';
import { type Made, type Registration, restoreBinding, rosterHistory } from './binding.ts';
import { type BadShare, combineReleases, type Release } from './unlock.ts';

export interface StationSession {
  id: string;
  roster: RosterDoc;
  client: CoordinatorClient;
  now?: () => Date;
}

export interface UnlockRequestInput {
  domain: string;
  epoch: number;
  snapshots: string[];
  justification: UnlockRequestBody['justification'];
  /** Seconds until the deadline. */
  ttlSeconds: number;
}

export async function requestUnlock(
  s: StationSession,
  input: UnlockRequestInput,
): Promise<{ ceremony: CeremonyView; keys: CeremonyKeys }> {
  const keys = createCeremonyKeys();
  const now = s.now?.() ?? new Date();
  const statement = await s.client.statement(STATEMENT.unlockRequest, {
    ceremonyId: `cer-${randomBytes(16).toString('hex')}`,
    domain: input.domain,
    epoch: input.epoch,
    snapshots: input.snapshots,
    justification: input.justification,
    recipientP256: toBase64Url(keys.p256.publicKey),
    recipientXWing: toBase64Url(keys.xwing.publicKey),
    createdAt: now.toISOString(),
    deadline: new Date(now.getTime() + input.ttlSeconds * 1000).toISOString(),
    nonce: randomBytes(16).toString('hex'),
  });
  const ceremony = await s.client.post<CeremonyView>('/v1/ceremonies', statement);
  return { ceremony, keys };
}

export interface RestoreResult {
  /** Each restored snapshot, with its manifest's `createdAt` and the maker and sequence its signature names. */
  files: ({ snapshot: string; path: string; bytes: number } & Made)[];
  /** The custodians whose shares were combined. */
  releasedBy: string[];
  /** Every custodian whose release failed its check (skipped; the unlock went on with good shares). */
  cheaters: BadShare[];
  /** ms from fetching the releases to the first restored byte on disk. */
  firstByteMs: number;
}

/**
 * A regular file written durably whose rename waits for `commitNow`: `commit` only fsyncs and closes
 * it, so no output appears until every archive passed (docs/DECISIONS.md#d36: never a device or FIFO).
 */
async function deferredFile(path: string): Promise<Sink & { commitNow(): Promise<void> }> {
  const out = await openDurably(path);
  if (out.tempPath === undefined) {
    await out.abort();
    throw new Error(`${path} exists and is not a regular file`);
  }
  return {
    write: (b) => out.write(b),
    commit: () => out.finish(),
    abort: () => out.abort(),
    commitNow: () => out.commit(),
  };
}

/**
 * Collects the releases, restores every requested snapshot from `archive(snapshotId)` into
 * `outDir`, then closes the ceremony as done. Each archive must be the registered one
 * ({@link restoreBinding}, the registration from the coordinator or from `<archive>.reg`); its body
 * digest is checked as it streams, and no output file appears unless every archive passed. The
 * ceremony keys are zeroised either way.
 */
export async function unlockAndRestore(
  s: StationSession,
  id: string,
  keys: CeremonyKeys,
  archive: (snapshotId: string) => string,
  outDir: string,
): Promise<RestoreResult> {
  try {
    const t0 = performance.now();
    const view = await s.client.get<CeremonyView>(`/v1/ceremonies/${id}`);
    const c = checkCeremony(s.roster, view, s.now?.() ?? new Date());
    if (c.station !== s.id) throw new Error('this ceremony was opened by another station');
    const { releases } = await s.client.get<{
      releases: { custodian: string; blob: string; statement: never }[];
    }>(`/v1/ceremonies/${id}/releases`, true);
    const epoch = findEpoch(s.roster, c.request.domain, c.request.epoch)!;
    const checked: Release[] = releases.map((r) => {
      const share = epoch.shares.find((x) => x.custodian === r.custodian);
      if (!share)
        throw new Error(`"${r.custodian}" holds no share of ${c.request.domain}/${c.request.epoch}`);
      return {
        custodian: r.custodian,
        envelope: checkRelease(s.roster, c, r),
        commitment: {
          custodian: r.custodian,
          keyCeremonyId: epoch.keyCeremony,
          salt: new Uint8Array(Buffer.from(share.salt, 'base64url')),
          commitment: new Uint8Array(Buffer.from(share.commitment, 'hex')),
        },
      };
    });
    const quorum = await combineReleases({
      keys,
      domain: c.request.domain,
      epoch: c.request.epoch,
      ceremony: new Uint8Array(Buffer.from(c.requestHash, 'hex')),
      threshold: epoch.threshold,
      publicKey: quorumKey(epoch).publicKey,
      releases: checked,
    });
    const { snapshots } = await s.client.get<{ snapshots: Registration[] }>(
      `/v1/snapshots?domain=${encodeURIComponent(c.request.domain)}`,
    );
    const { versions } = await s.client.get<RosterChainView>('/v1/roster');
    const bind = restoreBinding({
      history: rosterHistory(s.roster, versions),
      domain: c.request.domain,
      registrations: snapshots,
    });
    mkdirSync(outDir, { recursive: true });
    const files: RestoreResult['files'] = [];
    const sinks: Awaited<ReturnType<typeof deferredFile>>[] = [];
    let firstByteMs = 0;
    try {
      for (const snap of c.request.snapshots) {
        const path = join(outDir, snap);
        const from = archive(snap);
        const b = bind(snap, from);
        const sink = await deferredFile(path);
        sinks.push(sink);
        const res = await openArchive(await fileSource(from), sink, {
          identities: [quorum],
          manifest: b.manifest,
          maker: b.maker,
          bodyDigest: b.bodyDigest,
          onProgress: () => {
            if (firstByteMs === 0) firstByteMs = performance.now() - t0;
          },
        });
        files.push({ snapshot: snap, path, bytes: res.plaintextBytes, ...b.made() });
      }
      for (const sink of sinks) await sink.commitNow();
    } catch (e) {
      for (const sink of sinks) await sink.abort();
      throw e;
    } finally {
      quorum.seed.fill(0);
    }
    const close = await s.client.statement(STATEMENT.close, {
      ceremonyId: id,
      requestHash: c.requestHash,
      outcome: 'done',
      createdAt: (s.now?.() ?? new Date()).toISOString(),
    });
    await s.client.post(`/v1/ceremonies/${id}/close`, close);
    return { files, releasedBy: quorum.combined, cheaters: quorum.cheaters, firstByteMs };
  } finally {
    zeroizeCeremonyKeys(keys);
  }
}
