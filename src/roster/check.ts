/**
 * Parsing a roster document: the schema (src/roster/schema.ts) and then the semantic rules a schema
 * cannot state. Every function here throws only {@link RosterError}.
 *
 * Semantic rules of one version (docs/ROSTER.md §3):
 * - ids are unique across all principals (custodians, stations, jobs, auditors); domain names, legal
 *   basis codes and epoch numbers (per domain) are unique; no public key appears twice anywhere;
 * - the root names existing custodians, each once, and 1 ≤ threshold ≤ its size;
 * - a domain names existing custodians, each once; 1 ≤ threshold ≤ its custodians;
 *   minOrganisations ≤ the distinct organisations of its custodians; its policy's legal bases and
 *   stations, when listed, are the roster's, each once;
 * - a job seals only for existing domains, each named once;
 * - epochs are listed in increasing order; every epoch: threshold ≤ shares, shares with distinct
 *   custodians and distinct x, keyId = SHA-256(quorumPublicKey)[0..16], and no quorum key used twice;
 *   a live (not retired) epoch's share holders are roster custodians; the current epoch (the newest
 *   live one) has exactly one share per domain custodian and the domain's threshold;
 * - issuedAt < expires.
 * @module
 */
import { toHex } from '../crypto/bytes.ts';
import { type JsonValue, jcs } from '../crypto/jcs.ts';
import { keyId, parsePublicKey } from '../crypto/keys.ts';
import { RosterError } from './errors.ts';
import {
  type Domain,
  type Epoch,
  type RosterDoc,
  RosterDocSchema,
  type SignedRoster,
  SignedRosterSchema,
  timeMs,
} from './schema.ts';

type Schema = typeof RosterDocSchema | typeof SignedRosterSchema;

function where(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out === '' ? '' : '.'}${String(p)}`;
  return out === '' ? 'document' : out;
}

function parseWith<S extends Schema>(schema: S, value: unknown, what: string): ReturnType<S['parse']> {
  let r: ReturnType<S['safeParse']>;
  try {
    r = schema.safeParse(value) as ReturnType<S['safeParse']>;
  } catch (e) {
    throw new RosterError('roster_malformed', `${what}: not a roster document (${(e as Error).message})`);
  }
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const msg =
      issue.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`
        : issue.message;
    throw new RosterError('roster_malformed', `${what}: ${where(issue.path)}: ${msg}`);
  }
  // The output of a strict schema is a fresh plain copy of the input; check it is JCS-able data.
  try {
    jcs(r.data);
  } catch (e) {
    throw new RosterError('roster_malformed', `${what}: ${(e as Error).message}`);
  }
  return r.data as ReturnType<S['parse']>;
}

const fail = (code: ConstructorParameters<typeof RosterError>[0], v: number, msg: string): never => {
  throw new RosterError(code, `roster version ${v}: ${msg}`);
};

/** The current epoch of a domain: the live (not retired) epoch with the highest number, if any. */
export function liveEpoch(d: Domain): Epoch | undefined {
  let best: Epoch | undefined;
  for (const e of d.epochs) if (e.retired !== true && (best === undefined || e.epoch > best.epoch)) best = e;
  return best;
}

