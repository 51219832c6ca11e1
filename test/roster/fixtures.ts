// Deterministic roster fixtures: real P-256 keys (node:crypto signers), X-Wing keys from fixed seeds.
import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { xwingKeygen } from '../../src/crypto/xwing.ts';
import {
  buildGenesis,
  custodianEntry,
  type Domain,
  epochEntry,
  type RosterDoc,
  RosterError,
  type RosterSignature,
  type SignedRoster,
  signRoster,
  softwareSigner,
} from '../../src/roster/index.ts';

export const ISSUED = '2026-01-01T00:00:00Z';
export const EXPIRES = '2027-01-01T00:00:00Z';
export const NOW = new Date('2026-06-01T00:00:00Z');

const h = (label: string): Uint8Array => new Uint8Array(createHash('sha256').update(label).digest());

export interface P256Pair {
  secretKey: Uint8Array;
  privateKey: KeyObject;
  publicKey: Uint8Array;
}

/** A P-256 key pair from a label (deterministic): the scalar is SHA-256(label), a valid scalar whp. */
export function p256Pair(label: string): P256Pair {
  const d = h(`p256:${label}`);
  const publicKey = p256.getPublicKey(d, false);
  const privateKey = createPrivateKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: Buffer.from(publicKey.subarray(1, 33)).toString('base64url'),
      y: Buffer.from(publicKey.subarray(33)).toString('base64url'),
      d: Buffer.from(d).toString('base64url'),
    },
    format: 'jwk',
  });
  return { secretKey: d, privateKey, publicKey };
}

export const ed25519Public = (label: string): Uint8Array => ed25519.getPublicKey(h(`ed25519:${label}`));
export const xwingPublic = (label: string): Uint8Array => xwingKeygen(h(`xwing:${label}`)).publicKey;

export const identities = new Map<string, P256Pair>();
/** The identity key pair of custodian `id` (cached). Use `rotated` for a second key of the same id. */
export function identity(id: string): P256Pair {
  let k = identities.get(id);
  if (k === undefined) {
    k = p256Pair(`identity:${id}`);
    identities.set(id, k);
  }
  return k;
}

export const ORGS = ['ria', 'mkm', 'rik'];

export function custodian(id: string, organisation: string, identityKey = identity(id).publicKey) {
  return custodianEntry({
    id,
    name: `Custodian ${id}`,
    organisation,
    tokenLabel: `embassy-${id}`,
    identityKey,
    transportKey: p256Pair(`transport:${id}`).publicKey,
    xwingKey: xwingPublic(`custodian:${id}`),
  });
}

export function landDomain(custodians: string[], threshold: number, epoch = 1, label = 'land'): Domain {
  return {
    name: 'land',
    custodians,
    threshold,
    minOrganisations: 1,
    policy: { coolOffSeconds: 3600, maxDeadlineSeconds: 86400, veto: 'any', maxEpochAgeDays: 365 },
    homeStanza: false,
    epochs: [
      epochEntry({
        epoch,
        keyCeremony: `kc-${label}-${epoch}`,
        quorumPublicKey: xwingPublic(`quorum:${label}:${epoch}`),
        threshold,
        shares: custodians.map((c, i) => ({
          custodian: c,
          x: i + 1,
          commitment: h(`commitment:${label}:${epoch}:${c}`),
          salt: h(`salt:${label}:${epoch}:${c}`),
        })),
        createdAt: ISSUED,
      }),
    ],
  };
}

/** A genesis with custodians a..e (3 organisations), root {a,b,c} 2-of-3, domain land 3-of-5. */
export function genesis(overrides: Partial<Parameters<typeof buildGenesis>[0]> = {}): RosterDoc {
  const ids = ['alice', 'bob', 'carol', 'dave', 'erin'];
  return buildGenesis({
    issuedAt: ISSUED,
    expires: EXPIRES,
    root: { custodians: ['alice', 'bob', 'carol'], threshold: 2 },
    custodians: ids.map((id, i) => custodian(id, ORGS[i % 3]!)),
    stations: [
      {
        id: 'station-ee',
        name: 'Home station',
        organisation: 'ria',
        signingKey: { alg: 'ed25519', publicKey: b64(ed25519Public('station-ee')) },
      },
      {
        id: 'station-lu',
        name: 'Embassy station',
        organisation: 'ria',
        signingKey: { alg: 'ecdsa-p256', publicKey: b64(p256Pair('station-lu').publicKey) },
      },
    ],
    jobs: [
      {
        id: 'backup-land',
        name: 'Land backup',
        signingKey: { alg: 'ed25519', publicKey: b64(ed25519Public('backup-land')) },
        domains: ['land'],
      },
    ],
    auditors: [
      {
        id: 'nao',
        name: 'National Audit Office',
        signingKey: { alg: 'ed25519', publicKey: b64(ed25519Public('nao')) },
      },
    ],
    log: { origin: 'embassy.example/audit', key: b64(ed25519Public('log')) },
    legalBases: [{ code: 'EE-DR-5', description: 'Disaster recovery, section 5' }],
    domains: [landDomain(ids, 3)],
    ...overrides,
  });
}

export const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/** Signatures of `doc` by `signers`, with their current identity keys (or the given private keys). */
export async function sigs(
  doc: RosterDoc,
  signers: string[],
  keys: Record<string, KeyObject> = {},
): Promise<RosterSignature[]> {
  return Promise.all(
    signers.map((id) => signRoster(doc, id, softwareSigner(keys[id] ?? identity(id).privateKey))),
  );
}

export async function signed(doc: RosterDoc, signers: string[]): Promise<SignedRoster> {
  return { roster: doc, signatures: await sigs(doc, signers) };
}

/** The RosterError code `f` throws, 'ok' if none; rethrows anything else. */
export function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof RosterError) return e.code;
    throw e;
  }
  return 'ok';
}

/** The RosterError `f` throws (fails the test if none or another error). */
export function errorOf(f: () => unknown): RosterError {
  try {
    f();
  } catch (e) {
    if (e instanceof RosterError) return e;
    throw e;
  }
  throw new Error('expected a RosterError');
}

/** A mutable deep copy. */
export const clone = <T>(v: T): T => structuredClone(v) as T;
