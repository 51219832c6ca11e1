/**
 * The audit log's database side (docs/AUDIT-LOG.md §3): appending entries in the same transaction as
 * the state change they record, the read API (entries, tree head, inclusion and consistency proofs,
 * checkpoints) and checkpoint issuance.
 *
 * - {@link appendEntry} runs INSIDE `store.transaction(...)`: the change and its entry commit together
 *   or not at all (invariant 4, docs/DECISIONS.md#i4). Writers are serialised by the store (log_head row lock /
 *   BEGIN IMMEDIATE), so sequence numbers are gapless across processes.
 * - Each append costs O(1) amortised hashes: the root is computed from the stored compact range
 *   (`log_head.frontier`), never by reading leaves; the completed subtree hashes go to `audit_nodes`,
 *   from which proofs are computed with O(log² n) lookups.
 * - Entries never carry secret material: {@link appendEntry} refuses member names that look like one
 *   (`share`, `dek`, `pin`, `secret`, `privateKey`, `seed`, `password`, …) and PEM private keys.
 * - {@link issueCheckpoint} signs only committed state (docs/DECISIONS.md#d6), with the consistency proof
 *   from the signer's last checkpoint; a refusal by the signer (rollback, fork) is raised loudly.
 *
 * @example
 * await store.transaction(async (trx) => {
 *   await trx.updateTable('ceremonies').set({ state: 'closed' }).where('id', '=', id).execute();
 *   await appendEntry(trx, { kind: 'ceremony-close', actor: 'coordinator', data: { ceremony: id } });
 * });
 * await issueCheckpoint(store, checkpointSigner);
 * @module
 */
import type { Kysely } from 'kysely';
import { toHex } from '../crypto/bytes.ts';
import { canonicalize, JcsError, type JsonValue } from '../crypto/jcs.ts';
import { parseStatement, type Statement, StatementError } from '../crypto/statement.ts';
import { EmbassyError } from '../errors.ts';
import { CheckpointError, parseCheckpoint } from '../log/checkpoint.ts';
import {
  appendToFrontier,
  consistencyRanges,
  fold,
  frontierRoot,
  inclusionRanges,
  leafHash,
  type NodeRef,
  plan,
  type Range,
} from '../log/merkle.ts';
import { parseNote } from '../log/note.ts';
import { type Store, type Trx, transactionDialect } from '../store/index.ts';
import type { Schema } from '../store/schema.ts';
import type { CheckpointSigner } from './signer.ts';

/** Error codes raised by this module. */
export type AuditLogErrorCode =
  | 'audit_not_in_transaction'
  | 'audit_bad_entry'
  | 'audit_secret_field'
  | 'audit_bad_range'
  | 'audit_head_corrupt'
  | 'audit_checkpoint_refused'
  | 'audit_origin_mismatch';

export class AuditLogError extends EmbassyError<AuditLogErrorCode> {}

/** Entry format version. */
export const ENTRY_VERSION = 1;
/** Most entries {@link entries} returns per call. */
export const MAX_ENTRIES_PER_READ = 10_000;

const KIND_RE = /^[a-z][a-z0-9-]{0,62}$/;
const encoder = new TextEncoder();

/** What a caller logs; the log adds `v`, `origin`, `seq`, `prev` and `time`. */
export interface EntryInput {
  /** What changed: `roster-version`, `unlock-request`, `approval`, `veto`, `release`, `ceremony-close`, … */
  readonly kind: string;
  /** Who caused it: a roster principal id, or `coordinator` for its own decisions (expiry, …). */
  readonly actor: string;
  /** The actor's own signed statement, verbatim; its `signer` must equal `actor`. */
  readonly statement?: Statement;
  /** Facts the coordinator records (ids, digests, hashes) — never secret material. */
  readonly data?: { readonly [k: string]: JsonValue };
  /** Commit time (default: now). */
  readonly time?: Date;
}

/** A log entry as stored (docs/AUDIT-LOG.md §3). */
export interface Entry {
  readonly v: 1;
  readonly origin: string;
  readonly seq: string;
  readonly prev: string;
  readonly time: string;
  readonly kind: string;
  readonly actor?: string;
  readonly statement?: Statement;
  readonly data?: { readonly [k: string]: JsonValue };
}