function checkEpochs(doc: RosterDoc, d: Domain, orgOf: Map<string, string>, quorumKeys: Set<string>): void {
  const v = doc.version;
  let last = -1;
  for (const e of d.epochs) {
    const at = `domain "${d.name}" epoch ${e.epoch}`;
    if (e.epoch <= last) fail('roster_duplicate', v, `${at}: epochs must be listed in increasing order`);
    last = e.epoch;
    const pub = parsePublicKey(e.quorumPublicKey);
    if (toHex(keyId(pub)) !== e.keyId)
      fail('roster_key_id_mismatch', v, `${at}: keyId ${e.keyId} is not SHA-256(quorumPublicKey)[0..16]`);
    if (quorumKeys.has(e.keyId)) fail('roster_duplicate', v, `${at}: quorum key is used twice`);
    quorumKeys.add(e.keyId);
    if (e.threshold > e.shares.length)
      fail('roster_bad_threshold', v, `${at}: threshold ${e.threshold} > ${e.shares.length} shares`);
    const holders = new Set<string>();
    const xs = new Set<number>();
    for (const s of e.shares) {
      if (holders.has(s.custodian))
        fail('roster_bad_epoch', v, `${at}: custodian "${s.custodian}" holds two shares`);
      holders.add(s.custodian);
      if (xs.has(s.x)) fail('roster_bad_epoch', v, `${at}: x = ${s.x} is used twice`);
      xs.add(s.x);
      if (e.retired !== true && !orgOf.has(s.custodian))
        fail('roster_unknown_reference', v, `${at}: share holder "${s.custodian}" is not a custodian`);
    }
  }
  const cur = liveEpoch(d);
  if (cur === undefined) return;
  const at = `domain "${d.name}" current epoch ${cur.epoch}`;
  const holders = new Set(cur.shares.map((s) => s.custodian));
  for (const c of d.custodians)
    if (!holders.has(c)) fail('roster_bad_epoch', v, `${at}: custodian "${c}" holds no share`);
  for (const h of holders)
    if (!d.custodians.includes(h))
      fail('roster_bad_epoch', v, `${at}: share holder "${h}" is not a custodian of the domain`);
  if (cur.threshold !== d.threshold)
    fail(
      'roster_bad_threshold',
      v,
      `${at}: share threshold ${cur.threshold} ≠ domain threshold ${d.threshold}`,
    );
}

/** A domain policy's legal bases and stations name the roster's, each once. */
function checkPolicyLists(
  v: number,
  d: Domain,
  codes: ReadonlySet<string>,
  principals: ReadonlyMap<string, string>,
): void {
  const seen = new Set<string>();
  for (const c of d.policy.legalBases ?? []) {
    if (!codes.has(c))
      fail('roster_unknown_reference', v, `domain "${d.name}" policy names unknown legal basis "${c}"`);
    if (seen.has(c)) fail('roster_duplicate', v, `domain "${d.name}" policy names legal basis "${c}" twice`);
    seen.add(c);
  }
  seen.clear();
  for (const s of d.policy.stations ?? []) {
    if (principals.get(s) !== 'station')
      fail('roster_unknown_reference', v, `domain "${d.name}" policy names "${s}", which is not a station`);
    if (seen.has(s)) fail('roster_duplicate', v, `domain "${d.name}" policy names station "${s}" twice`);
    seen.add(s);
  }
}

