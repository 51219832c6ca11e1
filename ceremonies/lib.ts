/**
 * Building blocks the ceremony definitions bind to their steps: custodian statements signed in the
 * token, quorum releases to the station, splitting and importing a key, acceptances, publishing a
 * roster version signed by a root quorum, signed destruction records, and the health-challenge book.
 * Only public facts come out of these functions; keys stay in memory or in tokens.
 * @module
 */

import { createHash } from 'node:crypto';
import {
  createCeremonyKeys,
  type DestructionRecord,
  type HealthChallenge,
  type ShareCommitmentRecord,
  zeroizeCeremonyKeys,
} from '../hsm/index.ts';
import { appendEntry } from '../src/audit/log.ts';
import { toHex } from '../src/crypto/bytes.ts';
import type { JsonValue } from '../src/crypto/jcs.ts';
import { formatPublicKey, type Identity, parsePublicKey } from '../src/crypto/keys.ts';
import { type Statement, signStatement, toBase64Url } from '../src/crypto/statement.ts';
import { type Faults, noFaults } from '../src/fs/faults.ts';
import { OTHER_STATEMENT, recipientKeysHash } from '../src/protocol/statements.ts';
import {
  assembleSignedRoster,
  custodianKeys,
  type Epoch,
  epochEntry,
  findEpoch,
  type RosterDoc,
  type RosterSignature,
  rosterIdHex,
  signRoster,
  tokenSigner,
} from '../src/roster/index.ts';
import { type SplitResult, splitQuorumKey } from '../src/station/key-ceremony.ts';
import { combineReleases } from '../src/station/unlock.ts';
import type { StepResult } from './engine.ts';
import type { CeremonyEnv } from './env.ts';
import { CeremonyError, type JsonObject } from './types.ts';

/** A statement signed by a custodian's token identity key against the roster in force. */
export async function custodianStatement(
  env: CeremonyEnv,
  id: string,
  type: string,
  body: JsonValue,
  roster = env.coordinator.rosterId,
): Promise<Statement> {
  const token = await env.custodian(id);
  return signStatement({ type, roster, signer: `custodian/${id}`, body }, tokenSigner(token));
}

/** A statement signed by the station key. */
export const stationStatement = (env: CeremonyEnv, type: string, body: JsonValue): Promise<Statement> =>
  signStatement({ type, roster: env.coordinator.rosterId, signer: env.station.ref, body }, env.station.sign);

const commitmentOf = (e: Epoch, custodian: string): ShareCommitmentRecord => {
  const s = e.shares.find((x) => x.custodian === custodian);
  if (!s)
    throw new CeremonyError('ceremony_precondition', `"${custodian}" holds no share of epoch ${e.epoch}`);
  return {
    custodian,
    keyCeremonyId: e.keyCeremony,
    salt: new Uint8Array(Buffer.from(s.salt, 'base64url')),
    commitment: new Uint8Array(Buffer.from(s.commitment, 'hex')),
  };
};

export function epochOf(env: CeremonyEnv, domain: string, epoch: number): Epoch {
  const e = findEpoch(env.roster(), domain, epoch);
  if (!e)
    throw new CeremonyError(
      'ceremony_precondition',
      `the roster in force has no epoch ${epoch} of "${domain}"`,
    );
  return e;
}

/**
 * A quorum of an epoch's share holders releases to fresh station keys for this ceremony: each signs
 * an approval naming the ceremony and the recipient keys (invariant 2), then their token wraps the
 * share to those keys; the station checks every share against its commitment, combines, and checks
 * the result against the epoch's quorum public key. Absent custodians are skipped.
 */