// ---------------------------------------------------------------------------------------------
// The secret-material guard.

/** Member names (lowercased, `_`/`-` removed) that must never appear in an entry. */
const SECRET_NAMES = new Set([
  'share',
  'shares',
  'plainshare',
  'dek',
  'deks',
  'pin',
  'pins',
  'userpin',
  'sopin',
  'tokenpin',
  'secret',
  'secrets',
  'seed',
  'kek',
  'masterkey',
  'password',
  'passphrase',
  'privatekey',
  'privkey',
  'secretkey',
  'plaintext',
]);
/** Suffixes that make a member name secret-looking (`wrappedShare`, `stationPrivateKey`, `userPin`). */
const SECRET_SUFFIXES = [
  'share',
  'dek',
  'privatekey',
  'privkey',
  'secretkey',
  'secret',
  'password',
  'passphrase',
  'plaintext',
  'userpin',
  'sopin',
  'seed',
];
const PEM_PRIVATE = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/** True iff a member name looks like it names secret material. */
export function isSecretLookingName(name: string): boolean {
  const n = name.toLowerCase().replace(/[_-]/g, '');
  return SECRET_NAMES.has(n) || SECRET_SUFFIXES.some((s) => n.endsWith(s));
}

/**
 * The JSON pointer of the first secret-looking member or value in `value`, or null. Reports the
 * location only, never the value.
 */