/** The semantic rules of one roster version (module notes). @throws {RosterError} */
export function checkRosterDoc(doc: RosterDoc): void {
  const v = doc.version;
  if (timeMs(doc.issuedAt) >= timeMs(doc.expires))
    fail('roster_bad_time', v, `issuedAt ${doc.issuedAt} is not before expires ${doc.expires}`);
  if ((v === 1) !== (doc.previous === undefined))
    fail('roster_malformed', v, v === 1 ? 'genesis must not name a previous version' : 'previous is missing');

  const principals = new Map<string, string>();
  const addPrincipal = (role: string, id: string) => {
    const seen = principals.get(id);
    if (seen !== undefined) fail('roster_duplicate', v, `id "${id}" is used by a ${seen} and a ${role}`);
    principals.set(id, role);
  };
  const keys = new Map<string, string>();
  const addKey = (key: string, owner: string) => {
    const seen = keys.get(key);
    if (seen !== undefined) fail('roster_duplicate', v, `${owner} reuses the public key of ${seen}`);
    keys.set(key, owner);
  };
  const orgOf = new Map<string, string>();
  for (const c of doc.custodians) {
    addPrincipal('custodian', c.id);
    orgOf.set(c.id, c.organisation);
    addKey(c.identityKey, `custodian "${c.id}" identityKey`);
    addKey(c.transportKey, `custodian "${c.id}" transportKey`);
    addKey(c.xwingKey, `custodian "${c.id}" xwingKey`);
  }
  for (const s of doc.stations) {
    addPrincipal('station', s.id);
    addKey(s.signingKey.publicKey, `station "${s.id}"`);
  }
  for (const j of doc.jobs) {
    addPrincipal('job', j.id);
    addKey(j.signingKey.publicKey, `job "${j.id}"`);
  }
  for (const a of doc.auditors) {
    addPrincipal('auditor', a.id);
    addKey(a.signingKey.publicKey, `auditor "${a.id}"`);
  }
  addKey(doc.log.key, 'the log key');

  const root = new Set<string>();
  for (const c of doc.root.custodians) {
    if (!orgOf.has(c)) fail('roster_unknown_reference', v, `root names "${c}", which is not a custodian`);
    if (root.has(c)) fail('roster_duplicate', v, `root names "${c}" twice`);
    root.add(c);
  }
  if (doc.root.threshold > root.size)
    fail('roster_bad_threshold', v, `root threshold ${doc.root.threshold} > ${root.size} root custodians`);

  const codes = new Set<string>();
  for (const b of doc.legalBases) {
    if (codes.has(b.code)) fail('roster_duplicate', v, `legal basis "${b.code}" is listed twice`);
    codes.add(b.code);
  }

  const names = new Set<string>();
  const quorumKeys = new Set<string>();
  for (const d of doc.domains) {
    if (names.has(d.name)) fail('roster_duplicate', v, `domain "${d.name}" is listed twice`);
    names.add(d.name);
    const members = new Set<string>();
    for (const c of d.custodians) {
      if (!orgOf.has(c))
        fail('roster_unknown_reference', v, `domain "${d.name}" names "${c}", which is not a custodian`);
      if (members.has(c)) fail('roster_duplicate', v, `domain "${d.name}" names custodian "${c}" twice`);
      members.add(c);
    }
    if (d.threshold > members.size)
      fail(
        'roster_bad_threshold',
        v,
        `domain "${d.name}": threshold ${d.threshold} > ${members.size} custodians`,
      );
    const orgs = new Set(d.custodians.map((c) => orgOf.get(c)));
    if (d.minOrganisations > orgs.size)
      fail(
        'roster_bad_threshold',
        v,
        `domain "${d.name}": minOrganisations ${d.minOrganisations} > ${orgs.size} organisations among its custodians`,
      );
    if (d.minOrganisations > d.threshold)
      fail(
        'roster_bad_threshold',
        v,
        `domain "${d.name}": minOrganisations ${d.minOrganisations} > threshold ${d.threshold}`,
      );
    checkPolicyLists(v, d, codes, principals);
    checkEpochs(doc, d, orgOf, quorumKeys);
  }
  for (const j of doc.jobs) {
    const seen = new Set<string>();
    for (const d of j.domains) {
      if (!names.has(d)) fail('roster_unknown_reference', v, `job "${j.id}" names unknown domain "${d}"`);
      if (seen.has(d)) fail('roster_duplicate', v, `job "${j.id}" names domain "${d}" twice`);
      seen.add(d);
    }
  }
}

/**
 * A roster version document from untrusted JSON data: schema, then {@link checkRosterDoc}.
 * Returns a fresh, deeply frozen copy. @throws {RosterError}
 */
export function parseRosterDoc(value: unknown): RosterDoc {
  const doc = parseWith(RosterDocSchema, value, 'roster document');
  checkRosterDoc(doc);
  return deepFreeze(doc);
}

/**
 * A signed roster `{ roster, signatures }` from untrusted JSON data (or JSON text): schema and
 * semantic checks; signatures are **not** verified here (see verify.ts). @throws {RosterError}
 */
export function parseSignedRoster(value: unknown): SignedRoster {
  let v = value;
  if (typeof value === 'string' || value instanceof Uint8Array) {
    try {
      v = JSON.parse(typeof value === 'string' ? value : Buffer.from(value).toString('utf8')) as JsonValue;
    } catch {
      throw new RosterError('roster_malformed', 'signed roster: not valid JSON');
    }
  }
  const version =
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { roster?: { version?: unknown } }).roster === 'object'
      ? (v as { roster: { version?: unknown } }).roster?.version
      : undefined;
  const what = Number.isSafeInteger(version) ? `signed roster version ${version}` : 'signed roster';
  const signed = parseWith(SignedRosterSchema, v, what);
  checkRosterDoc(signed.roster);
  return deepFreeze(signed);
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