export async function quorumRelease(
  env: CeremonyEnv,
  ceremonyId: string,
  ceremony: Uint8Array,
  domain: string,
  epoch: number,
  /** The epoch entry when it is not (yet) in the roster in force: a rotation's recorded new epoch. */
  entry?: Epoch,
): Promise<{ identity: Identity; releasedBy: string[]; statements: Statement[] }> {
  const e = entry ?? epochOf(env, domain, epoch);
  const keys = createCeremonyKeys();
  try {
    const rk = recipientKeysHash(keys.p256.publicKey, keys.xwing.publicKey);
    const present = e.shares.map((s) => s.custodian).filter((c) => !env.absent.has(c));
    if (present.length < e.threshold)
      throw new CeremonyError(
        'ceremony_precondition',
        `only ${present.length} holders of ${domain}/${epoch} are present; ${e.threshold} are needed`,
      );
    const chosen = present.slice(0, e.threshold);
    const statements: Statement[] = [];
    const releases = [];
    for (const c of chosen) {
      statements.push(
        await custodianStatement(env, c, OTHER_STATEMENT.releaseApproval, {
          ceremonyId,
          ceremonyDigest: toHex(ceremony),
          domain,
          epoch,
          recipientKeys: rk,
        }),
      );
      const token = await env.custodian(c);
      const envelope = await token.releaseShare({
        domain,
        epoch,
        ceremony,
        custodian: c,
        recipientP256: keys.p256.publicKey,
        recipientXWing: keys.xwing.publicKey,
      });
      releases.push({ custodian: c, envelope, commitment: commitmentOf(e, c) });
    }
    const identity = await combineReleases({
      keys,
      domain,
      epoch,
      ceremony,
      threshold: e.threshold,
      publicKey: parsePublicKey(e.quorumPublicKey),
      releases,
    });
    return { identity, releasedBy: chosen, statements };
  } finally {
    zeroizeCeremonyKeys(keys);
  }
}

/** Splits a key (fresh, or the given seed) for the custodians of the roster in force. */
export async function splitFor(
  env: CeremonyEnv,
  domain: string,
  epoch: number,
  threshold: number,
  custodians: string[],
  seed?: Uint8Array,
): Promise<SplitResult> {
  return splitQuorumKey({
    domain,
    epoch,
    threshold,
    custodians: custodians.map((id) => {
      const k = custodianKeys(env.roster(), id);
      return { id, transport: k.transport, xwing: k.xwing };
    }),
    ...(seed ? { seed } : {}),
  });
}

/** The public part of a split, as the transcript records it (and later steps read it back). */
export function splitRecord(s: SplitResult): JsonObject {
  return {
    domain: s.domain,
    epoch: s.epoch,
    keyCeremony: s.keyCeremonyId,
    ceremonyDigest: toHex(s.ceremonyDigest),
    threshold: s.threshold,
    quorumPublicKey: formatPublicKey(s.publicKey),
    keyId: toHex(s.keyId),
    subsetsChecked: s.subsetsChecked,
    holders: s.shares.map((x) => ({
      custodian: x.custodian,
      x: x.x,
      commitment: toHex(x.commitment.commitment),
      salt: toBase64Url(x.commitment.salt),
    })),
    challengeBook: s.shares.map((x) => ({
      custodian: x.custodian,
      challenges: x.health.map((h: HealthChallenge) => ({
        challenge: toBase64Url(h.challenge),
        responseHash: toHex(h.responseHash),
      })),
    })),
  };
}

interface SplitRec {
  domain: string;
  epoch: number;
  keyCeremony: string;
  threshold: number;
  quorumPublicKey: string;
  keyId: string;
  holders: { custodian: string; x: number; commitment: string; salt: string }[];
}

/** The roster epoch entry of a recorded split. */
export function epochFromRecord(rec: JsonObject, createdAt: Date): Epoch {
  const r = rec as unknown as SplitRec;
  return epochEntry({
    epoch: r.epoch,
    keyCeremony: r.keyCeremony,
    quorumPublicKey: parsePublicKey(r.quorumPublicKey),
    threshold: r.threshold,
    shares: r.holders.map((h) => ({
      custodian: h.custodian,
      x: h.x,
      commitment: new Uint8Array(Buffer.from(h.commitment, 'hex')),
      salt: new Uint8Array(Buffer.from(h.salt, 'base64url')),
    })),
    createdAt: new Date(Math.floor(createdAt.getTime() / 1000) * 1000),
  });
}

/**
 * Imports every share into its custodian's token (the share is unwrapped inside the token). Crash
 * points, once per share: `import-shares:after-intent`, `import-shares:after-import`.
 */
