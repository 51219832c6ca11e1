// The worked example of docs/ROSTER.md §6, rebuilt from its stated seeds (see roster_doc.test.ts).
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { xwingKeygen } from '../../src/crypto/xwing.ts';
import {
  buildGenesis,
  custodianEntry,
  epochEntry,
  type RosterDoc,
  type RosterSignature,
  rosterSigningPayload,
} from '../../src/roster/index.ts';

export const fill = (b: number, n = 32): Uint8Array => new Uint8Array(n).fill(b);
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

export const SCALARS: Record<string, Uint8Array> = { alice: fill(0x01), bob: fill(0x02) };

export function workedExample(): RosterDoc {
  const cust = (id: string, org: string, n: number) =>
    custodianEntry({
      id,
      name: id === 'alice' ? 'Alice Tamm' : 'Bob Kask',
      organisation: org,
      tokenLabel: `embassy-${id}`,
      identityKey: p256.getPublicKey(SCALARS[id]!, false),
      transportKey: p256.getPublicKey(fill(0x10 + n), false),
      xwingKey: xwingKeygen(fill(0x20 + n)).publicKey,
    });
  return buildGenesis({
    issuedAt: '2026-01-01T00:00:00Z',
    expires: '2027-01-01T00:00:00Z',
    root: { custodians: ['alice', 'bob'], threshold: 2 },
    custodians: [cust('alice', 'ria', 1), cust('bob', 'mkm', 2)],
    stations: [
      {
        id: 'station-lu',
        name: 'Embassy station',
        organisation: 'ria',
        signingKey: { alg: 'ed25519', publicKey: b64(ed25519.getPublicKey(fill(0x04))) },
      },
    ],
    jobs: [
      {
        id: 'backup-land',
        name: 'Land register backup',
        signingKey: { alg: 'ed25519', publicKey: b64(ed25519.getPublicKey(fill(0x06))) },
        domains: ['land'],
      },
    ],
    auditors: [],
    log: { origin: 'embassy.example/audit', key: b64(ed25519.getPublicKey(fill(0x03))) },
    legalBases: [{ code: 'EE-DR-5', description: 'Disaster recovery, section 5' }],
    domains: [
      {
        name: 'land',
        custodians: ['alice', 'bob'],
        threshold: 2,
        minOrganisations: 2,
        policy: { coolOffSeconds: 3600, maxDeadlineSeconds: 86400, veto: 'any', maxEpochAgeDays: 365 },
        homeStanza: false,
        epochs: [
          epochEntry({
            epoch: 1,
            keyCeremony: 'kc-land-1',
            quorumPublicKey: xwingKeygen(fill(0x05)).publicKey,
            threshold: 2,
            shares: [
              { custodian: 'alice', x: 1, commitment: fill(0xc1), salt: fill(0x51) },
              { custodian: 'bob', x: 2, commitment: fill(0xc2), salt: fill(0x52) },
            ],
            createdAt: '2026-01-01T00:00:00Z',
          }),
        ],
      },
    ],
  });
}

/** Deterministic (RFC 6979) ES256 signatures over the payloads, so the doc can print them. */
export function workedSignatures(doc: RosterDoc): RosterSignature[] {
  return ['alice', 'bob'].map((id) => ({
    signer: id,
    sig: b64(p256.sign(rosterSigningPayload(doc, id), SCALARS[id]!)),
  }));
}
