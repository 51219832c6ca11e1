/**
 * Offline verification of an audit bundle (docs/AUDIT-BUNDLE.md §2): no network, no database, and
 * nothing in the bundle trusted. {@link verifyBundle} runs small steps over one shared
 * {@link Verification}, in one place and in this order:
 *
 * 1. the auditor's anchors (log key, trusted checkpoint) and the bundle's shape;
 * 2. checkpoints: signatures under the auditor's log key, forks between them;
 * 3. each entry: its leaf in the recomputed tree, its fields, its sequence number and `prev` link, the
 *    plugged-in checks, its embedded statement's signature, the ceremony it names;
 * 4. after the entries: missing entries, which entry a broken link names, checkpoint roots against the
 *    recomputed tree, entries no checkpoint covers, and the anchor (rollback, fork).
 *
 * Roster chain and ceremony policy are pluggable {@link EntryCheck}s (src/audit/bundle-roster.ts,
 * src/audit/ceremony-check.ts); `auditorChecks()` (src/audit/auditor.ts) is the standard set.
 *
 * @example
 * const report = verifyBundle(await readBundle(path), { logKey, rosterPin, trustedCheckpoint, ...auditorChecks() });
 * report.findings; // [] when the log is intact
 * @module
 */
import { toHex } from '../crypto/bytes.ts';
import { canonicalize, type JsonValue, parseCanonical } from '../crypto/jcs.ts';
import { parseStatement, type Statement, type StatementKey, verifyStatement } from '../crypto/statement.ts';
import { type Checkpoint, openCheckpoint } from '../log/checkpoint.ts';
import { CompactRange, leafHash } from '../log/merkle.ts';
import { NoteError, type NoteVerifier, parseVerifierKey } from '../log/note.ts';
import { BUNDLE_FORMAT, BundleError, type BundleRosterVersion } from './bundle.ts';
import { findSecretLookingField } from './log.ts';

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

/**
 * What a ceremony is: an unlock (a coordinator ceremony, from its request), or a station ceremony
 * known by its signed transcript (offboarding is a rotation).
 */
export type CeremonyKind =
  | 'unlock'
  | 'key generation'
  | 'enrolment'
  | 'rotation'
  | 'policy change'
  | 'health check'
  | 'unknown';

/** The kind of a station ceremony by the definition name its transcript entry names. */
const TRANSCRIPT_KINDS: Readonly<Record<string, CeremonyKind>> = {
  'key-generation': 'key generation',
  'custodian-enrolment': 'enrolment',
  rotation: 'rotation',
  offboarding: 'rotation',
  'policy-change': 'policy change',
  'health-check': 'health check',
  unlock: 'unlock',
};