export async function importShares(
  env: CeremonyEnv,
  s: SplitResult,
  faults: Faults = noFaults,
): Promise<JsonObject> {
  const imported = [];
  for (const x of s.shares) {
    const token = await env.custodian(x.custodian);
    const facts = {
      op: 'share-import',
      token: token.label,
      custodian: x.custodian,
      domain: s.domain,
      epoch: s.epoch,
    };
    await hsmEntry(env, 'hsm-intent', facts);
    faults.at('import-shares:after-intent');
    const info = await token.importShare(x.envelope, {
      domain: s.domain,
      epoch: s.epoch,
      ceremony: s.ceremonyDigest,
      custodian: x.custodian,
    });
    faults.at('import-shares:after-import');
    await hsmEntry(env, 'hsm-outcome', { ...facts, objectId: info.id, objectLabel: info.label });
    imported.push({ custodian: x.custodian, objectId: info.id, objectLabel: info.label });
  }
  return { imported };
}

/**
 * docs/DECISIONS.md#d6: a state change inside an HSM is logged as an intent before and an outcome after
 * (keyed by the object's CKA_ID), so a crash between them is visible to an auditor.
 */
async function hsmEntry(
  env: CeremonyEnv,
  kind: 'hsm-intent' | 'hsm-outcome',
  data: Record<string, JsonValue>,
) {
  await env.store.transaction((trx) => appendEntry(trx, { kind, actor: env.station.ref, data }));
}

/** Every holder signs acceptance of their share (after the token checked its key-check value). */
export async function acceptances(
  env: CeremonyEnv,
  ceremonyId: string,
  rec: JsonObject,
): Promise<{ record: JsonObject; statements: Statement[] }> {
  const r = rec as unknown as SplitRec;
  const statements: Statement[] = [];
  for (const h of r.holders) {
    const token = await env.custodian(h.custodian);
    const held = (await token.listShares()).some((x) => x.domain === r.domain && x.epoch === r.epoch);
    if (!held)
      throw new CeremonyError(
        'ceremony_precondition',
        `custodian "${h.custodian}" does not hold ${r.domain}/${r.epoch} in their token; it cannot be accepted`,
      );
    statements.push(
      await custodianStatement(env, h.custodian, OTHER_STATEMENT.acceptance, {
        ceremonyId,
        keyCeremony: r.keyCeremony,
        domain: r.domain,
        epoch: r.epoch,
        x: h.x,
        commitment: h.commitment,
        keyId: r.keyId,
      }),
    );
  }
  return { record: { acceptedBy: r.holders.map((h) => h.custodian) }, statements };
}

/** A domain's epoch in a roster version, if the domain and the epoch are there. */
const epochIn = (r: RosterDoc, domain: string, epoch: number): Epoch | undefined =>
  r.domains.find((d) => d.name === domain)?.epochs.find((e) => e.epoch === epoch);

/** A published roster version: number, id and the root custodians who signed it. */
export interface Published {
  version: number;
  rosterId: string;
  signers: string[];
}

/**
 * The first roster version for which `holds` is true, when the roster in force holds it too: a publish
 * step interrupted after the coordinator stored its version records it from here instead of
 * publishing again (and failing on an entry listed twice).
 */
export async function publishedWhere(
  env: CeremonyEnv,
  holds: (r: RosterDoc) => boolean,
): Promise<Published | undefined> {
  if (!holds(env.roster())) return undefined;
  const first = (await env.coordinator.rosterVersions()).find((v) => holds(v.roster));
  if (!first) return undefined;
  return {
    version: first.roster.version,
    rosterId: rosterIdHex(first.roster),
    signers: first.signatures.map((s) => s.signer),
  };
}

/** The publish step's result when it finds its version already stored ({@link publishedWhere}). */
export const alreadyPublished = (p: Published, extra: JsonObject = {}): StepResult => ({
  record: {
    rosterVersion: p.version,
    rosterId: p.rosterId,
    signers: p.signers,
    ...extra,
    alreadyPublished: true,
  },
  who: p.signers.map((s) => `custodian/${s}`),
});

/** The roster version that published `domain`/`epoch` with this quorum public key ({@link publishedWhere}). */
export const publishedEpoch = (env: CeremonyEnv, domain: string, epoch: number, quorumPublicKey: string) =>
  publishedWhere(env, (r) => epochIn(r, domain, epoch)?.quorumPublicKey === quorumPublicKey);

/**
 * Refuses to touch the shares of an epoch the roster in force publishes (and has not retired):
 * whatever a transcript says, those shares are the only copy of a live key.
 * @throws {CeremonyError} ceremony_published
 */