export function findSecretLookingField(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return PEM_PRIVATE.test(value) ? path || '/' : null;
  if (typeof value !== 'object' || value === null) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = findSecretLookingField(value[i], `${path}/${i}`);
      if (p !== null) return p;
    }
    return null;
  }
  for (const [k, v] of Object.entries(value)) {
    const p = `${path}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    if (isSecretLookingName(k)) return p;
    const inner = findSecretLookingField(v, p);
    if (inner !== null) return inner;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Append.

const hex = (b: Uint8Array) => toHex(b);
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

interface Head {
  origin: string;
  size: number;
  root: string;
  last_leaf: string;
  frontier: string;
}

async function readHead(db: Kysely<Schema>): Promise<Head> {
  const h = await db
    .selectFrom('log_head')
    .select(['origin', 'size', 'root', 'last_leaf', 'frontier'])
    .where('id', '=', 1)
    .executeTakeFirst();
  if (h === undefined) throw new AuditLogError('audit_head_corrupt', 'the log head row is missing');
  return { ...h, size: Number(h.size) };
}

function parseFrontier(text: string): Uint8Array[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new AuditLogError('audit_head_corrupt', 'the log head frontier is not JSON');
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && /^[0-9a-f]{64}$/.test(x)))
    throw new AuditLogError('audit_head_corrupt', 'the log head frontier is malformed');
  return v.map(unhex);
}

function popcount(n: number): number {
  let c = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
}

/** RFC 3339 UTC with milliseconds and `Z`. */
export const rfc3339 = (d: Date): string => d.toISOString();

/** Builds and checks the entry object (no database access). Exported for tests and tools. */
export function buildEntry(origin: string, seq: number, prev: string, input: EntryInput): Entry {
  const bad = (why: string) => new AuditLogError('audit_bad_entry', `audit entry ${why}`);
  if (input === null || typeof input !== 'object') throw bad('input must be an object');
  if (typeof input.kind !== 'string' || !KIND_RE.test(input.kind))
    throw bad('kind must match [a-z][a-z0-9-]*');
  if (typeof input.actor !== 'string' || input.actor.length === 0 || input.actor.length > 256)
    throw bad('actor must be a non-empty principal id');
  const time = input.time ?? new Date();
  if (!(time instanceof Date) || Number.isNaN(time.getTime())) throw bad('time must be a valid Date');
  const entry: { -readonly [K in keyof Entry]: Entry[K] } = {
    v: ENTRY_VERSION,
    origin,
    seq: String(seq),
    prev,
    time: rfc3339(time),
    kind: input.kind,
    actor: input.actor,
  };
  if (input.statement !== undefined) {
    let s: Statement;
    try {
      s = parseStatement(canonicalize(input.statement));
    } catch (e) {
      if (e instanceof StatementError || e instanceof JcsError)
        throw bad(`statement is malformed: ${e.message}`);
      throw e;
    }
    if (s.signer !== input.actor) throw bad('actor must be the signer of its statement');
    const p = findSecretLookingField(s.body, '/statement/body');
    if (p !== null)
      throw new AuditLogError('audit_secret_field', `audit entry refused: ${p} looks like secret material`);
    entry.statement = s;
  }
  if (input.data !== undefined) {
    if (typeof input.data !== 'object' || input.data === null || Array.isArray(input.data))
      throw bad('data must be an object');
    const p = findSecretLookingField(input.data, '/data');
    if (p !== null)
      throw new AuditLogError('audit_secret_field', `audit entry refused: ${p} looks like secret material`);
    entry.data = input.data;
  }
  return entry;
}

/** The result of {@link appendEntry}. */
export interface Appended {
  readonly seq: number;
  /** Leaf hash, hex. */
  readonly leafHash: string;
  /** The tree size and root (hex) including this entry, once committed. */
  readonly size: number;
  readonly root: string;
}

/**
 * Appends an entry in the caller's transaction (which must come from `store.transaction`).
 * @throws {AuditLogError} `audit_not_in_transaction`, `audit_bad_entry`, `audit_secret_field`.
 */
export async function appendEntry(trx: Trx, input: EntryInput): Promise<Appended> {
  if (transactionDialect(trx) === undefined)
    throw new AuditLogError(
      'audit_not_in_transaction',
      'appendEntry must run inside store.transaction(), with the state change it records',
    );
  const head = await readHead(trx);
  const seq = head.size;
  const entry = buildEntry(head.origin, seq, head.last_leaf, input);
  let text: string;
  try {
    text = canonicalize(entry);
  } catch (e) {
    if (e instanceof JcsError)
      throw new AuditLogError('audit_bad_entry', `audit entry is not JSON: ${e.message}`);
    throw e;
  }
  const leaf = leafHash(encoder.encode(text));
  const frontier = parseFrontier(head.frontier);
  if (frontier.length !== popcount(seq))
    throw new AuditLogError('audit_head_corrupt', 'the log head frontier does not match its size');
  const next = appendToFrontier(frontier, seq, leaf);
  const root = hex(frontierRoot(next.frontier));
  const leafHex = hex(leaf);
  const now = rfc3339(new Date());
  await trx
    .insertInto('audit_entries')
    .values({ seq, leaf_hash: leafHex, entry_json: text, created_at: now })
    .execute();
  if (next.completed.length > 0)
    await trx
      .insertInto('audit_nodes')
      .values(next.completed.map((n) => ({ level: n.level, idx: n.idx, hash: hex(n.hash) })))
      .execute();
  const upd = await trx
    .updateTable('log_head')
    .set({ size: seq + 1, root, last_leaf: leafHex, frontier: JSON.stringify(next.frontier.map(hex)) })
    .where('id', '=', 1)
    .where('size', '=', seq)
    .executeTakeFirst();
  if (Number(upd.numUpdatedRows) !== 1)
    throw new AuditLogError('audit_head_corrupt', 'the log head changed under a serialised writer');
  return { seq, leafHash: leafHex, size: seq + 1, root };
}

// ---------------------------------------------------------------------------------------------
// Read API.

/** One stored entry. */
export interface StoredEntry {
  readonly seq: number;
  /** The entry's exact JCS text (its UTF-8 bytes are the leaf). */
  readonly entry: string;
  readonly leafHash: string;
}

/** Entries with from ≤ seq < to (at most {@link MAX_ENTRIES_PER_READ}), in order. */
export async function entries(db: Kysely<Schema>, from: number, to: number): Promise<StoredEntry[]> {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from)
    throw new AuditLogError('audit_bad_range', 'entry range must be 0 ≤ from ≤ to');
  const end = Math.min(to, from + MAX_ENTRIES_PER_READ);
  if (end === from) return [];
  const rows = await db
    .selectFrom('audit_entries')
    .select(['seq', 'entry_json', 'leaf_hash'])
    .where('seq', '>=', from)
    .where('seq', '<', end)
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({ seq: Number(r.seq), entry: r.entry_json, leafHash: r.leaf_hash }));
}

/** The committed tree head. */
export interface TreeHead {
  readonly origin: string;
  readonly size: number;
  /** RFC 9162 root, hex. */
  readonly root: string;
}

export async function treeHead(db: Kysely<Schema>): Promise<TreeHead> {
  const h = await readHead(db);
  return { origin: h.origin, size: h.size, root: h.root };
}

async function fetchNodes(db: Kysely<Schema>, refs: readonly NodeRef[]): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const byLevel = new Map<number, number[]>();
  for (const r of refs) {
    const l = byLevel.get(r.level) ?? [];
    l.push(r.idx);
    byLevel.set(r.level, l);
  }
  for (const [level, idxs] of byLevel) {
    for (let i = 0; i < idxs.length; i += 500) {
      const chunk = idxs.slice(i, i + 500);
      if (level === 0) {
        const rows = await db
          .selectFrom('audit_entries')
          .select(['seq', 'leaf_hash'])
          .where('seq', 'in', chunk)
          .execute();
        for (const r of rows) out.set(`0:${Number(r.seq)}`, unhex(r.leaf_hash));
      } else {
        const rows = await db
          .selectFrom('audit_nodes')
          .select(['idx', 'hash'])
          .where('level', '=', level)
          .where('idx', 'in', chunk)
          .execute();
        for (const r of rows) out.set(`${level}:${Number(r.idx)}`, unhex(r.hash));
      }
    }
  }
  for (const r of refs)
    if (!out.has(`${r.level}:${r.idx}`))
      throw new AuditLogError(
        'audit_head_corrupt',
        `tree node ${r.level}/${r.idx} is missing from the store`,
      );
  return out;
}

async function hashes(db: Kysely<Schema>, ranges: readonly Range[]): Promise<Uint8Array[]> {
  const nodes = await fetchNodes(db, plan(ranges));
  const get = (level: number, idx: number) => nodes.get(`${level}:${idx}`)!;
  return ranges.map((r) => fold(r, get));
}

async function checkSize(db: Kysely<Schema>, size: number): Promise<TreeHead> {
  const head = await treeHead(db);
  if (!Number.isSafeInteger(size) || size < 0 || size > head.size)
    throw new AuditLogError('audit_bad_range', `tree size ${size} is beyond the log (size ${head.size})`);
  return head;
}

/** The root (hex) of the first `size` entries. */
export async function rootAt(db: Kysely<Schema>, size: number): Promise<string> {
  const head = await checkSize(db, size);
  if (size === head.size) return head.root;
  const [r] = await hashes(db, [{ start: 0, end: size }]);
  return hex(r!);
}

export interface InclusionProof {
  readonly seq: number;
  readonly size: number;
  readonly leafHash: string;
  readonly root: string;
  /** RFC 9162 audit path, leaf to root, hex. */
  readonly proof: string[];
}

/** RFC 9162 inclusion proof of entry `seq` in the tree of `size` entries. */
export async function inclusionProof(db: Kysely<Schema>, seq: number, size: number): Promise<InclusionProof> {
  await checkSize(db, size);
  if (!Number.isSafeInteger(seq) || seq < 0 || seq >= size)
    throw new AuditLogError('audit_bad_range', `entry ${seq} is not in a tree of size ${size}`);
  const ranges = inclusionRanges(seq, size);
  const all = await hashes(db, [...ranges, { start: seq, end: seq + 1 }, { start: 0, end: size }]);
  return {
    seq,
    size,
    proof: all.slice(0, ranges.length).map(hex),
    leafHash: hex(all[ranges.length]!),
    root: hex(all[ranges.length + 1]!),
  };
}

export interface ConsistencyProof {
  readonly size1: number;
  readonly size2: number;
  readonly root1: string;
  readonly root2: string;
  readonly proof: string[];
}

/** RFC 9162 consistency proof from `size1` to `size2` entries (0 < size1 ≤ size2 ≤ log size). */
export async function consistencyProof(
  db: Kysely<Schema>,
  size1: number,
  size2: number,
): Promise<ConsistencyProof> {
  await checkSize(db, size2);
  if (!Number.isSafeInteger(size1) || size1 <= 0 || size1 > size2)
    throw new AuditLogError(
      'audit_bad_range',
      `consistency proof needs 0 < size1 ≤ size2, got ${size1}, ${size2}`,
    );
  const ranges = consistencyRanges(size1, size2);
  const all = await hashes(db, [...ranges, { start: 0, end: size1 }, { start: 0, end: size2 }]);
  return {
    size1,
    size2,
    proof: all.slice(0, ranges.length).map(hex),
    root1: hex(all[ranges.length]!),
    root2: hex(all[ranges.length + 1]!),
  };
}

export interface StoredCheckpoint {
  readonly size: number;
  readonly root: string;
  /** The signed note. */
  readonly note: string;
  readonly createdAt: string;
}

/** The checkpoint with the largest size, or null if none was issued. */
export async function latestCheckpoint(db: Kysely<Schema>): Promise<StoredCheckpoint | null> {
  const r = await db
    .selectFrom('audit_checkpoints')
    .selectAll()
    .orderBy('size', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r === undefined
    ? null
    : { size: Number(r.size), root: r.root, note: r.note, createdAt: r.created_at };
}

/** Every stored checkpoint with size ≤ `maxSize`, ascending. */
export async function checkpoints(
  db: Kysely<Schema>,
  maxSize = Number.MAX_SAFE_INTEGER,
): Promise<StoredCheckpoint[]> {
  const rows = await db
    .selectFrom('audit_checkpoints')
    .selectAll()
    .where('size', '<=', maxSize)
    .orderBy('size')
    .execute();
  return rows.map((r) => ({ size: Number(r.size), root: r.root, note: r.note, createdAt: r.created_at }));
}

/**
 * Signs a checkpoint of the committed tree head and stores the note. The consistency proof from the
 * signer's last signed checkpoint is computed here; the signer refuses (and this throws
 * `audit_checkpoint_refused`, with the signer's code as `reason`) if the database was rolled back or
 * forked since then. Call it after the transaction that closed a ceremony has committed, and on a
 * schedule.
 */
export async function issueCheckpoint(store: Store, signer: CheckpointSigner): Promise<StoredCheckpoint> {
  const head = await treeHead(store.db);
  const refused = (e: CheckpointError) =>
    Object.assign(
      new AuditLogError(
        'audit_checkpoint_refused',
        `checkpoint for tree size ${head.size} refused: ${e.message}`,
        {
          cause: e,
        },
      ),
      { reason: e.code },
    );
  let note: string;
  try {
    const last = await signer.last();
    if (last.origin !== head.origin)
      throw new AuditLogError(
        'audit_origin_mismatch',
        `the checkpoint signer is for log ${last.origin}, not ${head.origin}`,
      );
    let proof: Uint8Array[] = [];
    if (last.size > 0 && last.size < head.size)
      proof = (await consistencyProof(store.db, last.size, head.size)).proof.map(unhex);
    note = await signer.sign(head.size, unhex(head.root), proof);
  } catch (e) {
    if (e instanceof CheckpointError) throw refused(e);
    throw e;
  }
  const body = parseCheckpoint(parseNote(note).text);
  if (body.origin !== head.origin || body.size !== head.size || hex(body.root) !== head.root)
    throw new AuditLogError(
      'audit_origin_mismatch',
      'the signed checkpoint is not the tree head it was asked to sign',
    );
  const createdAt = rfc3339(new Date());
  await store.db
    .insertInto('audit_checkpoints')
    .values({ size: head.size, root: head.root, note, created_at: createdAt })
    .onConflict((oc) => oc.column('size').doNothing())
    .execute();
  const stored = await store.db
    .selectFrom('audit_checkpoints')
    .selectAll()
    .where('size', '=', head.size)
    .executeTakeFirstOrThrow();
  if (stored.root !== head.root)
    throw new AuditLogError(
      'audit_checkpoint_refused',
      `a different root is already stored for tree size ${head.size}`,
    );
  return { size: head.size, root: head.root, note: stored.note, createdAt: stored.created_at };
}
