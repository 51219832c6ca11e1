/**
 * The key-age policy job (docs/DECISIONS.md#f4): when a domain's current epoch is older than the domain's
 * `policy.maxEpochAgeDays`, or a custodian's share of it failed its health check, open a rotation
 * request for the domain's custodians: an audit entry of kind `rotation-required`, at most one per
 * domain and epoch (checked and appended in one serialised transaction, so concurrent runs and
 * reruns open exactly one). The job reads the pinned roster and never holds a share or a key.
 *
 * @example
 * const r = await keyAgeJob({ store, roster: verified, actor: 'rekey-job' });
 * const opened = r.requests.filter((q) => q.opened).map((q) => q.domain); // domains to rotate
 * @module
 */
import { appendEntry } from '../audit/log.ts';
import type { JsonValue } from '../crypto/jcs.ts';
import { liveEpoch } from '../roster/check.ts';
import type { RosterLike } from '../roster/lookup.ts';
import type { RosterDoc } from '../roster/schema.ts';
import type { Store } from '../store/index.ts';
import { JobError } from './common.ts';

export const ROTATION_REQUIRED = 'rotation-required';
const DAY_MS = 86_400_000;

/** A failed share health check (docs/DECISIONS.md#d9), as the health-check ceremony reports it. */
export interface HealthFailure {
  domain: string;
  epoch: number;
  custodian: string;
  /** Short reason code, e.g. `wrong-response`, `missing-share`, `no-answer`. */
  reason?: string;
}

export interface KeyAgeOptions {
  store: Store;
  /** A roster version that verify.ts accepted (the pinned one). */
  roster: RosterLike;
  /** The job principal recorded as the entries' actor. */
  actor: string;
  now?: Date;
  healthFailures?: HealthFailure[];
}

export type RotationReason =
  | { reason: 'epoch-age'; ageDays: number; maxEpochAgeDays: number }
  | { reason: 'health-check'; custodian: string; detail: string };

export interface RotationRequest {
  domain: string;
  epoch: number;
  keyId: string;
  reasons: RotationReason[];
  /** True iff this run opened it; false when an earlier run (or process) already had. */
  opened: boolean;
  /** The audit entry's sequence number (this run's or the earlier one's). */
  seq: number;
}

export interface KeyAgeResult {
  domainsChecked: number;
  requests: RotationRequest[];
}

export async function keyAgeJob(opts: KeyAgeOptions): Promise<KeyAgeResult> {
  const doc: RosterDoc = 'format' in opts.roster ? opts.roster : opts.roster.roster;
  const now = opts.now ?? new Date();
  if (Number.isNaN(now.getTime())) throw new JobError('bad_argument', 'now must be a valid date');
  const requests: RotationRequest[] = [];
  for (const d of doc.domains) {
    const cur = liveEpoch(d);
    if (cur === undefined) continue;
    const reasons: RotationReason[] = [];
    const ageDays = (now.getTime() - Date.parse(cur.createdAt)) / DAY_MS;
    if (ageDays > d.policy.maxEpochAgeDays)
      reasons.push({
        reason: 'epoch-age',
        ageDays: Math.floor(ageDays),
        maxEpochAgeDays: d.policy.maxEpochAgeDays,
      });
    for (const f of opts.healthFailures ?? [])
      if (f.domain === d.name && f.epoch === cur.epoch && cur.shares.some((s) => s.custodian === f.custodian))
        reasons.push({ reason: 'health-check', custodian: f.custodian, detail: f.reason ?? 'failed' });
    if (reasons.length === 0) continue;
    const data: { [k: string]: JsonValue } = {
      domain: d.name,
      epoch: cur.epoch,
      keyId: cur.keyId,
      rosterVersion: doc.version,
      custodians: d.custodians,
      threshold: d.threshold,
      reasons: reasons as unknown as JsonValue[],
    };
    const r = await opts.store.transaction(async (trx) => {
      // Serialised writers: no other process can open the same request between this read and the append.
      const rows = await trx
        .selectFrom('audit_entries')
        .select(['seq', 'entry_json'])
        .where('entry_json', 'like', `%"kind":"${ROTATION_REQUIRED}"%`)
        .orderBy('seq')
        .execute();
      for (const row of rows) {
        const e = JSON.parse(row.entry_json) as {
          kind?: string;
          data?: { domain?: unknown; epoch?: unknown };
        };
        if (e.kind === ROTATION_REQUIRED && e.data?.domain === d.name && e.data?.epoch === cur.epoch)
          return { opened: false, seq: Number(row.seq) };
      }
      const a = await appendEntry(trx, { kind: ROTATION_REQUIRED, actor: opts.actor, data });
      return { opened: true, seq: a.seq };
    });
    requests.push({ domain: d.name, epoch: cur.epoch, keyId: cur.keyId, reasons, ...r });
  }
  return { domainsChecked: doc.domains.length, requests };
}
