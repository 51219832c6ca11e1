import { readFile } from 'node:fs/promises';
import { toHex } from '../crypto/bytes.ts';
import { canonicalize, type JsonValue, parseCanonical } from '../crypto/jcs.ts';
import { parseStatement, type Statement, type StatementKey, verifyStatement } from '../crypto/statement.ts';
import { writeDurably } from '../fs/durable.ts';
import { type Checkpoint, openCheckpoint } from '../log/checkpoint.ts';
import { CompactRange, leafHash } from '../log/merkle.ts';
import { NoteError, parseVerifierKey } from '../log/note.ts';
import type { Store } from '../store/index.ts';
import {
  findSecretLookingField,
  entries as readEntries,
  checkpoints as storedCheckpoints,
  treeHead,
} from './log.ts';

/** The bundle format identifier. */
export const BUNDLE_FORMAT = 'data-embassy/audit-bundle/v1';

export type BundleErrorCode =
  | 'BUNDLE_NO_CHECKPOINT'
  | 'BUNDLE_BAD_LOG_KEY'
  | 'BUNDLE_BAD_TRUSTED_CHECKPOINT'
  | 'BUNDLE_UNREADABLE';

export class BundleError extends Error {
  override readonly name = 'BundleError';
  constructor(
    readonly code: BundleErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A roster version as the bundle carries it: the signed document, verbatim. */
export interface BundleRosterVersion {
  readonly version: number;
  /** Hex roster ID the coordinator recorded (recomputed by the roster check, never trusted). */
  readonly rosterId: string;
  readonly signed: JsonValue;
}

/** An audit bundle (docs/AUDIT-BUNDLE.md). */
export interface Bundle {
  readonly format: typeof BUNDLE_FORMAT;
  readonly origin: string;
  readonly exportedAt: string;
  /** Number of entries: `entries.length`. */
  readonly treeSize: number;
  /** Entry `i`'s exact RFC 8785 text; its UTF-8 bytes are leaf `i`. */
  readonly entries: readonly string[];
  /** Signed checkpoint notes, ascending tree size. */
  readonly checkpoints: readonly string[];
  readonly rosterVersions: readonly BundleRosterVersion[];
}

export interface ExportOptions {
  /**
   * `checkpoint` (default): entries up to the latest signed checkpoint, so that every exported entry is
   * covered by a signature; fails with `BUNDLE_NO_CHECKPOINT` if none was issued. `head`: every
   * committed entry (a verifier reports the uncheckpointed tail).
   */
  readonly upTo?: 'checkpoint' | 'head';
}

/** Reads the log, its checkpoints and the roster versions into a bundle. */
export async function exportBundle(store: Store, opts: ExportOptions = {}): Promise<Bundle> {
  const head = await treeHead(store.db);
  let size = head.size;
  if ((opts.upTo ?? 'checkpoint') === 'checkpoint') {
    const cps = await storedCheckpoints(store.db, head.size);
    const last = cps.at(-1);
    if (last === undefined)
      throw new BundleError(
        'BUNDLE_NO_CHECKPOINT',
        'no checkpoint has been issued yet: issue one before exporting',
      );
    size = last.size;
  }
  const out: string[] = [];
  while (out.length < size) {
    const page = await readEntries(store.db, out.length, size);
    if (page.length === 0) break;
    for (const e of page) out.push(e.entry);
  }
  const cps = await storedCheckpoints(store.db, size);
  const rosters = await store.db.selectFrom('roster_versions').selectAll().orderBy('version').execute();
  return {
    format: BUNDLE_FORMAT,
    origin: head.origin,
    exportedAt: new Date().toISOString(),
    treeSize: out.length,
    entries: out,
    checkpoints: cps.map((c) => c.note),
    rosterVersions: rosters.map((r) => ({
      version: Number(r.version),
      rosterId: r.roster_id,
      signed: JSON.parse(r.signed_json) as JsonValue,
    })),
  };
}

/**
 * Exports a bundle to `path` atomically: a temporary file in the same directory, fsync, rename,
 * fsync of the directory. No partial file is left on failure.
 */
export async function writeBundle(
  store: Store,
  path: string,
  opts: ExportOptions = {},
): Promise<{ path: string; treeSize: number; checkpoints: number }> {
  const bundle = await exportBundle(store, opts);
  await writeDurably(path, `${JSON.stringify(bundle)}\n`, { mode: 0o644 });
  return { path, treeSize: bundle.treeSize, checkpoints: bundle.checkpoints.length };
}

/** Reads a bundle file (JSON); its contents are checked by {@link verifyBundle}, not here. */
export async function readBundle(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new BundleError('BUNDLE_UNREADABLE', `cannot read bundle ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BundleError('BUNDLE_UNREADABLE', `bundle ${path} is not JSON`);
  }
}

// ---------------------------------------------------------------------------------------------
// Verification.

/** A problem found in a bundle. `seq` names the entry when one can be named. */
export interface Finding {
  readonly code: string;
  readonly seq?: number;
  readonly message: string;
}

/** A parsed entry (docs/AUDIT-LOG.md §3); only `v`, `origin`, `seq` are guaranteed checked. */
export interface ParsedEntry {
  readonly v: number;
  readonly origin: string;
  readonly seq: string;
  readonly prev?: string;
  readonly time?: string;
  readonly kind: string;
  readonly actor?: string;
  readonly statement?: Statement;
  readonly data?: { readonly [k: string]: JsonValue };
}

/** Resolves a statement's signer key as of the roster version the statement names, or null. */
export type KeyResolver = (q: {
  readonly signer: string;
  /** Roster ID (hex) the statement names. */
  readonly roster: string;
  readonly seq: number;
  readonly kind: string;
}) => StatementKey | null | undefined;

export type Report = (f: Finding) => void;

/** What a pluggable check sees of the bundle before the first entry. */
export interface BundleContext {
  readonly origin: string;
  readonly rosterVersions: readonly BundleRosterVersion[];
  readonly rosterPin?: string;
}

/** A ceremony as the report shows it. */
export interface CeremonySummary {
  readonly id: string;
  /** Entries that name this ceremony (`data.ceremony` or `statement.body.ceremony`), in order. */
  readonly entries: readonly { readonly seq: number; readonly kind: string; readonly actor?: string }[];
  readonly approvedBy: readonly string[];
  readonly vetoedBy: readonly string[];
  readonly releasedBy: readonly string[];
  readonly closed: boolean;
  readonly closeReason?: string;
  /** Set by a policy check plugged in (e.g. `ok`, `violated`); `unchecked` otherwise. */
  readonly policy: string;
}

/**
 * A pluggable verification step: roster chain (begin), per-kind state machines and policies (entry),
 * final conditions (end). Checks run in order; each reports findings through `report`.
 */
export interface EntryCheck {
  readonly name: string;
  /** Kinds this check wants; all when absent. */
  readonly kinds?: readonly string[];
  begin?(ctx: BundleContext, report: Report): void;
  /** Called for each well-formed entry, in log order, before its statement is verified. */
  entry?(e: ParsedEntry, seq: number, report: Report): void;
  end?(report: Report): void;
  /** Ceremonies this check tracked; merged into the report by id. */
  ceremonies?(): readonly Partial<CeremonySummary>[];
}

export interface VerifyOptions {
  /** The log's verifier key text (`name+keyid+base64`), from the auditor's own trusted source. */
  readonly logKey: string;
  /** The auditor's trusted checkpoint (a signed note), from an earlier verification. */
  readonly trustedCheckpoint?: string;
  /** SHA-256 roster pin (hex), handed to the checks. */
  readonly rosterPin?: string;
  /** Resolves actor keys; without it, embedded statements are counted as unverified (a note). */
  readonly resolveKey?: KeyResolver;
  readonly checks?: readonly EntryCheck[];
  /** Findings kept per code before the rest are summarised (default 50). */
  readonly maxFindingsPerCode?: number;
}

export interface VerifyReport {
  readonly origin: string;
  /** True iff a trusted checkpoint was given and the bundle is consistent with it and extends it. */
  readonly anchored: boolean;
  readonly entries: number;
  /** Checkpoints whose signature verified under the log key. */
  readonly checkpoints: number;
  /** Largest verified checkpoint size, or null. */
  readonly latestCheckpoint: number | null;
  /** Root (hex) of all the bundle's entries, recomputed. */
  readonly root: string;
  readonly statementsVerified: number;
  readonly ceremonies: readonly CeremonySummary[];
  readonly findings: readonly Finding[];
  /** Facts that are not findings: "unanchored", what was not checked. */
  readonly notes: readonly string[];
}

const SEQ_RE = /^(0|[1-9][0-9]{0,15})$/;
const HEX64_RE = /^[0-9a-f]{64}$/;
const KIND_RE = /^[a-z][a-z0-9-]{0,62}$/;
const ZERO = '0'.repeat(64);
const encoder = new TextEncoder();

interface BundleShape {
  origin: string;
  entries: string[];
  checkpoints: string[];
  rosterVersions: BundleRosterVersion[];
}

function shapeOf(b: unknown): BundleShape | string {
  if (typeof b !== 'object' || b === null || Array.isArray(b)) return 'bundle is not a JSON object';
  const o = b as Record<string, unknown>;
  if (o.format !== BUNDLE_FORMAT) return `bundle format is not ${BUNDLE_FORMAT}`;
  if (typeof o.origin !== 'string') return 'bundle has no origin';
  if (!Array.isArray(o.entries) || !o.entries.every((e) => typeof e === 'string'))
    return 'bundle entries must be an array of strings';
  if (!Array.isArray(o.checkpoints) || !o.checkpoints.every((e) => typeof e === 'string'))
    return 'bundle checkpoints must be an array of strings';
  const rv = o.rosterVersions ?? [];
  if (!Array.isArray(rv)) return 'bundle rosterVersions must be an array';
  if (o.treeSize !== undefined && o.treeSize !== o.entries.length)
    return `bundle treeSize ${String(o.treeSize)} is not its number of entries (${o.entries.length})`;
  return {
    origin: o.origin,
    entries: o.entries,
    checkpoints: o.checkpoints,
    rosterVersions: rv as BundleRosterVersion[],
  };
}

/** The ceremony an entry names, if any. */
function ceremonyOf(e: ParsedEntry): string | undefined {
  for (const v of [e.data?.ceremonyId, e.data?.ceremony]) if (typeof v === 'string') return v;
  const body = e.statement?.body as { ceremony?: unknown; ceremonyId?: unknown } | undefined;
  if (body === null || typeof body !== 'object') return undefined;
  for (const v of [body.ceremonyId, body.ceremony]) if (typeof v === 'string') return v;
  return undefined;
}

/** Verifies a bundle offline. Throws only for bad auditor inputs (log key, trusted checkpoint). */
export function verifyBundle(bundle: unknown, opts: VerifyOptions): VerifyReport {
  let logVerifier: ReturnType<typeof parseVerifierKey>;
  try {
    logVerifier = parseVerifierKey(opts.logKey);
  } catch (e) {
    throw new BundleError('BUNDLE_BAD_LOG_KEY', `log key: ${(e as Error).message}`, { cause: e });
  }
  const origin = logVerifier.name;
  let trusted: Checkpoint | undefined;
  if (opts.trustedCheckpoint !== undefined) {
    try {
      trusted = openCheckpoint(opts.trustedCheckpoint, [logVerifier], origin);
    } catch (e) {
      throw new BundleError(
        'BUNDLE_BAD_TRUSTED_CHECKPOINT',
        `trusted checkpoint does not verify under the log key: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }

  const findings: Finding[] = [];
  const perCode = new Map<string, number>();
  const cap = opts.maxFindingsPerCode ?? 50;
  const report: Report = (f) => {
    const n = (perCode.get(f.code) ?? 0) + 1;
    perCode.set(f.code, n);
    if (n <= cap) findings.push(f);
  };
  const notes: string[] = [];
  const empty = (why: string): VerifyReport => ({
    origin,
    anchored: false,
    entries: 0,
    checkpoints: 0,
    latestCheckpoint: null,
    root: toHex(new CompactRange().root()),
    statementsVerified: 0,
    ceremonies: [],
    findings: [{ code: 'BUNDLE_MALFORMED', message: why }],
    notes: [],
  });
  const shape = shapeOf(bundle);
  if (typeof shape === 'string') return empty(shape);
  if (shape.origin !== origin)
    report({
      code: 'BUNDLE_WRONG_ORIGIN',
      message: `bundle is for log ${shape.origin}, the log key is for ${origin}`,
    });

  // Checkpoints: signature under the auditor's log key only.
  const cps: (Checkpoint & { index: number })[] = [];
  shape.checkpoints.forEach((note, index) => {
    try {
      cps.push({ ...openCheckpoint(note, [logVerifier], origin), index });
    } catch (e) {
      const code = e instanceof NoteError ? 'CHECKPOINT_BAD_SIGNATURE' : 'CHECKPOINT_MALFORMED';
      report({
        code,
        message: `checkpoint #${index} does not verify under the log key: ${(e as Error).message}`,
      });
    }
  });
  cps.sort((a, b) => a.size - b.size || a.index - b.index);
  for (let i = 1; i < cps.length; i++) {
    const a = cps[i - 1]!;
    const b = cps[i]!;
    if (a.size === b.size && toHex(a.root) !== toHex(b.root))
      report({
        code: 'CHECKPOINT_FORK',
        seq: a.size - 1,
        message: `two signed checkpoints of tree size ${a.size} have different roots: the log forked`,
      });
  }
  if (trusted !== undefined)
    for (const c of cps)
      if (c.size === trusted.size && toHex(c.root) !== toHex(trusted.root))
        report({
          code: 'CHECKPOINT_FORK',
          seq: c.size - 1,
          message: `checkpoint #${c.index} and the trusted checkpoint both sign tree size ${c.size} with different roots`,
        });

  const wanted = new Set<number>(cps.map((c) => c.size));
  if (trusted !== undefined) wanted.add(trusted.size);
  const rootsAt = new Map<number, string>();
  const range = new CompactRange();
  if (wanted.has(0)) rootsAt.set(0, toHex(range.root()));

  const checks = opts.checks ?? [];
  const ctx: BundleContext = {
    origin,
    rosterVersions: shape.rosterVersions,
    ...(opts.rosterPin !== undefined ? { rosterPin: opts.rosterPin } : {}),
  };
  for (const c of checks) c.begin?.(ctx, report);

  // Built-in ceremony index.
  const ceremonies = new Map<
    string,
    {
      entries: { seq: number; kind: string; actor?: string }[];
      approvedBy: string[];
      vetoedBy: string[];
      releasedBy: string[];
      closed: boolean;
      closeReason?: string;
    }
  >();

  const entryFindings: number[] = []; // seqs with an entry-level finding, for localisation
  const entryReport: Report = (f) => {
    if (f.seq !== undefined) entryFindings.push(f.seq);
    report(f);
  };
  let prevLeaf = ZERO;
  let prevClaimed = -1;
  let prevHadPrev = false;
  let maxClaimed = -1;
  const claimedSeen = new Set<number>();
  let statementsVerified = 0;
  let statementsUnverified = 0;
  const linksChecked = new Set<number>();
  const linkFailures: number[] = [];

  const n = shape.entries.length;
  for (let i = 0; i < n; i++) {
    const text = shape.entries[i]!;
    const bytes = encoder.encode(text);
    const leaf = leafHash(bytes);
    range.append(leaf);
    if (wanted.has(i + 1)) rootsAt.set(i + 1, toHex(range.root()));
    const leafHex = toHex(leaf);
    const expectedPrev = prevLeaf;
    prevLeaf = leafHex;

    let v: JsonValue;
    try {
      v = parseCanonical(bytes);
    } catch (e) {
      entryReport({
        code: 'ENTRY_NOT_CANONICAL',
        seq: i,
        message: `entry at position ${i} is not canonical JSON: ${(e as Error).message}`,
      });
      prevClaimed = -1;
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      entryReport({
        code: 'ENTRY_MALFORMED',
        seq: i,
        message: `entry at position ${i} is not a JSON object`,
      });
      prevClaimed = -1;
      continue;
    }
    const e = v as unknown as ParsedEntry;
    if (e.v !== 1)
      entryReport({
        code: 'ENTRY_BAD_VERSION',
        seq: i,
        message: `entry ${i} has version ${String(e.v)}, not 1`,
      });
    if (e.origin !== origin)
      entryReport({
        code: 'ENTRY_WRONG_ORIGIN',
        seq: i,
        message: `entry ${i} belongs to log ${String(e.origin)}, not ${origin}`,
      });
    if (typeof e.seq !== 'string' || !SEQ_RE.test(e.seq)) {
      entryReport({ code: 'ENTRY_MALFORMED', seq: i, message: `entry at position ${i} has no valid seq` });
      prevClaimed = -1;
      continue;
    }
    const claimed = Number(e.seq);
    if (claimedSeen.has(claimed))
      entryReport({
        code: 'ENTRY_DUPLICATE',
        seq: claimed,
        message: `entry ${claimed} appears twice (again at position ${i})`,
      });
    else if (claimed < maxClaimed)
      entryReport({
        code: 'ENTRY_OUT_OF_ORDER',
        seq: claimed,
        message: `entry ${claimed} is at position ${i}, after entry ${maxClaimed}: entries were reordered`,
      });
    claimedSeen.add(claimed);
    maxClaimed = Math.max(maxClaimed, claimed);

    // The prev link: entry k names leaf k−1, so an altered entry is named by its successor.
    if (e.prev === undefined) {
      if (prevHadPrev)
        entryReport({
          code: 'ENTRY_CHAIN_BROKEN',
          seq: i,
          message: `entry ${i} has no prev link, unlike entry ${i - 1}`,
        });
    } else if (typeof e.prev !== 'string' || !HEX64_RE.test(e.prev)) {
      entryReport({ code: 'ENTRY_MALFORMED', seq: i, message: `entry ${i} has a malformed prev` });
    } else if (claimed === 0) {
      if (e.prev !== ZERO)
        entryReport({ code: 'ENTRY_CHAIN_BROKEN', seq: 0, message: 'entry 0 must have prev 0…0' });
    } else if (claimed === prevClaimed + 1) {
      // Consecutive sequence numbers (even after a gap): entry `claimed` names its predecessor's leaf.
      // Which of the two was altered is decided after the pass (see resolveLinks).
      linksChecked.add(claimed);
      if (e.prev !== expectedPrev) linkFailures.push(claimed);
    }
    prevHadPrev = e.prev !== undefined;
    prevClaimed = claimed;

    if (typeof e.kind !== 'string' || !KIND_RE.test(e.kind))
      entryReport({ code: 'ENTRY_MALFORMED', seq: i, message: `entry ${i} has an invalid kind` });
    if (e.actor !== undefined && (typeof e.actor !== 'string' || e.actor.length === 0))
      entryReport({ code: 'ENTRY_MALFORMED', seq: i, message: `entry ${i} has an invalid actor` });
    if (
      e.time !== undefined &&
      (typeof e.time !== 'string' || Number.isNaN(Date.parse(e.time)) || !e.time.endsWith('Z'))
    )
      entryReport({ code: 'ENTRY_MALFORMED', seq: i, message: `entry ${i} has an invalid time` });
    const secret =
      findSecretLookingField(e.data, '/data') ?? findSecretLookingField(e.statement?.body, '/statement/body');
    if (secret !== null)
      entryReport({
        code: 'ENTRY_SECRET_FIELD',
        seq: i,
        message: `entry ${i} has a secret-looking field at ${secret}`,
      });

    for (const c of checks)
      if (c.entry !== undefined && (c.kinds === undefined || c.kinds.includes(e.kind)))
        c.entry(e, i, entryReport);

    if (e.statement !== undefined) {
      let s: Statement | undefined;
      try {
        s = parseStatement(canonicalize(e.statement));
      } catch (err) {
        entryReport({
          code: 'STATEMENT_MALFORMED',
          seq: i,
          message: `entry ${i}: statement is malformed: ${(err as Error).message}`,
        });
      }
      if (s !== undefined) {
        if (e.actor !== undefined && e.actor !== s.signer)
          entryReport({
            code: 'ENTRY_ACTOR_MISMATCH',
            seq: i,
            message: `entry ${i}: actor ${e.actor} is not the statement's signer ${s.signer}`,
          });
        if (opts.resolveKey === undefined) statementsUnverified++;
        else {
          const key = opts.resolveKey({ signer: s.signer, roster: s.roster, seq: i, kind: e.kind });
          if (key === null || key === undefined)
            entryReport({
              code: 'STATEMENT_UNKNOWN_SIGNER',
              seq: i,
              message: `entry ${i}: signer ${s.signer} has no key in roster ${s.roster.slice(0, 16)}…`,
            });
          else if (!verifyStatement(s, key))
            entryReport({
              code: 'STATEMENT_BAD_SIGNATURE',
              seq: i,
              message: `entry ${i}: the ${s.type} signature by ${s.signer} does not verify`,
            });
          else statementsVerified++;
        }
      }
    }

    const cid = ceremonyOf(e);
    if (cid !== undefined) {
      let c = ceremonies.get(cid);
      if (c === undefined) {
        c = { entries: [], approvedBy: [], vetoedBy: [], releasedBy: [], closed: false };
        ceremonies.set(cid, c);
      }
      c.entries.push({ seq: i, kind: e.kind, ...(e.actor !== undefined ? { actor: e.actor } : {}) });
      const who = e.actor ?? e.statement?.signer ?? '?';
      if (e.kind === 'approval') c.approvedBy.push(who);
      else if (e.kind === 'veto') c.vetoedBy.push(who);
      else if (e.kind === 'release') c.releasedBy.push(who);
      else if (e.kind === 'ceremony-close') {
        c.closed = true;
        const reason = e.data?.reason ?? e.data?.outcome;
        if (typeof reason === 'string') c.closeReason = reason;
      }
    }
  }

  // Sequence gaps: entries that should be there and are not.
  for (let s = 0; s <= maxClaimed; s++)
    if (!claimedSeen.has(s))
      entryReport({
        code: 'ENTRY_MISSING',
        seq: s,
        message: `entry ${s} is missing: it was deleted from the log`,
      });

  // Broken prev links: link k (entry k's prev vs entry k−1's leaf) fails when entry k−1 was altered,
  // and also link k+1 when entry k itself was (its leaf changes with its prev). A checkpoint that
  // matches the first k entries clears entry k−1.
  const matched = new Set(cps.filter((c) => rootsAt.get(c.size) === toHex(c.root)).map((c) => c.size));
  const failed = new Set(linkFailures);
  const consumed = new Set<number>();
  for (const k of linkFailures) {
    if (consumed.has(k)) continue;
    if (failed.has(k + 1)) {
      consumed.add(k + 1);
      entryReport({
        code: 'ENTRY_ALTERED',
        seq: k,
        message: `entry ${k} was altered: its prev link and its successor's link are both broken`,
      });
    } else if (linksChecked.has(k + 1) || !matched.has(k))
      entryReport({
        code: 'ENTRY_ALTERED',
        seq: k - 1,
        message: linksChecked.has(k + 1)
          ? `entry ${k - 1} was altered: its leaf hash is not the prev recorded by entry ${k}`
          : `entry ${k - 1} or entry ${k} was altered: entry ${k}'s prev link is broken and nothing later decides which`,
      });
    if (!failed.has(k + 1) && !linksChecked.has(k + 1))
      entryReport({
        code: 'ENTRY_ALTERED',
        seq: k,
        message: matched.has(k)
          ? `entry ${k} was altered: its prev link is broken and a signed checkpoint covers the entries before it`
          : `entry ${k - 1} or entry ${k} was altered: entry ${k}'s prev link is broken and nothing later decides which`,
      });
  }

  // Checkpoint roots against the recomputed tree.
  let lastGood = 0;
  let latest: number | null = null;
  for (const c of cps) {
    if (c.size > n) {
      report({
        code: 'CHECKPOINT_BEYOND_ENTRIES',
        seq: n,
        message: `checkpoint #${c.index} signs ${c.size} entries, the bundle has ${n}: entries ${n}..${c.size - 1} are missing`,
      });
      continue;
    }
    latest = Math.max(latest ?? 0, c.size);
    const root = rootsAt.get(c.size);
    if (root !== toHex(c.root)) {
      const explained = entryFindings.some((s) => s >= lastGood && s < c.size);
      report({
        code: 'CHECKPOINT_ROOT_MISMATCH',
        seq: explained ? undefined : c.size - 1,
        message: explained
          ? `checkpoint #${c.index} (size ${c.size}) does not match the entries (see the entry findings above)`
          : `checkpoint #${c.index} (size ${c.size}) does not match the entries: entry ${c.size - 1} was altered (its prev links are intact up to it)`,
      });
    } else lastGood = c.size;
  }
  const covered = latest ?? 0;
  if (n > covered) {
    if (cps.length === 0)
      report({ code: 'NO_CHECKPOINT', message: 'the bundle has no checkpoint signed by the log key' });
    for (let s = covered; s < n; s++)
      report({
        code: 'ENTRY_NOT_CHECKPOINTED',
        seq: s,
        message: `entry ${s} is not covered by any signed checkpoint (latest covers ${covered}): appended without a new checkpoint`,
      });
  }

  // Anchoring.
  let anchored = false;
  if (trusted === undefined)
    notes.push('unanchored: no trusted checkpoint given, so a rollback or fork cannot be detected');
  else {
    const t = trusted;
    if (t.size > n || (latest ?? 0) < t.size)
      report({
        code: 'ROLLBACK',
        seq: Math.min(n, latest ?? 0),
        message: `the bundle (${n} entries, signed up to ${latest ?? 0}) is older than the trusted checkpoint (${t.size}): a rollback`,
      });
    else if (rootsAt.get(t.size) !== toHex(t.root))
      report({
        code: 'FORK',
        seq: t.size - 1,
        message: `the bundle's first ${t.size} entries do not match the trusted checkpoint: the log forked or was rewritten`,
      });
    else anchored = true;
  }

  for (const c of checks) c.end?.(report);
  if (statementsUnverified > 0)
    notes.push(`${statementsUnverified} embedded statements not verified: no roster key resolver was given`);
  if (opts.rosterPin !== undefined && checks.length === 0)
    notes.push('roster rules not checked: no roster check was plugged in');

  const merged = new Map<string, CeremonySummary>();
  for (const [id, c] of ceremonies) merged.set(id, { id, ...c, policy: 'unchecked' });
  for (const chk of checks)
    for (const p of chk.ceremonies?.() ?? []) {
      if (p.id === undefined) continue;
      const base = merged.get(p.id) ?? {
        id: p.id,
        entries: [],
        approvedBy: [],
        vetoedBy: [],
        releasedBy: [],
        closed: false,
        policy: 'unchecked',
      };
      merged.set(p.id, { ...base, ...p } as CeremonySummary);
    }
  for (const [code, count] of perCode)
    if (count > cap) findings.push({ code, message: `${count - cap} more ${code} findings not listed` });

  return {
    origin,
    anchored,
    entries: n,
    checkpoints: cps.length,
    latestCheckpoint: latest,
    root: toHex(range.root()),
    statementsVerified,
    ceremonies: [...merged.values()],
    findings,
    notes,
  };
}