export function refuseIfPublished(env: CeremonyEnv, domain: string, epoch: number): void {
  const e = epochIn(env.roster(), domain, epoch);
  if (e && e.retired !== true)
    throw new CeremonyError(
      'ceremony_published',
      `${domain}/${epoch} is published by roster version ${env.roster().version} in force; its shares are kept (resume the ceremony to record it, or rotate the domain)`,
    );
}

/**
 * Signs `doc` with root custodians until both the old root's and the new root's thresholds are met,
 * and publishes it through the coordinator (which verifies it and logs `roster-version`). Crash
 * points: `publish-roster:before-store`, `publish-roster:after-store`.
 */
export async function publishRoster(
  env: CeremonyEnv,
  doc: RosterDoc,
  faults: Faults = noFaults,
): Promise<Published> {
  const old = env.roster();
  const candidates = [...new Set([...old.root.custodians, ...doc.root.custodians])].filter(
    (c) => !env.absent.has(c) && doc.custodians.some((x) => x.id === c),
  );
  const sigs: RosterSignature[] = [];
  const count = (root: RosterDoc['root']) => sigs.filter((s) => root.custodians.includes(s.signer)).length;
  for (const c of candidates) {
    if (count(old.root) >= old.root.threshold && count(doc.root) >= doc.root.threshold) break;
    sigs.push(await signRoster(doc, c, tokenSigner(await env.custodian(c))));
  }
  if (count(old.root) < old.root.threshold || count(doc.root) < doc.root.threshold)
    throw new CeremonyError(
      'ceremony_precondition',
      `not enough root custodians present to sign roster version ${doc.version}`,
    );
  faults.at('publish-roster:before-store');
  const res = await env.coordinator.addRosterVersion(env.stationCaller(), assembleSignedRoster(doc, sigs));
  faults.at('publish-roster:after-store');
  return { ...res, signers: sigs.map((s) => s.signer) };
}

/**
 * Destroys a custodian's share in their token and has them sign the destruction record; never a
 * share of an epoch the roster in force publishes live ({@link refuseIfPublished}). Crash points:
 * `destroy:after-intent`, `destroy:after-destroy`.
 */
export async function destroyAndSign(
  env: CeremonyEnv,
  custodian: string,
  domain: string,
  epoch: number,
  faults: Faults = noFaults,
): Promise<{ record: DestructionRecord | null; statement: Statement }> {
  refuseIfPublished(env, domain, epoch);
  const token = await env.custodian(custodian);
  const held = (await token.listShares()).find((x) => x.domain === domain && x.epoch === epoch);
  // Idempotent after a crash: a share already gone is recorded as such, signed all the same.
  const facts = {
    op: 'share-destroy',
    token: token.label,
    custodian,
    domain,
    epoch,
    ...(held ? { objectId: held.id } : {}),
  };
  if (held) await hsmEntry(env, 'hsm-intent', facts);
  if (held) faults.at('destroy:after-intent');
  const record: DestructionRecord | null = held ? await token.destroyShare(domain, epoch) : null;
  if (held) faults.at('destroy:after-destroy');
  if (held) await hsmEntry(env, 'hsm-outcome', facts);
  const body = record
    ? { ...record }
    : {
        type: 'share-destruction',
        domain,
        epoch,
        token: token.label,
        alreadyAbsent: true,
        destroyedAt: env.now().toISOString(),
      };
  const statement = await custodianStatement(env, custodian, OTHER_STATEMENT.destruction, body as JsonValue);
  return { record, statement };
}

/** The station (administrator) records that an absent custodian's share is declared lost. */
export const declareLost = (
  env: CeremonyEnv,
  custodian: string,
  domain: string,
  epoch: number,
  reason: string,
) =>
  stationStatement(env, OTHER_STATEMENT.declaredLost, {
    custodian,
    domain,
    epoch,
    reason,
    declaredAt: env.now().toISOString(),
    declaredBy: env.administrator,
    witnessedBy: env.witness,
  });

/** Zeroises an identity's seed (best effort, docs/DECISIONS.md#d12). */
export function zeroise(memory: Map<string, unknown>, ...keys: string[]): string[] {
  const done: string[] = [];
  for (const k of keys) {
    const v = memory.get(k) as { seed?: Uint8Array } | Uint8Array | undefined;
    if (v instanceof Uint8Array) v.fill(0);
    else if (v?.seed instanceof Uint8Array) v.seed.fill(0);
    if (v !== undefined) done.push(k);
    memory.delete(k);
  }
  return done;
}

export const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