/** A ceremony as the report shows it. */
export interface CeremonySummary {
  readonly id: string;
  readonly kind: CeremonyKind;
  /** The definition name of a station ceremony (`key-generation`, …), from its transcript entry. */
  readonly ceremony?: string;
  /** Entries that name this ceremony (`data.ceremony` or `statement.body.ceremony`), in order. */
  readonly entries: readonly { readonly seq: number; readonly kind: string; readonly actor?: string }[];
  readonly approvedBy: readonly string[];
  readonly vetoedBy: readonly string[];
  readonly releasedBy: readonly string[];
  /** An unlock is closed by its `ceremony-close`; a station ceremony by its transcript (completed, aborted). */
  readonly closed: boolean;
  readonly closeReason?: string;
  /** The checks a plugged-in check ran on this ceremony, by its kind (e.g. `policy replay`). */
  readonly checks: readonly string[];
  /** Their verdict (`ok`, `violated`); `unchecked` when no check applied. */
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

/** The members of a bundle the verifier reads, checked for type. */
interface BundleShape {
  origin: string;
  entries: string[];
  checkpoints: string[];
  rosterVersions: BundleRosterVersion[];
}

/** A checkpoint that verified, with its position in the bundle. */
type BundleCheckpoint = Checkpoint & { index: number };

/** The built-in ceremony index: what the entries naming a ceremony say. */
interface CeremonyIndex {
  kind: CeremonyKind;
  ceremony?: string;
  entries: { seq: number; kind: string; actor?: string }[];
  approvedBy: string[];
  vetoedBy: string[];
  releasedBy: string[];
  closed: boolean;
  closeReason?: string;
}

/** The `prev` chain and sequence numbers as the entries are read. */
interface Chain {
  /** Leaf hash (hex) of the entry before this one. */
  prevLeaf: string;
  /** Sequence number the previous well-formed entry claimed; −1 after a malformed one. */
  prevClaimed: number;
  prevHadPrev: boolean;
  maxClaimed: number;
  readonly claimed: Set<number>;
  /** Entries whose link to their predecessor was checked, and those whose link failed. */
  readonly linksChecked: Set<number>;
  readonly linkFailures: number[];
}

/** The state the verification steps share. */
interface Verification {
  readonly opts: VerifyOptions;
  readonly origin: string;
  readonly logVerifier: NoteVerifier;
  readonly trusted: Checkpoint | undefined;
  readonly bundle: BundleShape;
  readonly checks: readonly EntryCheck[];
  /** Records a finding (at most `maxFindingsPerCode` of each code are kept). */
  readonly report: Report;
  /** Records a finding about an entry; its seq then explains a checkpoint root mismatch. */
  readonly entryReport: Report;
  readonly entryFindings: number[];
  readonly notes: string[];
  /** Verified checkpoints by ascending size. */
  cps: BundleCheckpoint[];
  /** The recomputed tree, the sizes checkpoints name, and the tree's roots (hex) at those sizes. */
  readonly range: CompactRange;
  readonly wanted: Set<number>;
  readonly rootsAt: Map<number, string>;
  readonly chain: Chain;
  readonly ceremonies: Map<string, CeremonyIndex>;
  statementsVerified: number;
  statementsUnverified: number;
  /** Largest checkpoint size within the entries, or null. */
  latest: number | null;
  anchored: boolean;
}

/** Verifies a bundle offline. Throws only for bad auditor inputs (log key, trusted checkpoint). */
export function verifyBundle(bundle: unknown, opts: VerifyOptions): VerifyReport {
  const { logVerifier, trusted } = openAnchors(opts);
  const findings = findingsCollector(opts.maxFindingsPerCode ?? 50);
  const shape = shapeOf(bundle);
  if (typeof shape === 'string') return malformedReport(logVerifier.name, shape);
  const v = newVerification(opts, logVerifier, trusted, shape, findings.report);

  checkBundleOrigin(v);
  openCheckpoints(v);
  beginChecks(v);
  for (const [i, text] of v.bundle.entries.entries()) verifyEntry(v, text, i);
  findMissingEntries(v);
  localiseBrokenLinks(v);
  checkCheckpointRoots(v);
  checkCoverage(v);
  checkAnchor(v);
  endChecks(v);
  return {
    origin: v.origin,
    anchored: v.anchored,
    entries: v.bundle.entries.length,
    checkpoints: v.cps.length,
    latestCheckpoint: v.latest,
    root: toHex(v.range.root()),
    statementsVerified: v.statementsVerified,
    ceremonies: ceremonySummaries(v),
    findings: findings.list(),
    notes: v.notes,
  };
}

// ---------------------------------------------------------------------------------------------
// Inputs.

/** The auditor's log key and trusted checkpoint; bad ones are the caller's error, not findings. */
function openAnchors(opts: VerifyOptions): { logVerifier: NoteVerifier; trusted: Checkpoint | undefined } {
  let logVerifier: NoteVerifier;
  try {
    logVerifier = parseVerifierKey(opts.logKey);
  } catch (e) {
    throw new BundleError('bundle_bad_log_key', `log key: ${(e as Error).message}`, { cause: e });
  }
  if (opts.trustedCheckpoint === undefined) return { logVerifier, trusted: undefined };
  try {
    return { logVerifier, trusted: openCheckpoint(opts.trustedCheckpoint, [logVerifier], logVerifier.name) };
  } catch (e) {
    throw new BundleError(
      'bundle_bad_trusted_checkpoint',
      `trusted checkpoint does not verify under the log key: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/** Keeps at most `cap` findings per code; `list` adds one summary line per code that overflowed. */
function findingsCollector(cap: number): { report: Report; list: () => Finding[] } {
  const findings: Finding[] = [];
  const perCode = new Map<string, number>();
  return {
    report(f) {
      const n = (perCode.get(f.code) ?? 0) + 1;
      perCode.set(f.code, n);
      if (n <= cap) findings.push(f);
    },
    list() {
      for (const [code, count] of perCode)
        if (count > cap) findings.push({ code, message: `${count - cap} more ${code} findings not listed` });
      return findings;
    },
  };
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

/** The report for a bundle too malformed to read: one finding, nothing verified. */
function malformedReport(origin: string, why: string): VerifyReport {
  return {
    origin,
    anchored: false,
    entries: 0,
    checkpoints: 0,
    latestCheckpoint: null,
    root: toHex(new CompactRange().root()),
    statementsVerified: 0,
    ceremonies: [],
    findings: [{ code: 'bundle_malformed', message: why }],
    notes: [],
  };
}

function newVerification(
  opts: VerifyOptions,
  logVerifier: NoteVerifier,
  trusted: Checkpoint | undefined,
  bundle: BundleShape,
  report: Report,
): Verification {
  const entryFindings: number[] = [];
  return {
    opts,
    origin: logVerifier.name,
    logVerifier,
    trusted,
    bundle,
    checks: opts.checks ?? [],
    report,
    entryReport: (f) => {
      if (f.seq !== undefined) entryFindings.push(f.seq);
      report(f);
    },
    entryFindings,
    notes: [],
    cps: [],
    range: new CompactRange(),
    wanted: new Set(),
    rootsAt: new Map(),
    chain: {
      prevLeaf: ZERO,
      prevClaimed: -1,
      prevHadPrev: false,
      maxClaimed: -1,
      claimed: new Set(),
      linksChecked: new Set(),
      linkFailures: [],
    },
    ceremonies: new Map(),
    statementsVerified: 0,
    statementsUnverified: 0,
    latest: null,
    anchored: false,
  };
}

// ---------------------------------------------------------------------------------------------
// Before the entries.

function checkBundleOrigin(v: Verification): void {
  if (v.bundle.origin !== v.origin)
    v.report({
      code: 'bundle_wrong_origin',
      message: `bundle is for log ${v.bundle.origin}, the log key is for ${v.origin}`,
    });
}

/**
 * Opens every checkpoint under the auditor's log key only, sorts them by size, reports two signed
 * roots for one size (among them or against the trusted checkpoint), and marks the sizes whose roots
 * the tree pass must record.
 */
function openCheckpoints(v: Verification): void {
  const cps: BundleCheckpoint[] = [];
  v.bundle.checkpoints.forEach((note, index) => {
    try {
      cps.push({ ...openCheckpoint(note, [v.logVerifier], v.origin), index });
    } catch (e) {
      const code = e instanceof NoteError ? 'checkpoint_bad_signature' : 'checkpoint_malformed';
      v.report({
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
      v.report({
        code: 'checkpoint_fork',
        seq: a.size - 1,
        message: `two signed checkpoints of tree size ${a.size} have different roots: the log forked`,
      });
  }
  const t = v.trusted;
  if (t !== undefined)
    for (const c of cps)
      if (c.size === t.size && toHex(c.root) !== toHex(t.root))
        v.report({
          code: 'checkpoint_fork',
          seq: c.size - 1,
          message: `checkpoint #${c.index} and the trusted checkpoint both sign tree size ${c.size} with different roots`,
        });
  v.cps = cps;
  for (const c of cps) v.wanted.add(c.size);
  if (t !== undefined) v.wanted.add(t.size);
  if (v.wanted.has(0)) v.rootsAt.set(0, toHex(v.range.root()));
}

function beginChecks(v: Verification): void {
  const ctx: BundleContext = {
    origin: v.origin,
    rosterVersions: v.bundle.rosterVersions,
    ...(v.opts.rosterPin !== undefined ? { rosterPin: v.opts.rosterPin } : {}),
  };
  for (const c of v.checks) c.begin?.(ctx, v.report);
}

// ---------------------------------------------------------------------------------------------
// Each entry.

/** Every per-entry step, in order; an entry without a readable seq stops after its leaf. */
function verifyEntry(v: Verification, text: string, i: number): void {
  const bytes = encoder.encode(text);
  const expectedPrev = v.chain.prevLeaf;
  v.chain.prevLeaf = appendLeaf(v, bytes, i);
  const e = parseEntry(v, bytes, i);
  if (e === undefined) {
    v.chain.prevClaimed = -1;
    return;
  }
  const claimed = checkSequence(v, e, i);
  checkLink(v, e, i, claimed, expectedPrev);
  checkFields(v, e, i);
  for (const c of v.checks)
    if (c.entry !== undefined && (c.kinds === undefined || c.kinds.includes(e.kind)))
      c.entry(e, i, v.entryReport);
  if (e.statement !== undefined) checkStatement(v, e, i);
  indexCeremony(v, e, i);
}

/** Adds the entry's leaf to the recomputed tree and records the root at checkpointed sizes. */
function appendLeaf(v: Verification, bytes: Uint8Array, i: number): string {
  const leaf = leafHash(bytes);
  v.range.append(leaf);
  if (v.wanted.has(i + 1)) v.rootsAt.set(i + 1, toHex(v.range.root()));
  return toHex(leaf);
}

/** Canonical JSON object of this log's version and origin, with a valid seq; undefined otherwise. */
function parseEntry(v: Verification, bytes: Uint8Array, i: number): ParsedEntry | undefined {
  let value: JsonValue;
  try {
    value = parseCanonical(bytes);
  } catch (e) {
    v.entryReport({
      code: 'ENTRY_NOT_CANONICAL',
      seq: i,
      message: `entry at position ${i} is not canonical JSON: ${(e as Error).message}`,
    });
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    v.entryReport({
      code: 'ENTRY_MALFORMED',
      seq: i,
      message: `entry at position ${i} is not a JSON object`,
    });
    return undefined;
  }
  const e = value as unknown as ParsedEntry;
  if (e.v !== 1)
    v.entryReport({
      code: 'ENTRY_BAD_VERSION',
      seq: i,
      message: `entry ${i} has version ${String(e.v)}, not 1`,
    });
  if (e.origin !== v.origin)
    v.entryReport({
      code: 'ENTRY_WRONG_ORIGIN',
      seq: i,
      message: `entry ${i} belongs to log ${String(e.origin)}, not ${v.origin}`,
    });
  if (typeof e.seq !== 'string' || !SEQ_RE.test(e.seq)) {
    v.entryReport({ code: 'ENTRY_MALFORMED', seq: i, message: `entry at position ${i} has no valid seq` });
    return undefined;
  }
  return e;
}

/** Reports a seq seen twice or going backwards; returns the seq the entry claims. */
function checkSequence(v: Verification, e: ParsedEntry, i: number): number {
  const chain = v.chain;
  const claimed = Number(e.seq);
  if (chain.claimed.has(claimed))
    v.entryReport({
      code: 'ENTRY_DUPLICATE',
      seq: claimed,
      message: `entry ${claimed} appears twice (again at position ${i})`,
    });
  else if (claimed < chain.maxClaimed)
    v.entryReport({
      code: 'ENTRY_OUT_OF_ORDER',
      seq: claimed,
      message: `entry ${claimed} is at position ${i}, after entry ${chain.maxClaimed}: entries were reordered`,
    });
  chain.claimed.add(claimed);
  chain.maxClaimed = Math.max(chain.maxClaimed, claimed);
  return claimed;
}

/**
 * The prev link: entry k names leaf k−1, so an altered entry is named by its successor. Which of the
 * two was altered is decided after the pass ({@link localiseBrokenLinks}).
 */
function checkLink(v: Verification, e: ParsedEntry, i: number, claimed: number, expectedPrev: string): void {
  const chain = v.chain;
  if (e.prev === undefined) {
    if (chain.prevHadPrev)
      v.entryReport({
        code: 'ENTRY_CHAIN_BROKEN',
        seq: i,
        message: `entry ${i} has no prev link, unlike entry ${i - 1}`,
      });
  } else if (typeof e.prev !== 'string' || !HEX64_RE.test(e.prev)) {
    v.entryReport({ code: 'ENTRY_MALFORMED', seq: i, message: `entry ${i} has a malformed prev` });
  } else if (claimed === 0) {
    if (e.prev !== ZERO)
      v.entryReport({ code: 'ENTRY_CHAIN_BROKEN', seq: 0, message: 'entry 0 must have prev 0…0' });
  } else if (claimed === chain.prevClaimed + 1) {
    // Consecutive sequence numbers (even after a gap): entry `claimed` names its predecessor's leaf.
    chain.linksChecked.add(claimed);
    if (e.prev !== expectedPrev) chain.linkFailures.push(claimed);
  }
  chain.prevHadPrev = e.prev !== undefined;
  chain.prevClaimed = claimed;
}

/** Kind, actor and time are well-formed, and no member looks like secret material. */
function checkFields(v: Verification, e: ParsedEntry, i: number): void {
  if (typeof e.kind !== 'string' || !KIND_RE.test(e.kind))
    v.entryReport({ code: 'ENTRY_MALFORMED', seq: i, message: `entry ${i} has an invalid kind` });
  if (e.actor !== undefined && (typeof e.actor !== 'string' || e.actor.length === 0))
    v.entryReport({ code: 'ENTRY_MALFORMED', seq: i, message: `entry ${i} has an invalid actor` });
  if (
    e.time !== undefined &&
    (typeof e.time !== 'string' || Number.isNaN(Date.parse(e.time)) || !e.time.endsWith('Z'))
  )
    v.entryReport({ code: 'ENTRY_MALFORMED', seq: i, message: `entry ${i} has an invalid time` });
  const secret =
    findSecretLookingField(e.data, '/data') ?? findSecretLookingField(e.statement?.body, '/statement/body');
  if (secret !== null)
    v.entryReport({
      code: 'ENTRY_SECRET_FIELD',
      seq: i,
      message: `entry ${i} has a secret-looking field at ${secret}`,
    });
}

/** The embedded statement is well-formed, signed by the actor, and verifies under the resolved key. */
function checkStatement(v: Verification, e: ParsedEntry, i: number): void {
  let s: Statement;
  try {
    s = parseStatement(canonicalize(e.statement));
  } catch (err) {
    v.entryReport({
      code: 'statement_malformed',
      seq: i,
      message: `entry ${i}: statement is malformed: ${(err as Error).message}`,
    });
    return;
  }
  if (e.actor !== undefined && e.actor !== s.signer)
    v.entryReport({
      code: 'ENTRY_ACTOR_MISMATCH',
      seq: i,
      message: `entry ${i}: actor ${e.actor} is not the statement's signer ${s.signer}`,
    });
  const resolveKey = v.opts.resolveKey;
  if (resolveKey === undefined) {
    v.statementsUnverified++;
    return;
  }
  const key = resolveKey({ signer: s.signer, roster: s.roster, seq: i, kind: e.kind });
  if (key === null || key === undefined)
    v.entryReport({
      code: 'statement_unknown_signer',
      seq: i,
      message: `entry ${i}: signer ${s.signer} has no key in roster ${s.roster.slice(0, 16)}…`,
    });
  else if (!verifyStatement(s, key))
    v.entryReport({
      code: 'statement_bad_signature',
      seq: i,
      message: `entry ${i}: the ${s.type} signature by ${s.signer} does not verify`,
    });
  else v.statementsVerified++;
}

/** The ceremony an entry names, if any. */
function ceremonyOf(e: ParsedEntry): string | undefined {
  for (const v of [e.data?.ceremonyId, e.data?.ceremony]) if (typeof v === 'string') return v;
  const body = e.statement?.body as { ceremony?: unknown; ceremonyId?: unknown } | undefined;
  if (body === null || typeof body !== 'object') return undefined;
  for (const v of [body.ceremonyId, body.ceremony]) if (typeof v === 'string') return v;
  return undefined;
}

/** Adds the entry to the index of the ceremony it names (who approved, vetoed, released; closed). */
function indexCeremony(v: Verification, e: ParsedEntry, i: number): void {
  const id = ceremonyOf(e);
  if (id === undefined) return;
  let c = v.ceremonies.get(id);
  if (c === undefined) {
    c = { kind: 'unknown', entries: [], approvedBy: [], vetoedBy: [], releasedBy: [], closed: false };
    v.ceremonies.set(id, c);
  }
  c.entries.push({ seq: i, kind: e.kind, ...(e.actor !== undefined ? { actor: e.actor } : {}) });
  const who = e.actor ?? e.statement?.signer ?? '?';
  if (e.kind === 'approval') c.approvedBy.push(who);
  else if (e.kind === 'veto') c.vetoedBy.push(who);
  else if (e.kind === 'release') c.releasedBy.push(who);
  else if (e.kind === 'unlock-request') c.kind = 'unlock';
  else if (e.kind === 'ceremony-close') {
    c.closed = true;
    const reason = e.data?.reason ?? e.data?.outcome;
    if (typeof reason === 'string') c.closeReason = reason;
  } else if (e.kind === 'ceremony-transcript') {
    // A transcript is logged once, when its ceremony is closed.
    const name = e.data?.ceremony;
    c.kind = (typeof name === 'string' && TRANSCRIPT_KINDS[name]) || 'unknown';
    if (typeof name === 'string') c.ceremony = name;
    c.closed = true;
    if (typeof e.data?.status === 'string') c.closeReason = e.data.status;
  }
}

// ---------------------------------------------------------------------------------------------
// After the entries.

/** Sequence gaps: entries that should be there and are not. */
function findMissingEntries(v: Verification): void {
  for (let s = 0; s <= v.chain.maxClaimed; s++)
    if (!v.chain.claimed.has(s))
      v.entryReport({
        code: 'ENTRY_MISSING',
        seq: s,
        message: `entry ${s} is missing: it was deleted from the log`,
      });
}

/**
 * Broken prev links: link k (entry k's prev vs entry k−1's leaf) fails when entry k−1 was altered,
 * and also link k+1 when entry k itself was (its leaf changes with its prev). A checkpoint that
 * matches the first k entries clears entry k−1.
 */
function localiseBrokenLinks(v: Verification): void {
  const { linkFailures, linksChecked } = v.chain;
  const matched = new Set(v.cps.filter((c) => v.rootsAt.get(c.size) === toHex(c.root)).map((c) => c.size));
  const failed = new Set(linkFailures);
  const consumed = new Set<number>();
  for (const k of linkFailures) {
    if (consumed.has(k)) continue;
    if (failed.has(k + 1)) {
      consumed.add(k + 1);
      v.entryReport({
        code: 'ENTRY_ALTERED',
        seq: k,
        message: `entry ${k} was altered: its prev link and its successor's link are both broken`,
      });
    } else if (linksChecked.has(k + 1) || !matched.has(k))
      v.entryReport({
        code: 'ENTRY_ALTERED',
        seq: k - 1,
        message: linksChecked.has(k + 1)
          ? `entry ${k - 1} was altered: its leaf hash is not the prev recorded by entry ${k}`
          : `entry ${k - 1} or entry ${k} was altered: entry ${k}'s prev link is broken and nothing later decides which`,
      });
    if (!failed.has(k + 1) && !linksChecked.has(k + 1))
      v.entryReport({
        code: 'ENTRY_ALTERED',
        seq: k,
        message: matched.has(k)
          ? `entry ${k} was altered: its prev link is broken and a signed checkpoint covers the entries before it`
          : `entry ${k - 1} or entry ${k} was altered: entry ${k}'s prev link is broken and nothing later decides which`,
      });
  }
}

/** Each checkpoint's root against the recomputed tree; sets the latest checkpoint within the entries. */
function checkCheckpointRoots(v: Verification): void {
  const n = v.bundle.entries.length;
  let lastGood = 0;
  for (const c of v.cps) {
    if (c.size > n) {
      v.report({
        code: 'checkpoint_beyond_entries',
        seq: n,
        message: `checkpoint #${c.index} signs ${c.size} entries, the bundle has ${n}: entries ${n}..${c.size - 1} are missing`,
      });
      continue;
    }
    v.latest = Math.max(v.latest ?? 0, c.size);
    if (v.rootsAt.get(c.size) !== toHex(c.root)) {
      const explained = v.entryFindings.some((s) => s >= lastGood && s < c.size);
      v.report({
        code: 'checkpoint_root_mismatch',
        seq: explained ? undefined : c.size - 1,
        message: explained
          ? `checkpoint #${c.index} (size ${c.size}) does not match the entries (see the entry findings above)`
          : `checkpoint #${c.index} (size ${c.size}) does not match the entries: entry ${c.size - 1} was altered (its prev links are intact up to it)`,
      });
    } else lastGood = c.size;
  }
}

/** Entries after the latest checkpoint: appended without a new checkpoint. */
function checkCoverage(v: Verification): void {
  const n = v.bundle.entries.length;
  const covered = v.latest ?? 0;
  if (n <= covered) return;
  if (v.cps.length === 0)
    v.report({ code: 'NO_CHECKPOINT', message: 'the bundle has no checkpoint signed by the log key' });
  for (let s = covered; s < n; s++)
    v.report({
      code: 'ENTRY_NOT_CHECKPOINTED',
      seq: s,
      message: `entry ${s} is not covered by any signed checkpoint (latest covers ${covered}): appended without a new checkpoint`,
    });
}

/** The bundle against the auditor's trusted checkpoint: a rollback, a fork, or anchored. */
function checkAnchor(v: Verification): void {
  const t = v.trusted;
  if (t === undefined) {
    v.notes.push('unanchored: no trusted checkpoint given, so a rollback or fork cannot be detected');
    return;
  }
  const n = v.bundle.entries.length;
  const latest = v.latest ?? 0;
  if (t.size > n || latest < t.size)
    v.report({
      code: 'ROLLBACK',
      seq: Math.min(n, latest),
      message: `the bundle (${n} entries, signed up to ${latest}) is older than the trusted checkpoint (${t.size}): a rollback`,
    });
  else if (v.rootsAt.get(t.size) !== toHex(t.root))
    v.report({
      code: 'FORK',
      seq: t.size - 1,
      message: `the bundle's first ${t.size} entries do not match the trusted checkpoint: the log forked or was rewritten`,
    });
  else v.anchored = true;
}

/** The checks' final conditions, and notes on what was not verified. */
function endChecks(v: Verification): void {
  for (const c of v.checks) c.end?.(v.report);
  if (v.statementsUnverified > 0)
    v.notes.push(
      `${v.statementsUnverified} embedded statements not verified: no roster key resolver was given`,
    );
  if (v.opts.rosterPin !== undefined && v.checks.length === 0)
    v.notes.push('roster rules not checked: no roster check was plugged in');
}

/** The built-in ceremony index merged, by id, with what the checks tracked (e.g. policy verdicts). */
function ceremonySummaries(v: Verification): CeremonySummary[] {
  const merged = new Map<string, CeremonySummary>();
  for (const [id, c] of v.ceremonies) merged.set(id, { id, ...c, checks: [], policy: 'unchecked' });
  for (const chk of v.checks)
    for (const p of chk.ceremonies?.() ?? []) {
      if (p.id === undefined) continue;
      const base = merged.get(p.id) ?? {
        id: p.id,
        kind: 'unknown' as const,
        checks: [],
        entries: [],
        approvedBy: [],
        vetoedBy: [],
        releasedBy: [],
        closed: false,
        policy: 'unchecked',
      };
      merged.set(p.id, { ...base, ...p } as CeremonySummary);
    }
  return [...merged.values()];
}
