/**
 * The database schema, as Kysely table types. Conventions (both dialects, kept uniform):
 * - names are snake_case;
 * - hashes and digests (32 bytes) are lowercase hex TEXT; other binary (wrapped blobs) is unpadded
 *   base64url TEXT; signed documents and statements are their canonical JSON (RFC 8785) as TEXT;
 * - times are RFC 3339 UTC TEXT with a `Z` (`2026-01-01T00:00:00.000Z`);
 * - integers (sizes, sequence numbers) are BIGINT, read back as JavaScript numbers (≤ 2^53 − 1).
 * @module
 */
import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';

export interface RosterVersionsTable {
  version: number;
  /** SHA-256 of the JCS roster document without signatures, hex (the value `--roster-pin` takes). */
  roster_id: string;
  /** The signed roster version, canonical JSON. */
  signed_json: string;
  created_at: string;
}

export interface SnapshotsTable {
  id: string;
  domain: string;
  seal_epoch: number;
  size: number;
  /** The registration's `bodyDigest`: SHA-256 of every archive byte after the header, hex (unchanged by rewraps). */
  digest: string;
  location: string;
  /** The backup job's manifest sequence number (docs/DECISIONS.md#d4); unique per domain. */
  sequence: number;
  manifest_json: string;
  registered_by: string;
  registered_at: string;
}

export type CeremonyKind = string;
export type CeremonyState = string;

export interface CeremoniesTable {
  id: string;
  kind: CeremonyKind;
  domain: string;
  state: CeremonyState;
  station_id: string | null;
  /** The opening signed statement, canonical JSON. */
  request_json: string;
  /** Statement ID (hex) of the request. */
  request_hash: string;
  deadline: string;
  quorum_at: string | null;
  release_after: string | null;
  closed_at: string | null;
  close_reason: string | null;
  created_at: string;
}

export interface ApprovalsTable {
  ceremony_id: string;
  custodian_id: string;
  kind: 'approve' | 'veto';
  statement_json: string;
  /** Statement ID (hex): the signing payload, without the malleable signature. */
  statement_hash: string;
  created_at: string;
}

export interface ReleasesTable {
  ceremony_id: string;
  custodian_id: string;
  /** The doubly wrapped share (token wrap, then X-Wing), base64url. Deleted when the ceremony closes. */
  blob: string;
  blob_hash: string;
  /** The custodian's signed share-release statement, canonical JSON (migration 002). */
  statement_json: ColumnType<string, string | undefined, string>;
  created_at: string;
}

export interface NoncesTable {
  principal_id: string;
  nonce: string;
  seen_at: string;
}

/** The single row (id = 1) that every writer locks, and the log's head. */
export interface LogHeadTable {
  id: number;
  origin: string;
  /** Number of entries. */
  size: number;
  /** RFC 9162 root of the `size` entries, hex. */
  root: string;
  /** Leaf hash of the last entry (hex), 64 zeros when empty: the next entry's `prev`. */
  last_leaf: string;
  /** JSON array of hex hashes: the compact range [0, size), largest subtree first. */
  frontier: string;
}

export interface AuditEntriesTable {
  seq: number;
  leaf_hash: string;
  /** The entry's exact RFC 8785 bytes, as UTF-8 text. */
  entry_json: string;
  created_at: string;
}

/** Hashes of the complete, aligned subtrees above the leaves: node (level, idx) covers
 * leaves [idx·2^level, (idx+1)·2^level). Level 0 lives in audit_entries.leaf_hash. */
export interface AuditNodesTable {
  level: number;
  idx: number;
  hash: string;
}

export interface AuditCheckpointsTable {
  size: number;
  root: string;
  /** The signed note (C2SP signed-note over a tlog-checkpoint body). */
  note: string;
  created_at: string;
}

export interface RefusedAuthTable {
  id: string;
  principal_id: string;
  reason: string;
  path: string;
  at: string;
}

/** Per-principal, per-minute counters of the refused-authentication stream (rate limit). */
export interface RefusedAuthCountersTable {
  principal_id: string;
  /** Start of the one-minute window, RFC 3339. */
  window_start: string;
  count: number;
}

export interface Schema {
  roster_versions: RosterVersionsTable;
  snapshots: SnapshotsTable;
  ceremonies: CeremoniesTable;
  approvals: ApprovalsTable;
  releases: ReleasesTable;
  nonces: NoncesTable;
  log_head: LogHeadTable;
  audit_entries: AuditEntriesTable;
  audit_nodes: AuditNodesTable;
  audit_checkpoints: AuditCheckpointsTable;
  refused_auth: RefusedAuthTable;
  refused_auth_counters: RefusedAuthCountersTable;
}

export type RosterVersion = Selectable<RosterVersionsTable>;
export type Snapshot = Selectable<SnapshotsTable>;
export type NewSnapshot = Insertable<SnapshotsTable>;
export type Ceremony = Selectable<CeremoniesTable>;
export type NewCeremony = Insertable<CeremoniesTable>;
export type CeremonyUpdate = Updateable<CeremoniesTable>;
export type Approval = Selectable<ApprovalsTable>;
export type Release = Selectable<ReleasesTable>;
export type AuditEntryRow = Selectable<AuditEntriesTable>;
export type AuditCheckpointRow = Selectable<AuditCheckpointsTable>;
